"""The FastAPI application: configuration, a database engine, the routes."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress

from fastapi import FastAPI
from fastapi.middleware.gzip import GZipMiddleware
from fastapi.staticfiles import StaticFiles

from geo_service import __version__, scheduler
from geo_service.api import (
    admin_boundaries,
    areas,
    auth,
    catalogue,
    citizens,
    clusters,
    feeds,
    health,
    locate,
    maps,
    notify,
    notify_pages,
    open311,
    pages,
    reports,
    staff,
    staff_pages,
    stats,
    users,
)
from geo_service.api import errors as api_errors
from geo_service.config import PACKAGE_DIR, Settings, get_settings
from geo_service.db import make_async_engine
from geo_service.profile import load_profile


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()
    profile = load_profile(settings.city_profile)
    (settings.media_dir / "photos").mkdir(parents=True, exist_ok=True)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        app.state.engine = make_async_engine(settings)
        app.state.autocommit_engine = make_async_engine(settings, autocommit=True)
        schedule = None
        if settings.boundary_schedule_check_s > 0:
            schedule = asyncio.create_task(scheduler.loop(app.state.engine, profile, settings))
        yield
        if schedule is not None:
            schedule.cancel()
            with suppress(asyncio.CancelledError):
                await schedule
        await app.state.engine.dispose()
        await app.state.autocommit_engine.dispose()

    app = FastAPI(
        title="geo_service",
        version=__version__,
        summary=f"Citizens' reports of street problems in {profile.city.name_en}, routed to "
        "the unit that must fix them.",
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.profile = profile
    api_errors.install(app)
    # Ward boundaries (400 kB) and Leaflet (150 kB) shrink ~4x: it matters on a phone.
    app.add_middleware(GZipMiddleware, minimum_size=2048)
    # citizens and clusters before reports: /api/v1/reports/nearby and /reports/clusters
    # must not be read as a report id.
    routers = (
        health,
        locate,
        areas,
        admin_boundaries,
        auth,
        users,
        citizens,
        clusters,
        reports,
        staff,
        stats,
        catalogue,
        open311,
        pages,
        staff_pages,
        maps,
        notify,
        notify_pages,
        feeds,
    )
    for module in routers:
        app.include_router(module.router)
    app.mount("/static", StaticFiles(directory=PACKAGE_DIR / "static"), name="static")
    app.mount("/media/photos", StaticFiles(directory=settings.media_dir / "photos"), name="photos")
    return app
