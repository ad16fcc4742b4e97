"""Who is asking: password hashing, logins, sessions and the roles that decide what one sees.

Passwords are hashed with argon2id (memory-hard, so a stolen table is slow to crack). A login
is a random token handed to the client once; the database keeps only its SHA-256, so a copy
of the sessions table cannot be replayed. The same session serves the API (``Authorization:
Bearer``) and the staff pages (cookie ``gs_session``; writes must echo the session's CSRF
value, the double-submit cookie ``gs_csrf``).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import math
import secrets
from dataclasses import dataclass
from functools import lru_cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection
from starlette.concurrency import run_in_threadpool

from geo_service.config import Settings
from geo_service.errors import (
    Forbidden,
    Invalid,
    TooMany,
    Unauthenticated,
    field_message,
)
from geo_service.i18n import N_

# The roles an account can have (the users_role CHECK constraint says the same; a test
# compares them).
ROLES = ("citizen", "unit_staff", "unit_manager", "planner", "admin")
UNIT_ROLES = ("unit_staff", "unit_manager")
CITY_ROLES = ("planner", "admin")

__all__ = ["CITY_ROLES", "ROLES", "UNIT_ROLES", "User"]


@dataclass(frozen=True)
class User:
    id: int
    username: str
    role: str
    unit_id: int | None
    display_name: str

    @property
    def is_staff(self) -> bool:
        """Works one unit's queue."""
        return self.role in UNIT_ROLES

    @property
    def sees_all(self) -> bool:
        """Sees every unit's reports (read-only analytics, or administration)."""
        return self.role in CITY_ROLES


@dataclass(frozen=True)
class Login:
    """A new session: the token goes to the client once and is never stored."""

    token: str
    csrf: str
    expires_at: dt.datetime
    user: User


@dataclass(frozen=True)
class Session:
    """A live session as a request sees it."""

    id: int
    user: User
    csrf: str
    expires_at: dt.datetime


def rate_limited(retry_after: int) -> TooMany:
    message = N_("too many wrong passwords; try again in {n} seconds", n=retry_after)
    return TooMany(message, "password", retry_after=retry_after)


# ---------------------------------------------------------------------------- passwords

_hasher = PasswordHasher()  # argon2id with RFC 9106's low-memory parameters (64 MiB, t=3)


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


@lru_cache(maxsize=1)
def _dummy_hash() -> str:
    """Verified against when the username is unknown, so the answer takes as long as for a
    known one and timing does not reveal which usernames exist."""
    return _hasher.hash(secrets.token_urlsafe(16))


def check_password_strength(password: str) -> None:
    if len(password) < 8:
        raise Invalid(field_message("password", N_("at least 8 characters")), "password")
    if len(password) > 1024:
        raise Invalid(field_message("password", N_("at most 1024 characters")), "password")


# ---------------------------------------------------------------------------- tokens


def token_hash(token: str) -> bytes:
    return hashlib.sha256(token.encode()).digest()


def _user(row: object) -> User:
    return User(
        id=row.user_id,  # type: ignore[attr-defined]
        username=row.username,  # type: ignore[attr-defined]
        role=row.role,  # type: ignore[attr-defined]
        unit_id=row.unit_id,  # type: ignore[attr-defined]
        display_name=row.display_name,  # type: ignore[attr-defined]
    )


# The max_failures-th most recent failure within the window: while it exists, the pair is
# paused until it ages out of the window.
_PAUSE_SQL = text(
    """
    SELECT extract(epoch FROM f.at + make_interval(secs => :window) - now()) AS wait_s
      FROM login_failures f
     WHERE f.username = :username AND f.ip = :ip
       AND f.at > now() - make_interval(secs => :window)
     ORDER BY f.at DESC
    OFFSET :max_failures - 1 LIMIT 1
    """
)

_FAILURE_SQL = text(
    """
    WITH aged AS (
      DELETE FROM login_failures
       WHERE username = :username AND ip = :ip AND at <= now() - make_interval(secs => :window))
    INSERT INTO login_failures (username, ip) VALUES (:username, :ip)
    """
)

_USER_SQL = text(
    """
    SELECT u.id AS user_id, u.username, u.role, u.unit_id, u.display_name, u.active,
           u.password_hash
      FROM users u
     WHERE u.username = lower(:username)
    """
)

