"""Other software finds its way through the OpenAPI description."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import httpx

from tests.conftest import Server


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


def test_every_error_of_the_json_api_is_declared_with_its_one_shape(client: httpx.Client) -> None:
    spec = client.get("/openapi.json").json()
    assert "HTTPValidationError" not in spec["components"]["schemas"]
    body = spec["components"]["schemas"]["ErrorBody"]
    assert set(body["required"]) == {"detail", "code"}
    declared: dict[str, set[str]] = {}
    for path, operations in spec["paths"].items():
        for method, operation in operations.items():
            for status, response in operation["responses"].items():
                if int(status) < 400:
                    continue
                schema = response["content"]["application/json"]["schema"]["$ref"]
                expected = "Open311Errors" if path.startswith("/open311/") else "ErrorBody"
                assert schema.endswith(expected), (method, path, status)
                declared.setdefault(f"{method} {path}", set()).add(status)
    assert declared["get /api/v1/reports/{report_id}"] == {"404", "422"}
    assert {"401", "403", "404", "409", "422"} <= declared[
        "post /api/v1/staff/reports/{report_id}/transitions"
    ]
    # And the answers have that shape, for a domain error, a validation error, an unknown
    # path and a wrong method alike.
    for response, status in [
        (client.get("/api/v1/reports/999999999999"), 404),
        (client.get("/api/v1/locate", params={"lat": "north"}), 422),
        (client.get("/api/v1/no-such-thing"), 404),
        (client.delete("/api/v1/categories"), 405),
    ]:
        assert response.status_code == status
        answer = response.json()
        assert set(answer) == {"detail", "code", "errors", "context"}, answer
        assert answer["detail"]


GENERATED_CLIENT_STORY = """
import sys
from gsclient import Client
from gsclient.api.reports import get_report_api_v1_reports_report_id_get as get_report
from gsclient.api.reports import post_report_api_v1_reports_post as post_report
from gsclient.models.error_body import ErrorBody
from gsclient.models.post_report_api_v1_reports_post_json_report_in import (
    PostReportApiV1ReportsPostJsonReportIn as ReportIn,
)
from gsclient.models.report_created import ReportCreated
from gsclient.models.report_feature import ReportFeature

client = Client(base_url=sys.argv[1], headers={"Accept-Language": "en"})
created = post_report.sync(
    client=client,
    body=ReportIn(category="noise", description="Karaoke until 2 am", lat=21.0287, lon=105.8524),
)
assert isinstance(created, ReportCreated), created
feature = get_report.sync(report_id=created.id, client=client)
assert isinstance(feature, ReportFeature), feature
assert feature.properties.category == "noise" and feature.id == created.id
missing = get_report.sync(report_id=999999999999, client=client)
assert isinstance(missing, ErrorBody), missing
assert missing.code == "not_found" and "999999999999" in missing.detail
print("ok", created.id)
"""


def test_a_client_generated_from_the_spec_creates_reads_and_reads_an_error(
    client: httpx.Client, server: Server, tmp_path: Path
) -> None:
    """openapi-python-client, unmodified, from our /openapi.json."""
    spec = tmp_path / "openapi.json"
    spec.write_text(client.get("/openapi.json").text)
    bin_dir = Path(sys.executable).parent
    env = {**os.environ, "PATH": f"{bin_dir}:{os.environ['PATH']}"}
    generate = subprocess.run(
        [str(bin_dir / "openapi-python-client"), "generate", "--path", str(spec),
         "--output-path", str(tmp_path / "gsclient"), "--meta", "none"],
        capture_output=True, text=True, env=env, timeout=300,
    )  # fmt: skip
    assert generate.returncode == 0, generate.stdout + generate.stderr
    story = subprocess.run(
        [sys.executable, "-c", GENERATED_CLIENT_STORY, server.url],
        capture_output=True, text=True, env={**env, "PYTHONPATH": str(tmp_path)}, timeout=120,
    )  # fmt: skip
    assert story.returncode == 0, story.stdout + story.stderr
    assert story.stdout.startswith("ok")
