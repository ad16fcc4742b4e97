"""Database access: one async engine for the web app, one sync engine for the CLI, and the
helpers that run migrations and make sure the database and PostGIS exist."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import Connection, Engine, create_engine, make_url, text
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


SQL_DIR = PACKAGE_DIR / "sql"


def sql_function_files() -> list[Path]:
    """The SQL functions' current text, one ``CREATE OR REPLACE FUNCTION`` per file."""
    return sorted(SQL_DIR.glob("*.sql"))


def apply_sql_functions(conn: Connection) -> None:
    """(Re)create every function from ``geo_service/sql``: like Flyway's repeatable
    migrations, they are applied after the versioned ones on every upgrade, so the files are
    the functions' one current text. Migrations keep only their history. Bodies are checked
    when they first run, not here, so the files need no order among themselves."""
    conn.execute(text("SET LOCAL check_function_bodies = off"))
    cursor = conn.connection.cursor()  # no parameters: '%' in a body is not a placeholder
    for path in sql_function_files():
        cursor.execute(path.read_text())


def migrate(url: str) -> None:
    """Create PostGIS, bring the schema to the newest migration and apply the SQL
    functions' current text (geo_service/sql/*.sql)."""
    engine = create_engine(url, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as conn:
            conn.execute(text("CREATE EXTENSION IF NOT EXISTS postgis"))
    finally:
        engine.dispose()
    command.upgrade(alembic_config(url), "head")
    engine = create_engine(url, poolclass=NullPool)
    try:
        with engine.begin() as conn:
            apply_sql_functions(conn)
    finally:
        engine.dispose()
