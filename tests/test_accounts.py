"""Officials log in with a username and password, get a token that expires, log out; an
operator creates their accounts from the command line. Every refusal says why."""

from __future__ import annotations

import subprocess

import httpx
from sqlalchemy import Engine, text

from tests.conftest import DEFAULT_PASSWORD, cli, login, make_user


def token_for(client: httpx.Client, username: str, password: str) -> httpx.Response:
    return client.post("/api/v1/auth/token", data={"username": username, "password": password})


def test_an_official_logs_in_and_the_token_says_who_they_are(
    client: httpx.Client, engine: Engine
) -> None:
    make_user(engine, "lan.urenco", "unit_staff", "urenco")
    response = token_for(client, "Lan.Urenco", DEFAULT_PASSWORD)  # usernames ignore case
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["token_type"] == "bearer" and body["expires_at"]
    me = client.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {body['access_token']}"})
    assert me.status_code == 200, me.text
    assert me.json()["username"] == "lan.urenco"
    assert me.json()["role"] == "unit_staff"
    assert me.json()["unit"]["code"] == "urenco"
    assert me.json()["is_staff"] and not me.json()["sees_all"]


def test_only_the_hash_of_a_token_is_stored(client: httpx.Client, engine: Engine) -> None:
    make_user(engine, "hash.check", "planner")
    token = token_for(client, "hash.check", DEFAULT_PASSWORD).json()["access_token"]
    with engine.connect() as conn:
        stored = conn.execute(
            text(
                "SELECT s.token_hash, u.password_hash FROM sessions s JOIN users u"
                " ON u.id = s.user_id WHERE u.username = 'hash.check'"
            )
        ).all()
    assert stored and all(token.encode() not in bytes(row.token_hash) for row in stored)
    assert all(row.password_hash.startswith("$argon2id$") for row in stored)


def test_a_wrong_password_is_401_and_says_so(client: httpx.Client, engine: Engine) -> None:
    make_user(engine, "wrong.pw", "unit_staff", "urenco")
    response = token_for(client, "wrong.pw", "not the password")
    assert response.status_code == 401
    assert response.json()["detail"] == "wrong username or password"
    assert response.headers["www-authenticate"] == "Bearer"
    unknown = token_for(client, "nobody.at.all", "whatever1")
    assert unknown.status_code == 401
    assert unknown.json()["detail"] == "wrong username or password"  # no username probing


def test_a_missing_field_names_it(client: httpx.Client) -> None:
    response = client.post("/api/v1/auth/token", data={"username": "someone"})
    assert response.status_code == 422
    assert "password" in response.json()["detail"]


def test_no_token_or_a_made_up_one_is_401(client: httpx.Client) -> None:
    assert client.get("/api/v1/auth/me").status_code == 401
    response = client.get("/api/v1/auth/me", headers={"Authorization": "Bearer made-up"})
    assert response.status_code == 401
    assert "not valid" in response.json()["detail"]
    basic = client.get("/api/v1/auth/me", headers={"Authorization": "Basic dXNlcjpwYXNz"})
    assert basic.status_code == 401
    assert "Bearer" in basic.json()["detail"]


def test_an_expired_token_is_401_with_its_own_message(client: httpx.Client, engine: Engine) -> None:
    make_user(engine, "expiring", "unit_staff", "urenco")
    headers = login(client, "expiring")
    assert client.get("/api/v1/auth/me", headers=headers).status_code == 200
    with engine.begin() as conn:
        conn.execute(
            text(
                "UPDATE sessions SET expires_at = now() - interval '1 second'"
                " WHERE user_id = (SELECT id FROM users WHERE username = 'expiring')"
            )
        )
    response = client.get("/api/v1/auth/me", headers=headers)
    assert response.status_code == 401
    assert response.json()["detail"] == "the session has expired; log in again"


def test_a_token_lasts_as_long_as_the_setting_says(client: httpx.Client, engine: Engine) -> None:
    make_user(engine, "lifetime", "planner")
    token_for(client, "lifetime", DEFAULT_PASSWORD)
    with engine.connect() as conn:
        hours = conn.execute(
            text(
                "SELECT extract(epoch FROM s.expires_at - s.created_at) / 3600 FROM sessions s"
                " JOIN users u ON u.id = s.user_id WHERE u.username = 'lifetime'"
            )
        ).scalar_one()
    assert round(float(hours), 3) == 12.0  # Settings.session_hours default


def test_logout_revokes_the_token_and_only_that_one(client: httpx.Client, engine: Engine) -> None:
    make_user(engine, "two.phones", "unit_manager", "so-nnmt")
    phone, laptop = login(client, "two.phones"), login(client, "two.phones")
    assert client.post("/api/v1/auth/logout", headers=phone).status_code == 204
    again = client.get("/api/v1/auth/me", headers=phone)
    assert again.status_code == 401 and "logged out" in again.json()["detail"]
    assert client.get("/api/v1/auth/me", headers=laptop).status_code == 200
    assert client.post("/api/v1/auth/logout").status_code == 401


