"""The JSON API's one error shape, and the one place domain errors become HTTP answers.

Every 4xx and 5xx of the JSON API is an ``ErrorBody``: ``detail`` (what to tell a person, in
the request's language), ``code`` (the kind, for programs), ``errors`` (each field at fault
with its message) and ``context`` (facts a client may act on, such as the transitions allowed
now). Unknown paths, wrong methods and FastAPI's own validation answer the same shape, and
/openapi.json declares exactly this body for each status an operation can answer.

Open311 (``api/open311.py``) and the HTML pages (``api/pages.py``, ``api/staff_pages.py``)
map the same domain errors to their own forms.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from fastapi import FastAPI, Request
from fastapi.dependencies.models import Dependant
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from fastapi.routing import APIRoute, iter_route_contexts
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException as StarletteHTTPException

from geo_service import errors
from geo_service.errors import DomainError
from geo_service.i18n import LANG_COOKIE, N_, Message, negotiate, render

STATUS: dict[type[DomainError], int] = {
    errors.NotFound: 404,
    errors.Conflict: 409,
    errors.Invalid: 422,
    errors.Unauthenticated: 401,
    errors.Forbidden: 403,
    errors.TooLarge: 413,
    errors.Unsupported: 415,
    errors.TooMany: 429,
    errors.Unavailable: 503,
}
# What the standard statuses mean when nothing more specific was said (routing, 405...).
HTTP_KINDS: dict[int, tuple[str, Message]] = {
    400: ("invalid", N_("the request cannot be read")),
    401: ("unauthenticated", N_("log in first")),
    403: ("forbidden", N_("you may not do this")),
    404: ("not_found", N_("there is nothing at this address")),
    405: ("method_not_allowed", N_("this address does not take this method")),
    406: ("not_acceptable", N_("this address cannot answer in the format asked for")),
    409: ("conflict", N_("the request conflicts with the current state")),
    413: ("too_large", N_("the request is too large")),
    415: ("unsupported", N_("the request's format is not supported")),
    422: ("invalid", N_("a field is missing or wrong")),
    429: ("too_many", N_("too many requests: wait and try again")),
    500: ("server_error", N_("something went wrong on our side")),
    503: ("unavailable", N_("the service cannot answer now: try again shortly")),
}
DESCRIPTIONS: dict[int, str] = {
    400: "The request cannot be read",
    401: "No valid credential: log in first (Authorization: Bearer)",
    403: "Not allowed for your role or unit",
    404: "Not found (or not yours to see)",
    405: "Method not allowed",
    409: "Conflicts with the current state (a stale version, a closed report...)",
    413: "Too large",
    415: "Unsupported media type",
    422: "A field is missing or wrong; `errors` names each",
    429: "Too many requests: see Retry-After",
    503: "Unavailable for now: see Retry-After",
}


class FieldError(BaseModel):
    field: str = Field(description="The request's field at fault, as the API names it.")
    message: str = Field(description="What is wrong with it, in the request's language.")


class ErrorBody(BaseModel):
    """Every error of the JSON API."""

    detail: str = Field(description="What went wrong, for a person, in the request's language.")
    code: str = Field(description="The kind of error, for programs: not_found, invalid, ...")
    errors: list[FieldError] = Field(default=[], description="Each field at fault.")
    context: dict[str, Any] = Field(
        default={}, description="Facts to act on: e.g. `allowed` transitions, `version`."
    )


def request_lang(request: Request) -> str:
    """The caller's language: the page switch's cookie, else Accept-Language, else the
    default. The same choice as the pages', so a page's script gets its page's language."""
    return negotiate(request.headers.get("accept-language"), request.cookies.get(LANG_COOKIE))


def body_of(exc: DomainError, lang: str) -> ErrorBody:
    return ErrorBody(
        detail=render(exc.message, lang),
        code=exc.code,
        errors=[FieldError(field=f, message=render(m, lang)) for f, m in exc.errors],
        context=exc.context,
    )


def status_of(exc: DomainError) -> int:
    return next(s for kind, s in STATUS.items() if isinstance(exc, kind))


def headers_of(exc: DomainError) -> dict[str, str] | None:
    """Retry-After for a refusal that ends; the challenge OAuth2 clients expect with a 401."""
    headers = {}
    if exc.retry_after is not None:
        headers["Retry-After"] = str(exc.retry_after)
    if isinstance(exc, errors.Unauthenticated):
        headers["WWW-Authenticate"] = "Bearer"
    return headers or None


def domain_error_response(request: Request, exc: DomainError) -> JSONResponse:
    body = body_of(exc, request_lang(request))
    return JSONResponse(body.model_dump(), status_of(exc), headers=headers_of(exc))


