"""Logging in and out through the API (OAuth2 password flow), and who am I."""

from __future__ import annotations

import datetime as dt

from fastapi import APIRouter, Depends, Request, Response
from fastapi.security import OAuth2PasswordRequestForm
from pydantic import BaseModel
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from geo_service import auth
from geo_service.api import deps
from geo_service.api import errors as api_errors
from geo_service.auth import Session, User
from geo_service.config import Settings
from geo_service.errors import Unauthenticated
from geo_service.i18n import N_

router = APIRouter(prefix="/api/v1/auth", tags=["accounts"])


class Token(BaseModel):
    access_token: str
    token_type: str = "bearer"
    expires_at: dt.datetime


class UnitRef(BaseModel):
    id: int
    code: str
    name: str


class Me(BaseModel):
    id: int
    username: str
    role: str
    display_name: str
    unit: UnitRef | None
    is_staff: bool
    sees_all: bool
    session_expires_at: dt.datetime


def client_ip(request: Request) -> str:
    return request.client.host if request.client else "unknown"


@router.post(
    "/token",
    response_model=Token,
    summary="Log in: username and password (form fields) for a bearer token",
    responses=api_errors.responses(401, 403, 429),
)
async def token(
    request: Request,
    form: OAuth2PasswordRequestForm = Depends(),
    conn: AsyncConnection = Depends(deps.read_connection),
    settings: Settings = Depends(deps.settings),
) -> Token:
    login = await auth.login(
        conn, form.username, form.password, ip=client_ip(request), settings=settings
    )
    return Token(access_token=login.token, expires_at=login.expires_at)


@router.post("/logout", status_code=204, summary="End this session (the token stops working)")
async def logout(
    session: Session | None = Depends(deps.current_session),
    conn: AsyncConnection = Depends(deps.read_connection),
) -> Response:
    if session is None:
        raise Unauthenticated(N_("log in first: there is no session to end"))
    await auth.end_session(conn, session.id)
    response = Response(status_code=204)
    response.delete_cookie(deps.SESSION_COOKIE, path="/")
    response.delete_cookie(deps.CSRF_COOKIE, path="/")
    return response


@router.get("/me", response_model=Me, summary="The logged-in user, their role and unit")
async def me(
    request: Request,
    user: User = Depends(deps.current_user),
    conn: AsyncConnection = Depends(deps.read_connection),
) -> Me:
    unit = None
    if user.unit_id is not None:
        row = (
            await conn.execute(
                text("SELECT id, code, name FROM units WHERE id = :id"), {"id": user.unit_id}
            )
        ).one()
        unit = UnitRef(id=row.id, code=row.code, name=row.name)
    session: Session = request.state.session
    return Me(
        id=user.id,
        username=user.username,
        role=user.role,
        display_name=user.display_name,
        unit=unit,
        is_staff=user.is_staff,
        sees_all=user.sees_all,
        session_expires_at=session.expires_at,
    )