def test_a_disabled_user_cannot_log_in_and_is_logged_out(
    client: httpx.Client, engine: Engine, database_url: str
) -> None:
    make_user(engine, "leaving", "unit_staff", "urenco")
    headers = login(client, "leaving")
    result = cli(database_url, "users", "disable", "leaving")
    assert result.returncode == 0, result.stderr
    assert client.get("/api/v1/auth/me", headers=headers).status_code == 401
    response = token_for(client, "leaving", DEFAULT_PASSWORD)
    assert response.status_code == 403
    assert "disabled" in response.json()["detail"]
    wrong = token_for(client, "leaving", "not the password")
    assert wrong.status_code == 401  # a wrong password does not learn the account state


def test_unit_roles_need_a_unit_and_the_database_insists(engine: Engine) -> None:
    with engine.connect() as conn:
        try:
            conn.execute(
                text(
                    "INSERT INTO users (username, password_hash, role)"
                    " VALUES ('no.unit', 'x', 'unit_staff')"
                )
            )
        except Exception as exc:
            assert "users_unit_roles_have_a_unit" in str(exc)
        else:
            raise AssertionError("a unit_staff without a unit was stored")


def run_create(database_url: str, password: str, *args: str) -> subprocess.CompletedProcess[str]:
    return cli(database_url, "users", "create", "--password-stdin", *args, stdin=password + "\n")


def test_an_operator_creates_an_official_who_can_then_log_in(
    client: httpx.Client, database_url: str
) -> None:
    result = run_create(
        database_url,
        "ward-pass-2026",
        "--username",
        "Hoa.Ubnd",
        "--role",
        "unit_staff",
        "--unit",
        "urenco",
        "--display-name",
        "Nguyễn Thị Hoa",
    )
    assert result.returncode == 0, result.stderr
    assert "hoa.ubnd" in result.stdout
    listed = cli(database_url, "users", "list", "--unit", "urenco")
    assert "hoa.ubnd" in listed.stdout and "Nguyễn Thị Hoa" in listed.stdout
    assert token_for(client, "hoa.ubnd", "ward-pass-2026").status_code == 200

    again = run_create(database_url, "another-pass", "--username", "hoa.ubnd", "--role", "planner")
    assert again.returncode == 2 and "already taken" in again.stderr


def test_the_cli_refuses_bad_roles_and_units(database_url: str, engine: Engine) -> None:
    cases = [
        (["--username", "x.role", "--role", "mayor"], "'mayor' is not one of"),
        (["--username", "x.nounit", "--role", "unit_staff"], "must belong to a unit"),
        (
            ["--username", "x.badunit", "--role", "unit_manager", "--unit", "no-such-unit"],
            "no active unit with the code 'no-such-unit'",
        ),
        (["--username", "x.planner", "--role", "planner", "--unit", "urenco"], "belong to a unit"),
        (["--username", "x y", "--role", "citizen"], "username:"),
    ]
    for args, message in cases:
        result = run_create(database_url, "long-enough-1", *args)
        assert result.returncode == 2, (args, result.stdout)
        assert message in result.stderr, (args, result.stderr)
    short = run_create(database_url, "short", "--username", "x.short", "--role", "citizen")
    assert short.returncode == 2 and "at least 8 characters" in short.stderr
    with engine.connect() as conn:
        stored = conn.execute(text("SELECT count(*) FROM users WHERE username LIKE 'x.%'"))
        assert stored.scalar_one() == 0


def test_a_new_password_from_the_cli_ends_old_sessions(
    client: httpx.Client, engine: Engine, database_url: str
) -> None:
    make_user(engine, "forgetful", "unit_staff", "urenco")
    headers = login(client, "forgetful")
    result = cli(
        database_url,
        "users",
        "password",
        "forgetful",
        "--password-stdin",
        stdin="a-brand-new-one\n",
    )
    assert result.returncode == 0, result.stderr
    assert client.get("/api/v1/auth/me", headers=headers).status_code == 401
    assert token_for(client, "forgetful", DEFAULT_PASSWORD).status_code == 401
    assert token_for(client, "forgetful", "a-brand-new-one").status_code == 200


def test_too_many_wrong_passwords_pause_that_username_from_that_address(
    client: httpx.Client, engine: Engine
) -> None:
    make_user(engine, "guessed.at", "unit_staff", "urenco")
    make_user(engine, "neighbour", "unit_staff", "urenco")
    for _ in range(5):  # Settings.login_max_failures
        assert token_for(client, "guessed.at", "guess-guess").status_code == 401
    paused = token_for(client, "guessed.at", DEFAULT_PASSWORD)  # even the right one
    assert paused.status_code == 429
    assert 1 <= int(paused.headers["retry-after"]) <= 900
    assert "try again in" in paused.json()["detail"]
    assert token_for(client, "neighbour", DEFAULT_PASSWORD).status_code == 200

    with engine.begin() as conn:  # the window passes
        conn.execute(text("UPDATE login_failures SET at = at - interval '16 minutes'"))
    assert token_for(client, "guessed.at", DEFAULT_PASSWORD).status_code == 200
    with engine.connect() as conn:
        left = conn.execute(
            text("SELECT count(*) FROM login_failures WHERE username = 'guessed.at'")
        ).scalar_one()
    assert left == 0  # a successful login forgives the old failures
