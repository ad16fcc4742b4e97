"""An administrator manages accounts through the API; nobody else can, whatever their role."""

from __future__ import annotations

import httpx
import pytest
from sqlalchemy import Engine

from tests.conftest import DEFAULT_PASSWORD, login, make_user


@pytest.fixture
def admin(client: httpx.Client, engine: Engine) -> dict[str, str]:
    make_user(engine, "root.admin", "admin")
    return login(client, "root.admin")


def new_account(**fields: object) -> dict[str, object]:
    return {
        "username": "minh.staff",
        "role": "unit_staff",
        "unit": "urenco",
        "display_name": "Trần Văn Minh",
        "password": "first-password-1",
        **fields,
    }


def test_an_admin_creates_an_official_who_logs_in_and_appears_in_the_list(
    client: httpx.Client, admin: dict[str, str]
) -> None:
    created = client.post("/api/v1/users", json=new_account(), headers=admin)
    assert created.status_code == 201, created.text
    assert created.json()["unit"] == "urenco" and created.json()["active"]
    assert "password" not in created.text and "argon2" not in created.text
    login(client, "minh.staff", "first-password-1")

    listed = client.get("/api/v1/users", params={"unit": "urenco"}, headers=admin).json()
    assert "minh.staff" in [u["username"] for u in listed]
    assert all(u["unit"] == "urenco" for u in listed)
    one = client.get(f"/api/v1/users/{created.json()['id']}", headers=admin)
    assert one.json()["display_name"] == "Trần Văn Minh"

    taken = client.post("/api/v1/users", json=new_account(), headers=admin)
    assert taken.status_code == 409 and "already taken" in taken.json()["detail"]


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        ({"role": "mayor"}, "role", "not one of"),
        ({"unit": None}, "unit", "must belong to a unit"),
        ({"unit": "no-such-unit"}, "unit", "no active unit"),
        ({"role": "planner"}, "unit", "belong to a unit"),
        ({"password": "short"}, "password", "at least 8"),
        ({"username": "has space"}, "username", "username"),
        ({"colour": "red"}, "colour", "not a field"),
    ],
)
def test_a_bad_account_is_refused_naming_the_field(
    client: httpx.Client, admin: dict[str, str], fields: dict, field: str, message: str
) -> None:
    response = client.post(
        "/api/v1/users", json=new_account(**{"username": "bad.one", **fields}), headers=admin
    )
    assert response.status_code == 422, response.text
    assert response.json()["errors"][0]["field"] == field
    assert message in response.json()["detail"]
    listed = client.get("/api/v1/users", headers=admin).json()
    assert "bad.one" not in [u["username"] for u in listed]


def test_an_admin_moves_an_official_to_another_unit_and_role(
    client: httpx.Client, engine: Engine, admin: dict[str, str]
) -> None:
    user_id = make_user(engine, "moving.on", "unit_staff", "urenco")
    old_session = login(client, "moving.on")
    moved = client.patch(
        f"/api/v1/users/{user_id}",
        json={"role": "unit_manager", "unit": "so-nnmt"},
        headers=admin,
    )
    assert moved.status_code == 200, moved.text
    assert moved.json()["role"] == "unit_manager" and moved.json()["unit"] == "so-nnmt"
    assert client.get("/api/v1/auth/me", headers=old_session).status_code == 401
    me = client.get("/api/v1/auth/me", headers=login(client, "moving.on")).json()
    assert me["unit"]["code"] == "so-nnmt"

    planner = client.patch(f"/api/v1/users/{user_id}", json={"role": "planner"}, headers=admin)
    assert planner.status_code == 200 and planner.json()["unit"] is None
    back = client.patch(f"/api/v1/users/{user_id}", json={"role": "unit_staff"}, headers=admin)
    assert back.status_code == 422 and "must belong to a unit" in back.json()["detail"]
    missing = client.patch("/api/v1/users/99999", json={"active": False}, headers=admin)
    assert missing.status_code == 404


def test_an_admin_disables_an_account_and_it_is_logged_out(
    client: httpx.Client, engine: Engine, admin: dict[str, str]
) -> None:
    user_id = make_user(engine, "to.disable", "unit_staff", "urenco")
    session = login(client, "to.disable")
    response = client.patch(f"/api/v1/users/{user_id}", json={"active": False}, headers=admin)
    assert response.status_code == 200 and response.json()["active"] is False
    assert client.get("/api/v1/auth/me", headers=session).status_code == 401
    refused = client.post(
        "/api/v1/auth/token", data={"username": "to.disable", "password": DEFAULT_PASSWORD}
    )
    assert refused.status_code == 403


def test_an_admin_cannot_lock_themselves_out(
    client: httpx.Client, engine: Engine, admin: dict[str, str]
) -> None:
    me = client.get("/api/v1/auth/me", headers=admin).json()
    for change in ({"active": False}, {"role": "planner"}):
        response = client.patch(f"/api/v1/users/{me['id']}", json=change, headers=admin)
        assert response.status_code == 409, change
    assert client.get("/api/v1/auth/me", headers=admin).status_code == 200


@pytest.mark.parametrize(
    ("role", "unit"),
    [
        ("citizen", None),
        ("unit_staff", "urenco"),
        ("unit_manager", "urenco"),
        ("planner", None),
    ],
)
def test_nobody_but_an_admin_may_touch_accounts(
    client: httpx.Client, engine: Engine, role: str, unit: str | None
) -> None:
    target = make_user(engine, "target.user", "unit_staff", "urenco")
    make_user(engine, f"not.admin.{role}", role, unit)
    headers = login(client, f"not.admin.{role}")
    attempts = [
        client.get("/api/v1/users", headers=headers),
        client.get(f"/api/v1/users/{target}", headers=headers),
        client.post("/api/v1/users", json=new_account(username="sneaky"), headers=headers),
        client.patch(f"/api/v1/users/{target}", json={"active": False}, headers=headers),
    ]
    for response in attempts:
        assert response.status_code == 403, response.request.url
        assert "admin" in response.json()["detail"]
    anonymous = client.get("/api/v1/users")
    assert anonymous.status_code == 401
    me = client.get("/api/v1/auth/me", headers=login(client, "target.user"))
    assert me.status_code == 200  # still active, never changed
