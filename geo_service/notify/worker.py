"""``geo-service worker``: the process that tells people. procrastinate runs the jobs the
write paths deferred in their own transactions (``gs_defer``), woken at their commit by
PostgreSQL's NOTIFY; every task opens its own transaction on our engine.

Why procrastinate: the queue lives in the PostgreSQL we already run (no broker to operate),
a job can be deferred by SQL inside our own transaction (``procrastinate_defer_jobs_v1``),
and it brings LISTEN/NOTIFY wake-ups, periodic tasks, stalled-job recovery and worker
concurrency that we would otherwise write ourselves.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

import procrastinate
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from geo_service.config import Settings
from geo_service.db import make_async_engine
from geo_service.notify import delivery, fanout, scheduled
from geo_service.notify.outbox import ALARM, DELIVER, FAN_OUT, WELCOME

QUEUE = "notify"
log = logging.getLogger("geo_service.notify")


@asynccontextmanager
async def transaction(engine: AsyncEngine) -> AsyncIterator[AsyncConnection]:
    """A task's transaction, committed without waiting for its WAL flush: procrastinate marks
    the job done afterwards in a commit that does wait, and a flush takes all earlier WAL
    with it, so a crash can only lose work whose job then runs again (and the tasks are
    idempotent). Saves one fsync per message (the commit-to-SMTP figures in
    bench/notify_bench.py)."""
    async with engine.begin() as conn:
        await conn.execute(text("SET LOCAL synchronous_commit = off"))
        yield conn


def build_app(settings: Settings, engine: AsyncEngine) -> procrastinate.App:
    """The job queue's app with our tasks, each a thin shell around one transaction."""
    # The queue's own bookkeeping (fetch, finish, retry) commits without waiting for its
    # flush too: what a crash loses is a suffix of the WAL, so a lost "done" means the job
    # runs again (stalled-job recovery below), never a lost job. Only the deferring write
    # (a web request's transaction) must be durable, and it is. Fetching a job is serial in
    # a worker: two fsyncs per job were half the cost of a message here.
    connector = procrastinate.PsycopgConnector(
        conninfo=settings.psycopg_url, kwargs={"options": "-c synchronous_commit=off"}
    )
    app = procrastinate.App(connector=connector)
    # Retries of a message are ours (delivery.backoff, in seconds as small as tests need);
    # procrastinate retries the other tasks, whose failures are database trouble.
    again = procrastinate.RetryStrategy(max_attempts=10, exponential_wait=2)

    async def keep_then_send(keep: Callable[[AsyncConnection], Awaitable[list[int]]]) -> None:
        async with transaction(engine) as conn:
            ids = await keep(conn)
        await send_now(engine, settings, ids)

    @app.task(name=FAN_OUT, queue=QUEUE, retry=again)
    async def fan_out(event_id: int) -> None:
        await keep_then_send(lambda conn: fanout.fan_out(conn, settings, event_id))

    @app.task(name=ALARM, queue=QUEUE, retry=again)
    async def alarm(report_id: int, kind: str) -> None:
        await keep_then_send(lambda conn: fanout.alarm(conn, settings, report_id, kind))

    @app.task(name=WELCOME, queue=QUEUE, retry=again)
    async def welcome(subscription_id: int) -> None:
        await keep_then_send(lambda conn: scheduled.welcome(conn, settings, subscription_id))

    @app.task(name=DELIVER, queue=QUEUE, retry=again)
    async def deliver(message_id: int) -> None:
        await send_one(engine, settings, message_id)

    @app.periodic(cron="* * * * *", periodic_id="tick")
    @app.task(name="tick", queue=QUEUE)
    async def tick(timestamp: int) -> None:
        await run_tick(engine, settings)

    @app.periodic(cron="*/5 * * * *", periodic_id="stalled")
    @app.task(name="retry_stalled", queue=QUEUE)
    async def retry_stalled(timestamp: int) -> None:
        # A worker that died mid-job (no heartbeat for 5 min) leaves it "doing": run it again.
        for job in await app.job_manager.get_stalled_jobs(seconds_since_heartbeat=300):
            await app.job_manager.retry_job(job)

    return app


async def send_one(engine: AsyncEngine, settings: Settings, message_id: int) -> None:
    async with transaction(engine) as conn:
        outcome = await delivery.deliver(conn, settings, message_id)
    log.info("message %s: %s", message_id, outcome)


async def send_now(engine: AsyncEngine, settings: Settings, ids: list[int]) -> None:
    """The first try of messages just kept, by the task that kept them: the commit-to-SMTP
    time has no second job in it (the bench: p50 76 ms with one). A failure here is the
    message's own (retried by its deliver job) or, if this process dies, the sweep's."""
    results = await asyncio.gather(
        *(send_one(engine, settings, i) for i in ids), return_exceptions=True
    )
    for message_id, result in zip(ids, results, strict=True):
        if isinstance(result, BaseException):
            log.warning("message %s: left for the sweep: %r", message_id, result)


async def run_tick(engine: AsyncEngine, settings: Settings) -> dict[str, int]:
    """Everything the worker does by the clock, each in its own transaction."""
    done: dict[str, Any] = {}
    async with engine.begin() as conn:
        done["alarms"] = await scheduled.raise_alarms(conn)
    async with engine.begin() as conn:
        done["digests"] = await scheduled.send_digests(conn, settings)
    async with engine.begin() as conn:
        done["expired"] = await scheduled.expire_unconfirmed(conn, settings)
    async with engine.begin() as conn:
        done["swept"] = await scheduled.sweep(conn)
    return done


async def run(settings: Settings, *, wait: bool = True) -> None:
    engine = make_async_engine(settings)
    app = build_app(settings, engine)
    try:
        async with app.open_async():
            await app.run_worker_async(
                queues=[QUEUE],
                concurrency=settings.notify_concurrency,
                wait=wait,
                delete_jobs="successful",
                # A NOTIFY that lands while the worker's fetch finds nothing is lost (the
                # wake-up event is cleared after the fetch), and the job then waits for the
                # next poll: with the default 5 s that was the commit-to-SMTP p90 (3 s).
                fetch_job_polling_interval=0.5,
                install_signal_handlers=True,
            )
    finally:
        await engine.dispose()


def main(settings: Settings, *, wait: bool = True) -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    asyncio.run(run(settings, wait=wait))
    return 0
