"""Open311 GeoReport v2 under /open311/v2/: discovery, services, service definitions,
requests (GET and POST) and tokens, each as ``.xml`` or ``.json``.

Every refusal, including a parameter FastAPI itself rejects and a path that does not exist
under /open311/v2/, is answered in the spec's errors array in the format the path asked for.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncGenerator, Callable, Coroutine
from typing import Annotated, Any
from urllib.parse import parse_qsl
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.formparsers import MultiPartException, MultiPartParser

from geo_service import errors
from geo_service.api import deps
from geo_service.api import errors as api_errors
from geo_service.api.errors import request_lang
from geo_service.config import Settings
from geo_service.errors import DomainError, Forbidden, Invalid, NotFound, field_message
from geo_service.i18n import N_
from geo_service.i18n import render as render_text
from geo_service.open311 import keys, requests, services
from geo_service.open311.formats import (
    FORMATS,
    MEDIA_TYPES,
    Format,
    errors_document,
    render,
    w3c_datetime,
)
from geo_service.profile import Profile

PREFIX = "/open311/v2"


def _format_of(request: Request) -> Format:
    fmt = request.path_params.get("fmt") or request.url.path.rsplit(".", 1)[-1]
    return "json" if fmt == "json" else "xml"


# The spec knows 400, 403 and 404 (and any server error); the others we answer keep their
# own status, so a client can back off (429, 503).
OPEN311_STATUS: dict[type[DomainError], int] = {
    errors.NotFound: 404,
    errors.Forbidden: 403,
    errors.Unauthenticated: 403,
    errors.TooMany: 429,
    errors.Unavailable: 503,
}


def domain_error_response(request: Request, exc: DomainError) -> Response:
    """A domain error in the spec's errors array, in the caller's language."""
    status = next((s for kind, s in OPEN311_STATUS.items() if isinstance(exc, kind)), 400)
    response = error_response(request, status, render_text(exc.message, request_lang(request)))
    response.headers.update(api_errors.headers_of(exc) or {})
    return response


def error_response(request: Request, status: int, description: str) -> Response:
    fmt = _format_of(request)
    return Response(errors_document(fmt, status, description), status, media_type=MEDIA_TYPES[fmt])


class Open311Route(APIRoute):
    """Turns every refusal raised while handling an Open311 request into the errors array."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def route(request: Request) -> Response:
            try:
                return await handler(request)
            except RequestValidationError as exc:
                return domain_error_response(request, errors.invalid(list(exc.errors())))
            except DomainError as exc:
                return domain_error_response(request, exc)
            except StarletteHTTPException as exc:
                status = exc.status_code if exc.status_code in (403, 404) else 400
                message = api_errors.HTTP_KINDS.get(status, api_errors.HTTP_KINDS[400])[1]
                return error_response(request, status, message.render(request_lang(request)))

        return route


ERRORS = "The spec's errors array (`<errors><error>` in XML, `[{code, description}]` in JSON)."
router = APIRouter(
    prefix=PREFIX,
    tags=["open311"],
    route_class=Open311Route,
    default_response_class=Response,
    responses={
        200: {"content": {"text/xml": {}, "application/json": {}}},
        400: {"description": ERRORS},
        404: {"description": ERRORS},
    },
)

Jurisdiction = Annotated[
    str | None, Query(description="Optional; when given it must be our jurisdiction_id.")
]


def _blank(value: str | None) -> str | None:
    """The spec's clients send empty arguments for absent ones."""
    return value if value else None


def check_format(fmt: str) -> Format:
    if fmt not in FORMATS:
        raise NotFound(N_("format {fmt!r} is not offered: use .xml or .json", fmt=fmt), "format")
    return fmt


def jurisdiction_of(settings: Settings, profile: Profile) -> str:
    return settings.open311_jurisdiction_id or profile.city.jurisdiction_id


def check_jurisdiction(value: str | None, settings: Settings, profile: Profile) -> None:
    ours = jurisdiction_of(settings, profile)
    if _blank(value) is not None and value != ours:
        message = N_("{value!r} not found: this server is {ours!r}", value=value, ours=ours)
        raise NotFound(field_message("jurisdiction_id", message), "jurisdiction_id")


def document(fmt: Format, root: str, body: Any, status: int = 200) -> Response:
    return Response(render(fmt, root, body), status, media_type=MEDIA_TYPES[fmt])


def base_url(request: Request) -> str:
    return str(request.base_url).rstrip("/") + PREFIX


@router.get("/discovery.{fmt}", summary="Service discovery")
async def discovery(
    request: Request,
    fmt: str,
    settings: Settings = Depends(deps.settings),
    profile: Profile = Depends(deps.profile),
) -> Response:
    """Where the endpoint is, which formats it speaks, whom to ask and how to get a key."""
    fmt = check_format(fmt)
    changed = w3c_datetime(services.changeset(settings.city_profile), ZoneInfo("UTC"))
    body = {
        "changeset": changed,
        "contact": settings.open311_contact,
        "key_service": settings.open311_key_service,
        "endpoints": [
            {
                "specification": services.SPECIFICATION_URL,
                "url": base_url(request),
                "changeset": changed,
                "type": "production",
                "formats": ["text/xml", "application/json"],
            }
        ],
    }
    return document(fmt, "discovery", body)


