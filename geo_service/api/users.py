"""Administrators manage accounts: list, create, change role or unit, disable, reset a
password. Admins only; the rules and messages are those of the CLI (geo_service.accounts)."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import Connection
from sqlalchemy.ext.asyncio import AsyncConnection
from starlette.concurrency import run_in_threadpool

from geo_service import accounts
from geo_service.api import deps
from geo_service.api import errors as api_errors
from geo_service.auth import ROLES, User, check_password_strength, hash_password
from geo_service.errors import Conflict, Invalid, field_message
from geo_service.i18n import N_

router = APIRouter(prefix="/api/v1/users", tags=["accounts"])
admin_only = deps.require_roles("admin")
UserId = Annotated[int, Path(ge=1, le=2**31 - 1)]


class UserOut(BaseModel):
    id: int
    username: str
    role: str
    unit: str | None = Field(description="Code of the user's unit (unit roles only)")
    display_name: str
    active: bool
    created_at: dt.datetime

    @classmethod
    def of(cls, a: accounts.Account) -> UserOut:
        return cls(
            id=a.id,
            username=a.username,
            role=a.role,
            unit=a.unit_code,
            display_name=a.display_name,
            active=a.active,
            created_at=a.created_at,
        )


class UserIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    username: str = Field(min_length=1, max_length=64)
    role: str = Field(description=f"One of {', '.join(ROLES)}")
    unit: str | None = Field(default=None, description="Unit code; required for unit roles")
    display_name: str = Field(default="", max_length=200)
    password: str = Field(min_length=8, max_length=1024)


class UserChange(BaseModel):
    """Only the fields sent change. ``"unit": null`` takes a user out of their unit."""

    model_config = ConfigDict(extra="forbid")

    role: str | None = None
    unit: str | None = None
    display_name: str | None = Field(default=None, max_length=200)
    active: bool | None = None
    password: str | None = Field(default=None, min_length=8, max_length=1024)


@router.get("", response_model=list[UserOut], summary="Accounts (admins only)")
async def list_users(
    unit: str | None = Query(default=None, description="Only this unit's accounts"),
    _: User = Depends(admin_only),
    conn: AsyncConnection = Depends(deps.read_connection),
) -> list[UserOut]:
    found = await conn.run_sync(lambda c: accounts.list_users(c, unit_code=unit))
    return [UserOut.of(a) for a in found]


@router.post(
    "",
    response_model=UserOut,
    status_code=201,
    summary="Create an account",
    responses=api_errors.responses(409),
)
async def create_user(
    body: UserIn,
    _: User = Depends(admin_only),
    conn: AsyncConnection = Depends(deps.write_connection, scope="function"),
) -> UserOut:
    check_password_strength(body.password)
    password_hash = await run_in_threadpool(hash_password, body.password)

    def create(c: Connection) -> accounts.Account:
        user_id = accounts.create_user(
            c,
            username=body.username,
            role=body.role,
            unit_code=body.unit,
            password_hash=password_hash,
            display_name=body.display_name,
        )
        return accounts.get_user(c, user_id)

    return UserOut.of(await conn.run_sync(create))


@router.get("/{user_id}", response_model=UserOut, summary="One account")
async def get_user(
    user_id: UserId,
    _: User = Depends(admin_only),
    conn: AsyncConnection = Depends(deps.read_connection),
) -> UserOut:
    return UserOut.of(await conn.run_sync(lambda c: accounts.get_user(c, user_id)))


@router.patch(
    "/{user_id}",
    responses=api_errors.responses(409),
    response_model=UserOut,
    summary="Change role, unit, name; disable or enable; set a new password",
    description="Disabling, a new role or unit, or a new password ends the user's sessions.",
)
async def change_user(
    user_id: UserId,
    body: UserChange,
    admin: User = Depends(admin_only),
    conn: AsyncConnection = Depends(deps.write_connection, scope="function"),
) -> UserOut:
    sent = body.model_fields_set
    if user_id == admin.id and (
        body.active is False or ("role" in sent and body.role != admin.role)
    ):
        message = N_("you cannot disable or demote your own account (ask another admin)")
        raise Conflict(message, "role")
    if "role" in sent and body.role is None:
        raise Invalid(field_message("role", N_("must not be null")), "role")
    if "active" in sent and body.active is None:
        raise Invalid(field_message("active", N_("must be true or false")), "active")
    password_hash = None
    if body.password is not None:
        check_password_strength(body.password)
        password_hash = await run_in_threadpool(hash_password, body.password)

    def change(c: Connection) -> accounts.Account:
        updated = accounts.update_user(
            c,
            user_id,
            role=body.role,
            unit_code=("" if body.unit is None else body.unit) if "unit" in sent else None,
            active=body.active,
            display_name=body.display_name,
        )
        if password_hash is not None:
            accounts.set_password(c, user_id, password_hash)
        return updated

    return UserOut.of(await conn.run_sync(change))
