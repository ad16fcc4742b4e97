"""The pages people reach from a form or a mail: asking for area alerts (a plain form on
/map and on a report's page, no script), confirming them, and the page an unsubscribe link
opens, which lists everything the address follows, each with its own stop button."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Request
from fastapi.responses import HTMLResponse
from pydantic import ValidationError
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from geo_service.api import deps
from geo_service.config import Settings
from geo_service.errors import DomainError, Invalid, NotFound, field_message
from geo_service.i18n import N_, Message
from geo_service.notify import links, manage
from geo_service.profile import Profile
from geo_service.templating import templates

router = APIRouter(include_in_schema=False)
Sig = Annotated[str, Path(min_length=16, max_length=64, pattern=r"^[0-9a-f]+$")]
AddressId = Annotated[int, Path(ge=1, le=2**63 - 1)]
WRITE = Depends(deps.write_connection, scope="function")
PRIVATE = {"Referrer-Policy": "no-referrer", "Cache-Control": "no-store"}

WARDS_SQL = text(
    "SELECT a.code, a.name FROM areas a JOIN boundary_sets b ON b.id = a.set_id"
    " WHERE b.active AND b.level = 'ward' ORDER BY a.name"
)


async def ward_choices(conn: AsyncConnection) -> list[dict[str, str]]:
    """The wards an alert may name, for the form on /map."""
    return [{"code": r.code, "name": r.name} for r in await conn.execute(WARDS_SQL)]


def _page(request: Request, profile: Profile, status: int = 200, **values: Any) -> HTMLResponse:
    context = {"city": profile.city, "notice": None, "error": None, "followed": None, **values}
    return templates.TemplateResponse(
        request, "notifications.html", context, status_code=status, headers=PRIVATE
    )


@router.post("/alerts", response_class=HTMLResponse)
async def ask_for_alerts(
    request: Request,
    conn: AsyncConnection = WRITE,
    profile: Profile = Depends(deps.profile),
    lang: str = Depends(deps.lang),
) -> HTMLResponse:
    """The alert form's target: the confirmation mail is on its way, or what was wrong."""
    form = {k: v for k, v in (await request.form()).items() if isinstance(v, str) and v != ""}
    try:
        alert = manage.AlertIn.model_validate(form)
        await manage.subscribe_alert(conn, alert, lang)
    except ValidationError as exc:
        first = exc.errors()[0]
        field = str(first["loc"][0]) if first["loc"] else "email"
        error: Message = field_message(field, N_("is not valid"))
        return _page(request, profile, 422, error=error)
    except Invalid as exc:
        return _page(request, profile, 422, error=exc.message)
    notice = N_(
        "We sent a confirmation link to {email}. Nothing is sent until you follow it.",
        email=str(alert.email),
    )
    return _page(request, profile, notice=notice)


@router.get("/alerts/confirm/{token}", response_class=HTMLResponse)
async def confirm_alerts(
    request: Request,
    token: Annotated[str, Path(max_length=64)],
    conn: AsyncConnection = WRITE,
    settings: Settings = Depends(deps.settings),
    profile: Profile = Depends(deps.profile),
) -> HTMLResponse:
    try:
        address = await manage.confirm_alert(conn, token, settings.alert_confirm_days)
    except NotFound as exc:
        return _page(request, profile, 404, error=exc.message)
    key = await links.signing_key(conn)
    return await _followed(request, conn, profile, key, address, N_("Your alert is on."))


async def _followed(
    request: Request,
    conn: AsyncConnection,
    profile: Profile,
    key: bytes,
    address: int,
    notice: Message | None = None,
) -> HTMLResponse:
    followed = await manage.followed(conn, address)
    return _page(
        request,
        profile,
        notice=notice,
        followed=followed,
        manage_path=links.manage_path(key, address),
    )


async def _checked(conn: AsyncConnection, address: int, sig: str) -> bytes:
    key = await links.signing_key(conn)
    if not links.valid(key, "address", address, sig):
        raise NotFound(N_("this link is unknown"), "address")
    return key


@router.get("/notifications/{address}/{sig}", response_class=HTMLResponse)
async def followed_page(
    request: Request,
    address: AddressId,
    sig: Sig,
    conn: AsyncConnection = Depends(deps.read_connection),
    profile: Profile = Depends(deps.profile),
) -> HTMLResponse:
    """Everything this address follows (the link in every mail it gets)."""
    try:
        key = await _checked(conn, address, sig)
        return await _followed(request, conn, profile, key, address)
    except NotFound as exc:
        return _page(request, profile, 404, error=exc.message)


@router.api_route("/notifications/{address}/{sig}/stop/{which}", methods=["GET", "POST"],
                  response_class=HTMLResponse)  # fmt: skip
async def stop_page(
    request: Request,
    address: AddressId,
    sig: Sig,
    which: Annotated[str, Path(pattern=r"^(all|[0-9]{1,18})$")],
    conn: AsyncConnection = WRITE,
    profile: Profile = Depends(deps.profile),
) -> HTMLResponse:
    """One click: stop one subscription (or ``all``), then list what is left. POST too, as
    RFC 8058's List-Unsubscribe-Post asks of mail programs."""
    try:
        key = await _checked(conn, address, sig)
        ended = await manage.stop(conn, address, None if which == "all" else int(which))
    except DomainError as exc:
        return _page(request, profile, 404, error=exc.message)
    notice = N_("Stopped: you will not get these mails any more.") if ended else None
    return await _followed(request, conn, profile, key, address, notice)


@router.api_route("/notifications/unit/{contact}/{sig}/stop", methods=["GET", "POST"],
                  response_class=HTMLResponse)  # fmt: skip
async def stop_unit_page(
    request: Request,
    contact: Annotated[int, Path(ge=1, le=2**31 - 1)],
    sig: Sig,
    conn: AsyncConnection = WRITE,
    profile: Profile = Depends(deps.profile),
) -> HTMLResponse:
    """One click: a unit's address stops getting the unit's mail (an admin or the official
    can turn it on again)."""
    key = await links.signing_key(conn)
    if not links.valid(key, "unit", contact, sig):
        return _page(request, profile, 404, error=N_("this link is unknown"))
    email = await manage.stop_unit_copy(conn, contact)
    return _page(
        request, profile, notice=N_("{email} will no longer get this unit's mail.", email=email)
    )