@router.get("/services.{fmt}", summary="GET Service List")
async def service_list(
    fmt: str,
    jurisdiction_id: Jurisdiction = None,
    settings: Settings = Depends(deps.settings),
    profile: Profile = Depends(deps.profile),
    conn: AsyncConnection = Depends(deps.read_connection),
) -> Response:
    """Our categories as service types; ``metadata`` is true where a category asks extra
    questions (see the service definition)."""
    fmt = check_format(fmt)
    check_jurisdiction(jurisdiction_id, settings, profile)
    return document(fmt, "services", await services.list_services(conn, profile))


@router.get("/services/{service_code}.{fmt}", summary="GET Service Definition")
async def service_definition(
    service_code: str,
    fmt: str,
    jurisdiction_id: Jurisdiction = None,
    settings: Settings = Depends(deps.settings),
    profile: Profile = Depends(deps.profile),
    conn: AsyncConnection = Depends(deps.read_connection),
) -> Response:
    """The extra questions of one service: the attributes a POST may or must answer."""
    fmt = check_format(fmt)
    check_jurisdiction(jurisdiction_id, settings, profile)
    if not await services.service_exists(conn, service_code):
        message = N_("{code!r} not found", code=service_code)
        raise NotFound(field_message("service_code", message), "service_code")
    attributes = services.attributes_of(profile).get(service_code, [])
    return document(fmt, "service_definition", services.definition(service_code, attributes))


def _arguments(request: Request) -> dict[str, str]:
    """Query arguments with the empty ones dropped: an empty argument means absent."""
    return {k: v for k, v in request.query_params.items() if v != ""}


def _requests_body(
    request: Request, rows: list[Any], profile: Profile, notes: dict[int, list[Any]] | None
) -> list[dict[str, Any]]:
    media_base = str(request.base_url).rstrip("/") + "/media/photos"
    tz, lang = ZoneInfo(profile.city.timezone), request_lang(request)
    return [
        requests.request_document(
            row,
            city=profile.city.name,
            media_base=media_base,
            notes=notes[row.id] if notes is not None else None,
            tz=tz,
            lang=lang,
        )
        for row in rows
    ]


@router.get("/requests.{fmt}", summary="GET Service Requests")
async def request_list(
    request: Request,
    fmt: str,
    jurisdiction_id: Jurisdiction = None,
    service_request_id: Annotated[
        str | None, Query(description="Comma-separated ids; overrides every other filter.")
    ] = None,
    service_code: Annotated[str | None, Query(description="Comma-separated codes.")] = None,
    start_date: Annotated[str | None, Query(description="W3C date-time.")] = None,
    end_date: Annotated[
        str | None, Query(description="W3C date-time; at most 90 days after start_date.")
    ] = None,
    status: Annotated[str | None, Query(description="open, closed or both.")] = None,
    page: Annotated[str | None, Query(description="Extension: page number from 1.")] = None,
    page_size: Annotated[str | None, Query(description="Extension: up to 1000.")] = None,
    extensions: Annotated[
        str | None, Query(description="Extension: true adds the ward and the public notes.")
    ] = None,
    lat: Annotated[str | None, Query(description="Extension: with long and radius.")] = None,
    long: Annotated[str | None, Query(description="Extension: with lat and radius.")] = None,
    radius: Annotated[str | None, Query(description="Extension: metres, default 500.")] = None,
    bbox: Annotated[
        str | None, Query(description="Extension: min_long,min_lat,max_long,max_lat.")
    ] = None,
    settings: Settings = Depends(deps.settings),
    profile: Profile = Depends(deps.profile),
    conn: AsyncConnection = Depends(deps.read_connection),
) -> Response:
    """Requests newest first: by default those of the last 90 days, at most 1000."""
    fmt = check_format(fmt)
    check_jurisdiction(jurisdiction_id, settings, profile)
    q = requests.parse_query(
        _arguments(request),
        tz=ZoneInfo(profile.city.timezone),
        max_requests=settings.open311_max_requests,
        max_days=settings.open311_max_days,
        now=dt.datetime.now(dt.UTC),
    )
    tz = profile.city.timezone
    rows = await requests.find_requests(conn, q, tz)
    notes = await requests.notes_of(conn, [r.id for r in rows], tz) if q.extensions else None
    return document(fmt, "service_requests", _requests_body(request, rows, profile, notes))


@router.get("/requests/{service_request_id}.{fmt}", summary="GET Service Request")
async def request_one(
    request: Request,
    service_request_id: str,
    fmt: str,
    jurisdiction_id: Jurisdiction = None,
    extensions: Annotated[
        str | None, Query(description="Extension: true adds the ward and the public notes.")
    ] = None,
    settings: Settings = Depends(deps.settings),
    profile: Profile = Depends(deps.profile),
    conn: AsyncConnection = Depends(deps.read_connection),
) -> Response:
    """One request, in the same list shape as GET requests."""
    fmt = check_format(fmt)
    check_jurisdiction(jurisdiction_id, settings, profile)
    if not service_request_id.isdigit() or not 1 <= int(service_request_id) < 2**63:
        message = N_("{value!r} not found", value=service_request_id)
        raise NotFound(field_message("service_request_id", message), "service_request_id")
    row = await requests.find_request(conn, int(service_request_id), profile.city.timezone)
    if extensions not in (None, "", "true", "false"):
        raise requests.bad(N_("must be true or false"), "extensions")
    notes = (
        await requests.notes_of(conn, [row.id], profile.city.timezone)
        if extensions == "true"
        else None
    )
    return document(fmt, "service_requests", _requests_body(request, [row], profile, notes))


