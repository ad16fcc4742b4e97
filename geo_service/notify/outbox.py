"""Writing to the outbox: jobs deferred in the caller's transaction (``gs_defer``), so they
commit or roll back with the change that causes them."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable, Mapping
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

DEFER_SQL = text("SELECT gs_defer(:task, CAST(:args AS jsonb[]), :at)")

# The worker's tasks (geo_service.notify.worker) by the names jobs carry.
FAN_OUT = "fan_out"  # {"event_id"}: a report event, told to whoever must hear it
ALARM = "alarm"  # {"report_id", "kind"}: a deadline close or missed
WELCOME = "welcome"  # {"subscription_id"}: a +1's follow mail, an alert's confirmation
DELIVER = "deliver"  # {"message_id"}: one mail or webhook call


async def defer(
    conn: AsyncConnection,
    task: str,
    args: Iterable[Mapping[str, Any]],
    at: dt.datetime | None = None,
) -> None:
    """Queue one job of ``task`` per argument set, in ``conn``'s transaction."""
    encoded = [json.dumps(dict(a)) for a in args]
    if encoded:
        await conn.execute(DEFER_SQL, {"task": task, "args": encoded, "at": at})


def tell_events_sql(insert_events: str) -> str:
    """An ``INSERT INTO report_events ...`` (without RETURNING) that also queues a fan-out
    job for each event it writes, in the same statement: for bulk writers such as a
    boundary reform's re-routing."""
    return f"""
    WITH ev AS ({insert_events} RETURNING id)
    SELECT gs_defer('fan_out', array_agg(jsonb_build_object('event_id', ev.id) ORDER BY ev.id))
      FROM ev"""


async def tell_events(conn: AsyncConnection, event_ids: Iterable[int]) -> None:
    """The report events just written: the worker tells whoever must hear of them."""
    await defer(conn, FAN_OUT, ({"event_id": i} for i in event_ids))


def address_sql(source: str) -> str:
    """An INSERT (for a CTE) of the address ``:email`` in ``:lang``, once per row of
    ``source`` when an address was given: the same address (any case) is one row, its
    language the latest one asked for. Returns the address's ``id``."""
    return f"""
      INSERT INTO mail_addresses (email, lang)
      SELECT CAST(:email AS text), :lang FROM {source} WHERE CAST(:email AS text) IS NOT NULL
      ON CONFLICT ((lower(email))) DO UPDATE SET lang = EXCLUDED.lang
      RETURNING id"""
