"""Dependencies shared by the routes.

All are ``async def`` on purpose: FastAPI runs a plain ``def`` dependency in its thread
pool, and three such hops cost more than the locate query itself (0.8 ms a request).
"""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator, Awaitable, Callable
from urllib.parse import quote

from fastapi import Depends, HTTPException, Request
from fastapi.security import OAuth2PasswordBearer
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from geo_service import auth
from geo_service.api.errors import request_lang
from geo_service.auth import Session, User
from geo_service.config import Settings
from geo_service.errors import Forbidden, Unauthenticated, field_message
from geo_service.i18n import N_
from geo_service.profile import Profile

SESSION_COOKIE = "gs_session"
CSRF_COOKIE = "gs_csrf"
CSRF_HEADER = "X-CSRF-Token"
CSRF_FIELD = "csrf_token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


async def settings(request: Request) -> Settings:
    value: Settings = request.app.state.settings
    return value


async def profile(request: Request) -> Profile:
    value: Profile = request.app.state.profile
    return value


async def lang(request: Request) -> str:
    """The caller's language (see api.errors.request_lang)."""
    return request_lang(request)


async def engine(request: Request) -> AsyncEngine:
    value: AsyncEngine = request.app.state.engine
    return value


async def autocommit_engine(request: Request) -> AsyncEngine:
    """The autocommit pool: for reads, and for writes that are one statement (atomic by
    themselves), saving the BEGIN and COMMIT round trips."""
    value: AsyncEngine = request.app.state.autocommit_engine
    return value


async def read_connection(request: Request) -> AsyncIterator[AsyncConnection]:
    """A connection for a read-only request, from the autocommit pool (see db.py)."""
    async with (await autocommit_engine(request)).connect() as conn:
        yield conn


async def write_connection(request: Request) -> AsyncIterator[AsyncConnection]:
    """A transaction that commits only if the handler returns normally: no half-written rows."""
    async with (await engine(request)).begin() as conn:
        yield conn


# Declared for the OpenAPI description only (the "Authorize" button in /docs); the
# credential itself is read by _credential below, which also knows the cookie.
_oauth2 = OAuth2PasswordBearer(tokenUrl="/api/v1/auth/token", auto_error=False)


def _credential(request: Request) -> tuple[str, bool] | None:
    """(token, came from the cookie) or None. A bearer header wins over the cookie."""
    header = request.headers.get("authorization")
    if header is not None:
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            message = N_("expected 'Bearer <token>'")
            raise Unauthenticated(field_message("Authorization", message))
        return token.strip(), False
    cookie = request.cookies.get(SESSION_COOKIE)
    return (cookie, True) if cookie else None


async def _check_csrf(request: Request, session: Session) -> None:
    """A cookie rides along with any request a browser makes, even one another site
    triggers; a write must also prove it was sent by our page, which alone can read the
    session's CSRF value (header from JS, or a hidden field in a plain form)."""
    sent = request.headers.get(CSRF_HEADER)
    if sent is None and request.headers.get("content-type", "").startswith(
        ("application/x-www-form-urlencoded", "multipart/form-data")
    ):
        value = (await request.form()).get(CSRF_FIELD)
        sent = value if isinstance(value, str) else None
    if not sent or not secrets.compare_digest(sent.encode(), session.csrf.encode()):
        message = N_("missing or wrong for this session")
        raise Forbidden(field_message(CSRF_HEADER, message), CSRF_HEADER)


async def current_session(
    request: Request,
    conn: AsyncConnection = Depends(read_connection),
    _: str | None = Depends(_oauth2),
) -> Session | None:
    """The caller's session, None when no credential was sent, 401 when it is not valid."""
    credential = _credential(request)
    if credential is None:
        return None
    token, from_cookie = credential
    session = await auth.session_for(conn, token)
    if from_cookie and request.method not in SAFE_METHODS:
        await _check_csrf(request, session)
    request.state.session = session
    return session


async def optional_user(session: Session | None = Depends(current_session)) -> User | None:
    return session.user if session else None


async def current_user(user: User | None = Depends(optional_user)) -> User:
    if user is None:
        raise Unauthenticated(
            N_("log in first: send 'Authorization: Bearer <token>' from /api/v1/auth/token")
        )
    return user


def require_roles(*roles: str) -> Callable[..., Awaitable[User]]:
    """A dependency that lets only these roles through (403 for the others)."""
    unknown = set(roles) - set(auth.ROLES)
    if unknown:
        raise ValueError(f"unknown roles {sorted(unknown)}")

    async def _require(user: User = Depends(current_user)) -> User:
        if user.role not in roles:
            message = N_(
                "this needs the role {roles}; you are {role}",
                roles=" or ".join(roles),
                role=user.role,
            )
            raise Forbidden(message)
        return user

    return _require


async def page_user(request: Request, conn: AsyncConnection = Depends(read_connection)) -> User:
    """For HTML pages: the logged-in user, or a redirect to the login page that comes back
    here afterwards. A wrong CSRF value is still a 403, not a redirect."""
    try:
        session = await current_session(request, conn, None)
    except Unauthenticated:
        session = None
    if session is None:
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        raise HTTPException(
            status_code=303, headers={"Location": f"/staff/login?next={quote(target, safe='')}"}
        )
    return session.user