@router.get("/tokens/{token}.{fmt}", summary="GET request_id from a token")
async def token(
    token: str,
    fmt: str,
    jurisdiction_id: Jurisdiction = None,
    settings: Settings = Depends(deps.settings),
    profile: Profile = Depends(deps.profile),
    conn: AsyncConnection = Depends(deps.read_connection),
) -> Response:
    """The request id behind a token (our tracking token)."""
    fmt = check_format(fmt)
    check_jurisdiction(jurisdiction_id, settings, profile)
    request_id = await requests.find_token(conn, token)
    body = [{"service_request_id": request_id, "token": token}]
    return document(fmt, "service_requests", body)


MAX_BODY = 256 * 1024
MAX_FIELDS = 200


async def read_form(request: Request) -> list[tuple[str, str]]:
    """The form's fields in order, read with a size cap (a form is a few kilobytes: a larger
    body is refused before it fills memory) and decoded as UTF-8, which the spec requires."""
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type not in ("application/x-www-form-urlencoded", "multipart/form-data"):
        message = N_("send the request form-encoded (application/x-www-form-urlencoded)")
        raise requests.bad(message, "content-type")
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_BODY:
            raise Invalid(N_("the request body is larger than {n} KB", n=MAX_BODY // 1024))
    if content_type == "multipart/form-data":

        async def once() -> AsyncGenerator[bytes, None]:
            yield bytes(body)

        parser = MultiPartParser(request.headers, once(), max_files=0, max_fields=MAX_FIELDS)
        try:
            form = await parser.parse()
        except MultiPartException as exc:
            raise Invalid(N_("the form cannot be read: {reason}", reason=exc.message)) from None
        return [(k, v) for k, v in form.multi_items() if isinstance(v, str)]
    try:
        return parse_qsl(
            body.decode("utf-8"),
            keep_blank_values=True,
            encoding="utf-8",
            errors="strict",
            max_num_fields=MAX_FIELDS,
        )
    except UnicodeDecodeError:
        raise Invalid(N_("the form is not UTF-8")) from None
    except ValueError:
        raise Invalid(N_("the form has more than {n} fields", n=MAX_FIELDS)) from None


@router.post(
    "/requests.{fmt}",
    summary="POST Service Request",
    responses={403: {"description": "api_key missing, unknown or revoked. " + ERRORS}},
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "application/x-www-form-urlencoded": {
                    "schema": {
                        "type": "object",
                        "required": ["api_key", "service_code"],
                        "properties": {
                            name: {"type": "string"}
                            for name in (
                                "api_key", "jurisdiction_id", "service_code", "lat", "long",
                                "address_string", "address_id", "email", "device_id",
                                "account_id", "first_name", "last_name", "phone",
                                "description", "media_url",
                            )
                        },
                        "additionalProperties": {
                            "type": "string",
                            "description": "attribute[CODE] and attribute[CODE][] answers",
                        },
                    }
                }
            },
        }
    },
)  # fmt: skip
async def request_create(
    request: Request,
    fmt: str,
    settings: Settings = Depends(deps.settings),
    profile: Profile = Depends(deps.profile),
    engine: AsyncEngine = Depends(deps.autocommit_engine),
) -> Response:
    """Create a request from a form-encoded body with an ``api_key``: stored and routed like a
    report from our own API. Answers ``service_request_id``, ``service_notice``,
    ``account_id``."""
    fmt = check_format(fmt)
    pairs = await read_form(request)
    fields = dict(pairs)
    async with engine.connect() as conn:
        key_id = await keys.check_key(conn, fields.get("api_key"))
        if key_id is None:
            raise Forbidden(N_("api_key is missing, unknown or revoked"), "api_key")
        check_jurisdiction(fields.get("jurisdiction_id"), settings, profile)
        created = await requests.create_request(
            conn,
            pairs,
            profile=profile,
            key_id=key_id,
            snap_m=settings.snap_distance_m,
            description_max=settings.description_max_chars,
            lang=request_lang(request),
        )
    body = [
        {
            "service_request_id": created.id,
            "service_notice": created.notice,
            "account_id": created.account_id,
        }
    ]
    return document(fmt, "service_requests", body)


# Keep last: anything else under /open311/v2/ is a 404 in the spec's errors array.
@router.api_route("/{path:path}", methods=["GET", "POST"], include_in_schema=False)
async def not_found(path: str) -> Response:
    message = N_("/open311/v2/{path} is not an Open311 GeoReport v2 resource", path=path)
    raise NotFound(message)
