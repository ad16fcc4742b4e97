"""API keys of Open311 clients: created by an operator, shown once, stored as a SHA-256.

A key is 32 random bytes, so a plain SHA-256 is as good as a password hash against guessing
and costs nothing per request; the database never holds a key that could be replayed.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from dataclasses import dataclass

from sqlalchemy import Connection, text
from sqlalchemy.ext.asyncio import AsyncConnection

KEY_PREFIX = "o311_"


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class KeyInfo:
    id: int
    client: str
    prefix: str
    created_at: dt.datetime
    revoked_at: dt.datetime | None
    last_used_at: dt.datetime | None


def create_key(conn: Connection, client: str) -> tuple[int, str]:
    """A new key for ``client``: returns its id and the key itself, which is never stored."""
    client = client.strip()
    if not client:
        raise ValueError("name the client the key is for")
    key = KEY_PREFIX + secrets.token_urlsafe(32)
    key_id = conn.execute(
        text(
            "INSERT INTO open311_keys (client, key_hash, prefix) VALUES (:c, :h, :p) RETURNING id"
        ),
        {"c": client, "h": hash_key(key), "p": key[: len(KEY_PREFIX) + 6]},
    ).scalar_one()
    return int(key_id), key


def list_keys(conn: Connection) -> list[KeyInfo]:
    rows = conn.execute(
        text(
            "SELECT id, client, prefix, created_at, revoked_at, last_used_at"
            " FROM open311_keys ORDER BY id"
        )
    ).all()
    return [KeyInfo(*r) for r in rows]


def revoke_key(conn: Connection, key_id: int) -> None:
    done = conn.execute(
        text("UPDATE open311_keys SET revoked_at = coalesce(revoked_at, now()) WHERE id = :i"),
        {"i": key_id},
    ).rowcount
    if not done:
        raise LookupError(f"no Open311 key with id {key_id}")


CHECK_SQL = text(
    """
    UPDATE open311_keys SET last_used_at = now()
     WHERE key_hash = :h AND revoked_at IS NULL
    RETURNING id
    """
)


async def check_key(conn: AsyncConnection, key: str | None) -> int | None:
    """The id of a valid, unrevoked key, or None."""
    if not key:
        return None
    found = (await conn.execute(CHECK_SQL, {"h": hash_key(key)})).scalar()
    return int(found) if found is not None else None
