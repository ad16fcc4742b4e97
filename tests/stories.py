"""Helpers for the workflow stories: a citizen files a report, an official of the unit it went
to logs in and moves it on, all over HTTP like the real clients."""

from __future__ import annotations

import io
import itertools
from typing import Any

import httpx
from PIL import Image
from sqlalchemy import Engine

from tests.conftest import login, make_user

HOAN_KIEM = {"lat": 21.0287, "lon": 105.8524}  # ward 00070, garbage goes to URENCO
DONG_DA = {"lat": 21.0155559, "lon": 105.8267948}
_seq = itertools.count(1)


def file_report(client: httpx.Client, category: str = "garbage_uncollected", **fields: Any) -> Any:
    """A citizen reports a problem; returns the API's answer (id, token, unit, deadline...)."""
    body = {
        "category": category,
        "description": f"Rác bốc mùi cả tuần, phản ánh số {next(_seq)}",
        **HOAN_KIEM,
        **fields,
    }
    response = client.post("/api/v1/reports", json=body)
    assert response.status_code == 201, response.text
    return response.json()


def official(
    client: httpx.Client, engine: Engine, unit: str, role: str = "unit_staff", name: str = ""
) -> dict[str, str]:
    """Log in an official of `unit` (created if needed); returns the auth headers."""
    username = name or f"{role}-{unit}"
    make_user(engine, username, role, None if role in ("planner", "admin", "citizen") else unit)
    return login(client, username)


def move(
    client: httpx.Client, headers: dict[str, str], report_id: int, to: str, **fields: Any
) -> httpx.Response:
    """Transition a report, sending the version the official sees now unless one is given."""
    if "version" not in fields:
        current = client.get(f"/api/v1/staff/reports/{report_id}", headers=headers)
        assert current.status_code == 200, current.text
        fields["version"] = current.json()["version"]
    return client.post(
        f"/api/v1/staff/reports/{report_id}/transitions", json={"to": to, **fields}, headers=headers
    )


def moved(
    client: httpx.Client, headers: dict[str, str], report_id: int, to: str, **fields: Any
) -> Any:
    response = move(client, headers, report_id, to, **fields)
    assert response.status_code == 201, response.text
    return response.json()


def jpeg(colour: tuple[int, int, int] = (40, 160, 60)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (640, 480), colour).save(out, format="JPEG")
    return out.getvalue()
