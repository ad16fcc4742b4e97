"""Dependencies shared by the routes.

All are ``async def`` on purpose: FastAPI runs a plain ``def`` dependency in its thread
pool, and three such hops cost more than the locate query itself (0.8 ms a request).
"""

from __future__ import annotations

from collections.abc import AsyncIterator

from fastapi import Request
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from geo_service.config import Settings
from geo_service.profile import Profile


async def settings(request: Request) -> Settings:
    value: Settings = request.app.state.settings
    return value


async def profile(request: Request) -> Profile:
    value: Profile = request.app.state.profile
    return value


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
