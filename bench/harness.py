"""What the benchmark scripts in bench/ share, so they all set up and drive the service alike.

The scripts are run by hand as ``python bench/<name>.py``, which puts this directory first on
``sys.path``: they import this module as ``from harness import ...``. With one copy, every
benchmark starts ``geo-service serve``, waits for it and stops it the same way, and a server
that never becomes ready stops the run with the reason instead of timing connection errors.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from typing import IO

import httpx

from geo_service.config import Settings

GEO_SERVICE = (sys.executable, "-m", "geo_service.cli")
"""The ``geo-service`` command run by this interpreter: the benchmark, the commands it runs and
the server all use the same virtualenv, whether or not its scripts are on PATH."""


def free_port() -> int:
    """A port on 127.0.0.1 that nothing listens on now, for a server of the benchmark's own (a
    fixed port could be taken by a running service or by another benchmark)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def service_env(database_url: str) -> dict[str, str]:
    """The environment for ``geo-service`` commands on the benchmark's database, with a media
    directory of its own so photos stored while benchmarking never land in a real one."""
    return {**os.environ, "DATABASE_URL": database_url, "MEDIA_DIR": tempfile.mkdtemp()}


@contextmanager
def serving(env: Mapping[str, str], workers: int = 1, ready_within: float = 30.0) -> Iterator[str]:
    """Run ``geo-service serve`` on a free port for the ``with`` block; yields its base URL.

    Waits until GET /readyz answers 200 (the database answers, PostGIS is there, a ward
    boundary set is active) so that no timed request meets a server still starting, and raises
    RuntimeError with the last answer and the server's output if that does not happen within
    ``ready_within`` seconds. Stops the server on leaving the block, also on an error, so that
    no run leaves one behind holding the port and the database.
    """
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    with tempfile.TemporaryFile() as log:  # kept only to explain a server that fails to start
        server = subprocess.Popen(
            [*GEO_SERVICE, "serve", "--port", str(port), "--workers", str(workers)],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=log,
        )
        try:
            _wait_ready(server, base, ready_within, log)
            yield base
        finally:
            server.terminate()
            try:
                server.wait(timeout=10)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait()


def _wait_ready(server: subprocess.Popen[bytes], base: str, within: float, log: IO[bytes]) -> None:
    deadline = time.monotonic() + within
    last = "no answer"
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(
                f"geo-service serve exited with status {server.returncode} before it was"
                f" ready{_tail(log)}"
            )
        try:
            answer = httpx.get(f"{base}/readyz", timeout=1)
            if answer.status_code == 200:
                return
            last = f"{answer.status_code} {answer.text[:300]}"
        except httpx.TransportError as exc:
            last = f"{type(exc).__name__}: {exc}"
        time.sleep(0.2)
    raise RuntimeError(
        f"geo-service serve at {base} was not ready within {within:.0f} s"
        f" (last GET /readyz: {last}){_tail(log)}"
    )


def _tail(log: IO[bytes], lines: int = 20) -> str:
    log.seek(0)
    output = log.read().decode(errors="replace").splitlines()[-lines:]
    return "; its last output:\n" + "\n".join(output) if output else ""


def fresh_database(settings: Settings) -> None:
    """Drop and re-create the settings' database, migrate it and set it up as `init` does, so
    that every run loads and measures from the same empty state, not from what a previous run
    (perhaps of an older schema) left there."""
    # Imported here: seeding pulls in geopandas (~2 s), which the scripts that only start the
    # server should not wait for.
    from sqlalchemy import create_engine, make_url, text

    from geo_service import db
    from geo_service.profile import load_profile
    from geo_service.seed import init_database

    url = settings.sqlalchemy_url
    admin = create_engine(make_url(url).set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        name = make_url(url).database
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    db.migrate(url)
    with db.sync_engine(url).begin() as conn:
        init_database(conn, load_profile(settings.city_profile), say=lambda _: None)


def percentile(samples: Iterable[float], fraction: float) -> float:
    """The sample with ``int(n * fraction)`` of the ``n`` samples below it (0.95 for p95; the
    largest when there are too few), one rule so the benchmarks that use it report alike."""
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(len(ordered) * fraction))]
