"""Database access: one async engine for the web app, one sync engine for the CLI, and the
helpers that run migrations and make sure the database and PostGIS exist."""

from __future__ import annotations

from functools import lru_cache

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, create_engine, make_url, text
from sqlalchemy.exc import OperationalError
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from sqlalchemy.pool import NullPool

from geo_service.config import PACKAGE_DIR, Settings, get_settings


def make_async_engine(settings: Settings, *, autocommit: bool = False) -> AsyncEngine:
    """The web app's pool. ``autocommit`` makes a pool for requests that only read: no
    BEGIN/ROLLBACK round trips, and psycopg keeps its prepared statements (a ROLLBACK makes
    it drop them, which tripled the cost of the locate query)."""
    return create_async_engine(
        settings.sqlalchemy_url,
        pool_size=settings.db_pool_size,
        max_overflow=settings.db_pool_size,
        pool_pre_ping=False,
        pool_recycle=3600,
        isolation_level="AUTOCOMMIT" if autocommit else "READ COMMITTED",
    )


@lru_cache
def sync_engine(url: str | None = None) -> Engine:
    return create_engine(url or get_settings().sqlalchemy_url, pool_pre_ping=True)


def ensure_database(url: str) -> bool:
    """Create the database named in ``url`` if the server lacks it. Returns True if created.

    The target is tried first, so a user who may not connect to the ``postgres`` maintenance
    database (common on managed servers) still gets through when the database exists."""
    target = make_url(url)
    probe = create_engine(target, poolclass=NullPool)
    try:
        with probe.connect():
            return False
    except OperationalError as exc:
        if "does not exist" not in str(exc):
            raise
    finally:
        probe.dispose()
    admin = create_engine(target.set(database="postgres"), isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{target.database}"'))
        return True
    finally:
        admin.dispose()


def alembic_config(url: str) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(PACKAGE_DIR / "migrations"))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


def migrate(url: str) -> None:
    """Create PostGIS and bring the schema to the newest migration."""
    engine = create_engine(url, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as conn:
            conn.execute(text("CREATE EXTENSION IF NOT EXISTS postgis"))
    finally:
        engine.dispose()
    command.upgrade(alembic_config(url), "head")
