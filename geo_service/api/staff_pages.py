"""The staff web area at ``/staff``: log in, the unit's queue with a small map, a report with
its photos, timeline and the form that moves it on.

Server-rendered pages over the same functions as the staff API (geo_service.queue, .staff,
.workflow): the unit scoping is in their SQL, so a page can show nothing the API would not.
The login is the API's session, carried in the cookie ``gs_session`` (HttpOnly, SameSite=Lax)
with its CSRF value in ``gs_csrf`` for the page's script to echo on writes.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Coroutine
from typing import Annotated, Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, Form, Path, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.routing import APIRoute
from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncConnection

from geo_service import auth, errors, queue, staff
from geo_service.api import deps
from geo_service.api import errors as api_errors
from geo_service.api.auth import client_ip
from geo_service.api.catalogue import CATEGORIES_SQL
from geo_service.auth import User
from geo_service.config import Settings
from geo_service.errors import DomainError, Forbidden, Invalid, NotFound, TooMany, field_message
from geo_service.i18n import N_, Message, render
from geo_service.profile import Profile
from geo_service.report_query import (
    CLOSED_STATUSES,
    OPEN_STATUSES,
    PRIORITIES,
    Period,
    ReportFilter,
    Scope,
    Status,
)
from geo_service.report_query import filter as rf
from geo_service.templating import page_lang, templates


def error_page(request: Request, exc: DomainError) -> HTMLResponse:
    """A refusal as a page in the page's language: what failed (heading) and why (detail)."""
    heading: Message
    if isinstance(exc, NotFound):
        heading = (
            N_("There is no such unit, or you may not see its queue.")
            if exc.field == "unit"
            else N_("There is no such report in your unit.")
        )
    elif request.method == "GET":
        heading = N_("These filters cannot be used")
    else:
        heading = N_("The change was not saved")
    context = {"message": heading, "detail": render(exc.message, page_lang(request))}
    response = _page(request, "staff/error.html", context, api_errors.status_of(exc))
    response.headers.update(api_errors.headers_of(exc) or {})
    return response


