"""Scheduled boundary activations, carried out by the service itself: a set loaded ahead of
a reform and activated with a future ``valid_from`` becomes active at that moment, without
anyone at a keyboard at midnight. Every worker looks every ``BOUNDARY_SCHEDULE_CHECK_S``
seconds; the row lock (SKIP LOCKED) lets exactly one of them do it."""

from __future__ import annotations

import asyncio
import datetime as dt
import logging

from sqlalchemy.ext.asyncio import AsyncEngine

from geo_service import reform
from geo_service.config import Settings
from geo_service.errors import DomainError
from geo_service.profile import Profile

log = logging.getLogger("geo_service.scheduler")


async def run_due(
    engine: AsyncEngine, profile: Profile, settings: Settings, now: dt.datetime | None = None
) -> list[str]:
    """Carry out the activations that are due; returns the sets activated. One that is
    refused (its checks fail now) is marked failed with the reason, not tried again."""
    moment = now or dt.datetime.now(dt.UTC)
    async with engine.connect() as conn:
        due = await conn.run_sync(lambda c: reform.due(c, moment))
    done = []
    for activation_id, name in due:
        try:
            async with engine.begin() as conn:
                changes = await conn.run_sync(
                    reform.run_due,
                    activation_id,
                    profile,
                    restart_deadline=settings.transfer_restarts_deadline,
                )
        except (DomainError, ValueError) as exc:
            log.error("scheduled activation of %s refused: %s", name, exc)
            async with engine.begin() as conn:
                await conn.run_sync(reform.mark_failed, activation_id, str(exc))
            continue
        if changes is not None:
            log.info(
                "activated %s as scheduled: %s open reports re-routed", name, changes.open_reports
            )
            done.append(name)
    return done


async def loop(engine: AsyncEngine, profile: Profile, settings: Settings) -> None:
    """Until cancelled: look for due activations every BOUNDARY_SCHEDULE_CHECK_S seconds."""
    while True:
        await asyncio.sleep(settings.boundary_schedule_check_s)
        try:
            await run_due(engine, profile, settings)
        except Exception:  # the database away for a moment must not end the loop
            log.exception("checking scheduled boundary activations failed; trying again later")