def http_error_response(
    request: Request, status: int, headers: Mapping[str, str] | None = None
) -> JSONResponse:
    code, message = HTTP_KINDS.get(status, ("error", N_("the request failed")))
    body = ErrorBody(detail=message.render(request_lang(request)), code=code)
    return JSONResponse(body.model_dump(), status, headers=dict(headers or {}) or None)


def install(app: FastAPI) -> None:
    install_openapi(app)

    @app.exception_handler(DomainError)
    async def _domain(request: Request, exc: DomainError) -> JSONResponse:
        return domain_error_response(request, exc)

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> JSONResponse:
        return domain_error_response(request, errors.invalid(list(exc.errors())))

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> Response:
        if exc.status_code < 400:  # a redirect (a page's "log in first")
            return Response(status_code=exc.status_code, headers=exc.headers)
        return http_error_response(request, exc.status_code, exc.headers)


def responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """The ``responses`` of a route that can answer these error statuses."""
    return {s: {"model": ErrorBody, "description": DESCRIPTIONS[s]} for s in statuses}


def error_statuses(spec: Mapping[str, Any]) -> Sequence[str]:
    return [s for s in spec if s.isdigit() and int(s) >= 400]


# --- what /openapi.json says about errors ------------------------------------------------

GEOJSON = "application/geo+json"


def _calls(dependant: Dependant) -> set[Callable[..., Any]]:
    calls = {dependant.call} if dependant.call else set()
    for sub in dependant.dependencies:
        calls |= _calls(sub)
    return calls


def _statuses(route: APIRoute, path: str, operation: Mapping[str, Any]) -> set[int]:
    """The error statuses an operation can answer, from what it depends on and takes."""
    from geo_service.api import deps  # deps raises domain errors: imported late

    calls = _calls(route.dependant)
    statuses = {int(s) for s in error_statuses(operation.get("responses", {}))}
    if operation.get("parameters") or operation.get("requestBody"):
        statuses.add(422)
    if deps.current_session in calls:  # a token or cookie that is not valid; CSRF on writes
        statuses |= {401, 403}
    if deps.current_user in calls:
        statuses |= {401, 403}
    if deps.page_user in calls:  # a browser without a login is sent to the login page
        statuses.add(403)
    if "{" in path:
        statuses.add(404)
    return statuses


def _error_response(status: int) -> dict[str, Any]:
    return {
        "description": DESCRIPTIONS.get(status, "Error"),
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorBody"}}},
    }


OPEN311_ERRORS = {
    "type": "array",
    "items": {
        "type": "object",
        "properties": {"code": {"type": "integer"}, "description": {"type": "string"}},
        "required": ["code", "description"],
    },
}


def _open311_errors(responses: dict[str, Any]) -> None:
    """Open311 answers the spec's errors array (in XML or JSON), never FastAPI's 422."""
    responses.pop("422", None)
    responses.setdefault("400", {"description": "The spec's errors array"})
    for status in error_statuses(responses):
        responses[status]["content"] = {
            "application/json": {"schema": {"$ref": "#/components/schemas/Open311Errors"}},
            "text/xml": {"schema": {"type": "string"}},
        }


def _geojson_content(response: dict[str, Any]) -> None:
    """A GeoJSON answer declared with a model: the schema belongs to its real media type."""
    content = response.get("content", {})
    if GEOJSON in content and "schema" in content.get("application/json", {}):
        content[GEOJSON] = content.pop("application/json")


def describe_errors(schema: dict[str, Any], routes: Sequence[Any]) -> dict[str, Any]:
    """Every JSON API operation declares ErrorBody for each error status it can answer, and
    nothing else (FastAPI's own validation schema is never what we send)."""
    for context in iter_route_contexts(routes):
        route, path = context.original_route, context.path_format
        if not isinstance(route, APIRoute) or path is None:
            continue
        for method in context.methods or ():
            operation = schema["paths"].get(path, {}).get(method.lower())
            if operation is None:
                continue
            responses = operation.setdefault("responses", {})
            if "open311" in operation.get("tags", []):
                _open311_errors(responses)
                continue
            for status in _statuses(route, path, operation):
                responses[str(status)] = _error_response(status)
            for response in responses.values():
                _geojson_content(response)
    components = schema.setdefault("components", {}).setdefault("schemas", {})
    for unused in ("HTTPValidationError", "ValidationError"):
        components.pop(unused, None)
    body = ErrorBody.model_json_schema(ref_template="#/components/schemas/{model}")
    components.update(body.pop("$defs", {}))
    components["ErrorBody"] = body
    components["Open311Errors"] = OPEN311_ERRORS
    return schema


def install_openapi(app: FastAPI) -> None:
    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = describe_errors(FastAPI.openapi(app), app.routes)
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