_START_SQL = text(
    """
    WITH expired AS (
      DELETE FROM sessions WHERE user_id = :user_id AND expires_at <= now()),
    forgiven AS (
      DELETE FROM login_failures WHERE username = :username AND ip = :ip)
    INSERT INTO sessions (token_hash, user_id, expires_at, csrf)
    VALUES (:token_hash, :user_id, now() + make_interval(secs => :seconds), :csrf)
    RETURNING expires_at
    """
)


async def login(
    conn: AsyncConnection, username: str, password: str, *, ip: str, settings: Settings
) -> Login:
    """Check a username and password and open a session, or raise 401/403/429.

    Runs on an autocommit connection on purpose: each statement stands alone, so a failed
    attempt is recorded even though the request ends in an error."""
    name = username.strip().lower()
    if not name:
        raise Invalid(field_message("username", N_("is required")), "username")
    params = {
        "username": name,
        "ip": ip,
        "window": settings.login_failure_window_s,
        "max_failures": settings.login_max_failures,
    }
    wait = (await conn.execute(_PAUSE_SQL, params)).scalar()
    if wait is not None:
        raise rate_limited(max(1, math.ceil(float(wait))))
    row = (await conn.execute(_USER_SQL, {"username": name})).one_or_none()
    stored = row.password_hash if row is not None else _dummy_hash()
    ok = await run_in_threadpool(verify_password, stored, password)
    if row is None or not ok:
        await conn.execute(_FAILURE_SQL, params)
        raise Unauthenticated(N_("wrong username or password"))
    if not row.active:
        message = N_("the account {name!r} is disabled; ask an administrator", name=row.username)
        raise Forbidden(message)
    if _hasher.check_needs_rehash(row.password_hash):
        new_hash = await run_in_threadpool(hash_password, password)
        await conn.execute(
            text("UPDATE users SET password_hash = :h WHERE id = :id"),
            {"h": new_hash, "id": row.user_id},
        )
    token, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(24)
    expires_at = (
        await conn.execute(
            _START_SQL,
            {
                "token_hash": token_hash(token),
                "user_id": row.user_id,
                "username": name,
                "ip": ip,
                "seconds": settings.session_hours * 3600,
                "csrf": csrf,
            },
        )
    ).scalar_one()
    return Login(token=token, csrf=csrf, expires_at=expires_at, user=_user(row))


_SESSION_SQL = text(
    """
    SELECT s.id, s.csrf, s.expires_at, s.expires_at <= now() AS expired,
           s.last_seen < now() - interval '1 minute' AS stale,
           u.id AS user_id, u.username, u.role, u.unit_id, u.display_name, u.active
      FROM sessions s JOIN users u ON u.id = s.user_id
     WHERE s.token_hash = :token_hash
    """
)


async def session_for(conn: AsyncConnection, token: str) -> Session:
    """The session a token belongs to, or Unauthenticated saying why it is not valid."""
    row = (await conn.execute(_SESSION_SQL, {"token_hash": token_hash(token)})).one_or_none()
    if row is None:
        raise Unauthenticated(N_("the token is not valid (unknown, or logged out)"))
    if row.expired:
        raise Unauthenticated(N_("the session has expired; log in again"))
    if not row.active:
        raise Unauthenticated(N_("the account {name!r} is disabled", name=row.username))
    if row.stale:
        # last_seen is for operators ("who is logged in"); once a minute is precise enough
        # and keeps reads from writing on every request.
        await conn.execute(
            text("UPDATE sessions SET last_seen = now() WHERE id = :id"), {"id": row.id}
        )
    return Session(id=row.id, user=_user(row), csrf=row.csrf, expires_at=row.expires_at)


async def end_session(conn: AsyncConnection, session_id: int) -> None:
    await conn.execute(text("DELETE FROM sessions WHERE id = :id"), {"id": session_id})


async def expire_sessions(conn: AsyncConnection) -> int:
    """Delete every expired session; returns how many. Expired ones are refused anyway, so
    this only keeps the table small."""
    result = await conn.execute(text("DELETE FROM sessions WHERE expires_at <= now()"))
    return int(result.rowcount or 0)