class StaffPageRoute(APIRoute):
    """Renders every refusal raised while making a staff page as the error page."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def route(request: Request) -> Response:
            try:
                return await handler(request)
            except DomainError as exc:
                return error_page(request, exc)

        return route


router = APIRouter(prefix="/staff", include_in_schema=False, route_class=StaffPageRoute)
LOGIN_REFUSALS: dict[type[DomainError], Message] = {
    Forbidden: N_("This account is disabled. Please ask an administrator."),
    TooMany: N_("Too many wrong passwords. Try again in {s} seconds."),
}

PAGE_SIZE = 50
# The queue's tabs: what each shows, in the order they appear.
TABS: dict[str, tuple[Status, ...]] = {
    "open": OPEN_STATUSES,
    **{s: (s,) for s in OPEN_STATUSES},
    "closed": CLOSED_STATUSES,
}


def _safe_next(target: str | None) -> str:
    """Only a page of this site behind the login (the staff area, the planners' maps): never
    an open redirect elsewhere."""
    if (
        not target
        or not target.startswith(("/staff", "/maps/"))
        or target.startswith("//")
        or "\\" in target
        or target.startswith("/staff/login")
    ):
        return "/staff"
    return target


def _formatter(timezone: str) -> Callable[[str | None], str]:
    """Timestamps as officials read them: day/month/year hour:minute, city time."""
    tz = ZoneInfo(timezone)

    def when(value: str | None) -> str:
        if not value:
            return ""
        return dt.datetime.fromisoformat(value).astimezone(tz).strftime("%d/%m/%Y %H:%M")

    return when


def _page(
    request: Request, name: str, context: dict[str, Any], status_code: int = 200
) -> HTMLResponse:
    session = getattr(request.state, "session", None)
    profile: Profile = request.app.state.profile
    response = templates.TemplateResponse(
        request,
        name,
        {
            "user": session.user if session else None,
            "csrf": session.csrf if session else "",
            "when": _formatter(profile.city.timezone),
            **context,
        },
        status_code=status_code,
    )
    response.headers["Cache-Control"] = "no-store"  # staff pages hold contact details
    return response


def _set_session_cookies(response: Response, login: auth.Login, settings: Settings) -> None:
    common: dict[str, Any] = {
        "expires": login.expires_at.astimezone(dt.UTC),
        "path": "/",
        "samesite": "lax",
        "secure": settings.secure_cookies,
    }
    response.set_cookie(deps.SESSION_COOKIE, login.token, httponly=True, **common)
    # Readable by the page's script, which echoes it in X-CSRF-Token: another site can
    # neither read it nor make a browser send it as a header.
    response.set_cookie(deps.CSRF_COOKIE, login.csrf, httponly=False, **common)


@router.get("/login", response_class=HTMLResponse)
async def login_page(
    request: Request,
    next_path: str | None = Query(None, alias="next", max_length=2000),
    conn: AsyncConnection = Depends(deps.read_connection),
) -> Response:
    try:
        session = await deps.current_session(request, conn, None)
    except DomainError:  # an expired or broken cookie: just log in again
        session = None
    if session is not None:
        return RedirectResponse(_safe_next(next_path), status_code=303)
    return _page(request, "staff/login.html", {"next": _safe_next(next_path), "error": None})


@router.post("/login", response_class=HTMLResponse)
async def login_submit(
    request: Request,
    username: str = Form("", max_length=200),
    password: str = Form("", max_length=1024),
    next_path: str = Form("/staff", alias="next", max_length=2000),
    conn: AsyncConnection = Depends(deps.read_connection),
    settings: Settings = Depends(deps.settings),
) -> Response:
    """Check the password; on success set the session cookies and go where the official was
    heading. A refusal re-renders the form with the reason, and the status the API gives."""
    error: tuple[Message, int, dict[str, str]] | None = None
    if not username.strip() or not password:
        error = (N_("Please enter your username and password."), 422, {})
    else:
        try:
            login = await auth.login(
                conn, username, password, ip=client_ip(request), settings=settings
            )
        except DomainError as exc:
            refusal = LOGIN_REFUSALS.get(type(exc), N_("Wrong username or password."))
            headers = api_errors.headers_of(exc) or {}
            message = Message(refusal.msgid, {"s": headers.get("Retry-After", "")})
            error = (message, api_errors.status_of(exc), headers)
    if error is not None:
        message, status, headers = error
        response = _page(
            request,
            "staff/login.html",
            {"next": _safe_next(next_path), "error": message, "username": username},
            status_code=status,
        )
        response.headers.update(headers)
        return response
    redirect = RedirectResponse(_safe_next(next_path), status_code=303)
    _set_session_cookies(redirect, login, settings)
    return redirect


@router.post("/logout")
async def logout(
    request: Request,
    user: User = Depends(deps.page_user),
    conn: AsyncConnection = Depends(deps.read_connection),
) -> Response:
    await auth.end_session(conn, request.state.session.id)
    response = RedirectResponse("/staff/login", status_code=303)
    response.delete_cookie(deps.SESSION_COOKIE, path="/")
    response.delete_cookie(deps.CSRF_COOKIE, path="/")
    return response


def _forbidden(request: Request) -> HTMLResponse:
    message = N_("This page is for the units' staff only.")
    return _page(request, "staff/error.html", {"message": message}, status_code=403)


def _map_config(settings: Settings, profile: Profile, request: Request) -> dict[str, Any]:
    """What staff.js needs: the page's language and the city's map settings (its texts come
    with the script, see templating.scripts_html)."""
    return {
        "lang": page_lang(request),
        "center": list(profile.city.center),
        "zoom": profile.city.default_zoom,
        "tiles": {
            "url": settings.tile_url,
            "attribution": settings.tile_attribution,
            "max_zoom": settings.tile_max_zoom,
        },
    }


def _page_date(value: str | None, name: str) -> dt.date | None:
    """A date field of the filter form; one left empty is sent as "from=": no limit."""
    if not value:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise Invalid(field_message(name, N_("a date as YYYY-MM-DD")), name) from None


async def _queue_unit(
    conn: AsyncConnection, user: User, unit: str | None
) -> tuple[Scope, dict[str, Any] | None]:
    """Whose queue: an official's own unit; a planner's or admin's pick (or every unit)."""
    scope = staff.scope_of(user)
    if unit:
        row = await queue.unit_for(conn, unit, scope)  # 404 for another unit
        return Scope(row["id"]), row
    if scope.unit_id is not None:
        return scope, await queue.unit_for_id(conn, scope.unit_id)
    return scope, None


def _queue_map_config(
    settings: Settings, profile: Profile, request: Request, items: list[dict[str, Any]]
) -> dict[str, Any]:
    return {**_map_config(settings, profile, request), "reports": [_map_point(i) for i in items]}


def _map_point(item: dict[str, Any]) -> dict[str, Any]:
    keys = ("id", "lat", "lon", "status", "overdue")
    return {**{k: item[k] for k in keys}, "category": item["category_name"]}


@router.get("", response_class=HTMLResponse)
async def queue_page(
    request: Request,
    tab: str = Query("open", max_length=20),
    overdue: bool | None = Query(None),
    q: str | None = Query(None, max_length=200),
    category: str | None = Query(None, max_length=64),
    priority: str | None = Query(None, max_length=20),
    from_day: str | None = Query(None, alias="from", max_length=10),
    to_day: str | None = Query(None, alias="to", max_length=10),
    mine: bool = Query(False),
    unit: str | None = Query(None, max_length=64),
    page: int = Query(1, ge=1, le=100_000),
    user: User = Depends(deps.page_user),
    conn: AsyncConnection = Depends(deps.read_connection),
    settings: Settings = Depends(deps.settings),
    profile: Profile = Depends(deps.profile),
) -> Response:
    """The unit's queue, most urgent deadline first, the same query as GET /api/v1/queue."""
    if user.role not in staff.STAFF_ROLES:
        return _forbidden(request)
    tab = tab if tab in TABS else "open"
    scope, unit_row = await _queue_unit(conn, user, unit)
    date_from, date_to = _page_date(from_day, "from"), _page_date(to_day, "to")
    f = ReportFilter(
        scope=scope,
        statuses=TABS[tab],
        categories=(category,) if category else (),
        priorities=rf.priorities([priority] if priority else None),
        overdue=overdue,
        period=Period.days(date_from, date_to, profile.city.timezone),
        text=q.strip() if q and q.strip() else None,
        assignee=user.id if mine else None,
    )
    filters = {
        "q": q or "",
        "category": category or "",
        "priority": priority or "",
        "from": date_from.isoformat() if date_from else "",
        "to": date_to.isoformat() if date_to else "",
        "overdue": "true" if overdue else "",
        "mine": "true" if mine else "",
    }
    result = await queue.queue_page(conn, f, page=page, page_size=PAGE_SIZE)
    items = json.loads(result["items_json"])
    carried = {k: v for k, v in filters.items() if v}
    if unit_row and user.sees_all:
        carried["unit"] = unit_row["code"]
    context = {
        "filters": filters,
        "filter_query": urlencode(carried),  # what tabs and pages carry: all but tab and page
        "groups": json.loads((await conn.execute(CATEGORIES_SQL)).scalar_one()),
        "priorities": PRIORITIES,
        "filtered": any(v for k, v in filters.items() if k != "q"),
        "unit": unit_row,
        "tab": tab,
        "tabs": list(TABS),
        "tab_counts": {
            name: sum(result["counts"].get(s, 0) for s in statuses)
            for name, statuses in TABS.items()
        },
        "result": result,
        "items": items,
        "config": _queue_map_config(settings, profile, request, items),
    }
    return _page(request, "staff/queue.html", context)


@router.get("/reports/{report_id}", response_class=HTMLResponse)
async def report_page(
    request: Request,
    report_id: Annotated[int, Path(ge=1, le=2**63 - 1)],
    user: User = Depends(deps.page_user),
    conn: AsyncConnection = Depends(deps.read_connection),
    settings: Settings = Depends(deps.settings),
    profile: Profile = Depends(deps.profile),
) -> Response:
    """One report in full: photos, timeline, and the transition form for those who may."""
    if user.role not in staff.STAFF_ROLES:
        return _forbidden(request)
    report = await staff.report_detail(conn, report_id, staff.scope_of(user), page_lang(request))
    can_write = user.role in staff.WRITE_ROLES
    can_manage = user.role in staff.MANAGER_ROLES
    officials = await staff.unit_officials(conn, report["unit"]["id"]) if can_manage else []
    return _page(
        request,
        "staff/report.html",
        {
            "report": report,
            "can_write": can_write,
            "can_manage": can_manage,
            "officials": officials,
            "priorities": PRIORITIES,
            "config": {
                **_queue_map_config(settings, profile, request, [report]),
                "templates": report["templates"],
            },
        },
    )


@router.post("/reports/{report_id}/assign", response_class=HTMLResponse)
async def assign(
    request: Request,
    report_id: Annotated[int, Path(ge=1, le=2**63 - 1)],
    version: int = Form(ge=1, le=2**31 - 1),
    priority: str = Form(max_length=20),
    assignee: str = Form("", max_length=12),
    user: User = Depends(deps.page_user),
    conn: AsyncConnection = Depends(deps.write_connection),
) -> Response:
    """A manager's plain form (no script needed): who handles the report and how urgent it
    is, with the same version check and event as PATCH /api/v1/staff/reports/{id}."""
    if user.role not in staff.MANAGER_ROLES:
        message = N_("Only the unit's managers assign reports.")
        return _page(request, "staff/error.html", {"message": message}, 403)

    if assignee.strip() and not assignee.strip().isdigit():
        message = N_("a user id of the unit, or empty")
        raise Invalid(field_message("assignee", message), "assignee")
    try:
        patch = staff.ReportPatch.model_validate(
            {
                "version": version,
                "priority": priority,
                "assignee": int(assignee) if assignee.strip() else None,
            }
        )
    except ValidationError as exc:
        raise errors.invalid(list(exc.errors())) from None
    await staff.patch_report(conn, report_id, patch, user)
    return RedirectResponse(f"/staff/reports/{report_id}", status_code=303)
