"""Other software finds its way through the OpenAPI description."""

from __future__ import annotations

import httpx


def test_the_openapi_spec_describes_every_public_endpoint(client: httpx.Client) -> None:
    spec = client.get("/openapi.json").json()
    assert spec["openapi"].startswith("3.")
    for path in (
        "/api/v1/locate",
        "/api/v1/reports",
        "/api/v1/reports/{report_id}",
        "/api/v1/categories",
        "/api/v1/units",
        "/api/v1/boundaries/wards",
        "/healthz",
        "/readyz",
    ):
        assert path in spec["paths"], path
    create = spec["paths"]["/api/v1/reports"]["post"]
    assert set(create["requestBody"]["content"]) == {"application/json", "multipart/form-data"}
    locate = spec["paths"]["/api/v1/locate"]["get"]
    assert locate["responses"]["200"]["content"]["application/json"]["schema"]
    assert client.get("/docs").status_code == 200
