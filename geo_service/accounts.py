"""User accounts as operators and administrators manage them: create, list, change role or
unit, set a password, disable.

Plain functions on a synchronous connection so the CLI calls them directly and the admin
API through ``AsyncConnection.run_sync``: one set of rules and messages for both. Passwords
arrive already hashed (hashing is slow on purpose and belongs in a worker thread).
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from sqlalchemy import Connection, text

from geo_service.auth import ROLES, UNIT_ROLES
from geo_service.errors import Conflict, Invalid, NotFound, field_message
from geo_service.i18n import N_

USERNAME_RE = re.compile(r"^[a-z0-9][a-z0-9._@-]{1,63}$")


@dataclass(frozen=True)
class Account:
    id: int
    username: str
    role: str
    unit_code: str | None
    display_name: str
    active: bool
    created_at: dt.datetime


def check_username(username: str) -> str:
    name = username.strip().lower()
    if not USERNAME_RE.match(name):
        message = N_(
            "2 to 64 characters: letters a-z, digits, '.', '_', '@', '-'; starting with a "
            "letter or digit"
        )
        raise Invalid(field_message("username", message), "username")
    return name


def unit_for_role(conn: Connection, role: str, unit_code: str | None) -> int | None:
    """The unit id a user of this role gets, or a 422 saying what is wrong: unit roles need
    an active unit, the other roles have none."""
    if role not in ROLES:
        message = N_("{role!r} is not one of {roles}", role=role, roles=", ".join(ROLES))
        raise Invalid(field_message("role", message), "role")
    if role not in UNIT_ROLES:
        if unit_code:
            message = N_(
                "only {roles} belong to a unit, not {role}", roles=", ".join(UNIT_ROLES), role=role
            )
            raise Invalid(field_message("unit", message), "unit")
        return None
    if not unit_code:
        message = N_("a {role} must belong to a unit (give its code)", role=role)
        raise Invalid(field_message("unit", message), "unit")
    unit_id = conn.execute(
        text("SELECT id FROM units WHERE code = :code AND active"), {"code": unit_code}
    ).scalar()
    if unit_id is None:
        message = N_("no active unit with the code {code!r}", code=unit_code)
        raise Invalid(field_message("unit", message), "unit")
    return int(unit_id)


def create_user(
    conn: Connection,
    *,
    username: str,
    role: str,
    unit_code: str | None,
    password_hash: str,
    display_name: str = "",
) -> int:
    name = check_username(username)
    unit_id = unit_for_role(conn, role, unit_code)
    user_id = conn.execute(
        text(
            """
            INSERT INTO users (username, password_hash, role, unit_id, display_name)
            VALUES (:username, :password_hash, :role, :unit_id, :display_name)
            ON CONFLICT (username) DO NOTHING
            RETURNING id
            """
        ),
        {
            "username": name,
            "password_hash": password_hash,
            "role": role,
            "unit_id": unit_id,
            "display_name": display_name.strip(),
        },
    ).scalar()
    if user_id is None:
        message = N_("{name!r} is already taken", name=name)
        raise Conflict(field_message("username", message), "username")
    return int(user_id)


_ACCOUNT_SQL = """
    SELECT u.id, u.username, u.role, un.code AS unit_code, u.display_name, u.active,
           u.created_at
      FROM users u LEFT JOIN units un ON un.id = u.unit_id
"""


def list_users(conn: Connection, *, unit_code: str | None = None) -> list[Account]:
    rows = conn.execute(
        text(
            f"{_ACCOUNT_SQL} WHERE (CAST(:unit AS text) IS NULL OR un.code = :unit)"
            " ORDER BY u.username"
        ),
        {"unit": unit_code},
    ).all()
    return [Account(**row._mapping) for row in rows]


def get_user(conn: Connection, user_id: int) -> Account:
    row = conn.execute(text(f"{_ACCOUNT_SQL} WHERE u.id = :id"), {"id": user_id}).one_or_none()
    if row is None:
        raise NotFound(N_("no user with id {id}", id=user_id), "id")
    return Account(**row._mapping)


def user_id_by_name(conn: Connection, username: str) -> int:
    user_id = conn.execute(
        text("SELECT id FROM users WHERE username = lower(:u)"), {"u": username.strip()}
    ).scalar()
    if user_id is None:
        message = N_("no user {name!r}", name=username)
        raise NotFound(field_message("username", message), "username")
    return int(user_id)


def _revoke_sessions(conn: Connection, user_id: int) -> None:
    conn.execute(text("DELETE FROM sessions WHERE user_id = :id"), {"id": user_id})


def set_password(conn: Connection, user_id: int, password_hash: str) -> None:
    """A new password also ends every session of the user: whoever knew the old one is out."""
    conn.execute(
        text("UPDATE users SET password_hash = :h WHERE id = :id"),
        {"h": password_hash, "id": user_id},
    )
    _revoke_sessions(conn, user_id)


def update_user(
    conn: Connection,
    user_id: int,
    *,
    role: str | None = None,
    unit_code: str | None = None,
    active: bool | None = None,
    display_name: str | None = None,
) -> Account:
    """Change what is given. A new role or unit is checked as a whole (a unit role needs a
    unit); disabling, or moving someone to another role or unit, ends their sessions."""
    current = get_user(conn, user_id)
    new_role = role if role is not None else current.role
    if role is not None or unit_code is not None:
        new_unit_code = unit_code if unit_code is not None else current.unit_code
        if role is not None and role not in UNIT_ROLES and unit_code is None:
            new_unit_code = None  # leaving a unit role leaves the unit
        unit_id = unit_for_role(conn, new_role, new_unit_code or None)
        conn.execute(
            text("UPDATE users SET role = :role, unit_id = :unit_id WHERE id = :id"),
            {"role": new_role, "unit_id": unit_id, "id": user_id},
        )
    if display_name is not None:
        conn.execute(
            text("UPDATE users SET display_name = :d WHERE id = :id"),
            {"d": display_name.strip(), "id": user_id},
        )
    if active is not None:
        conn.execute(
            text("UPDATE users SET active = :a WHERE id = :id"), {"a": active, "id": user_id}
        )
    updated = get_user(conn, user_id)
    if updated.role != current.role or updated.unit_code != current.unit_code or not updated.active:
        _revoke_sessions(conn, user_id)
    return updated
