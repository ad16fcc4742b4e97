"""Links in mails: signed, so that one click on a link an address received (and nothing
else) shows and ends what that address subscribed to, without an account."""

from __future__ import annotations

import hashlib
import hmac

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

KEY_SQL = text("SELECT secret FROM notify_keys WHERE name = 'links'")


async def signing_key(conn: AsyncConnection) -> bytes:
    """The key made once by migration 0170, shared by every process of the service."""
    return str((await conn.execute(KEY_SQL)).scalar_one()).encode()


def signature(key: bytes, kind: str, ident: int) -> str:
    return hmac.new(key, f"{kind}:{ident}".encode(), hashlib.sha256).hexdigest()[:40]


def valid(key: bytes, kind: str, ident: int, sent: str) -> bool:
    return hmac.compare_digest(signature(key, kind, ident), sent)


def manage_path(key: bytes, address_id: int) -> str:
    """The page listing everything an address follows, each with its own stop button."""
    return f"/notifications/{address_id}/{signature(key, 'address', address_id)}"


def stop_path(key: bytes, address_id: int, subscription_id: int | str) -> str:
    """One click: stop this subscription (``all``: every one of the address's)."""
    return f"{manage_path(key, address_id)}/stop/{subscription_id}"


def unit_stop_path(key: bytes, contact_id: int) -> str:
    """One click: a unit's address stops getting the unit's mail."""
    return f"/notifications/unit/{contact_id}/{signature(key, 'unit', contact_id)}/stop"
