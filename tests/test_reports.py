"""A citizen's report: created, routed, stored with its photos, read back without anyone's
contact details, and every bad input refused with a message naming the field."""

from __future__ import annotations

import io
import json
from fractions import Fraction
from pathlib import Path

import httpx
import pytest
from PIL import Image
from sqlalchemy import Engine, text

from tests.conftest import Server

HOAN_KIEM = {"lat": 21.0287, "lon": 105.8524}
MY_DINH = {"lat": 21.0283, "lon": 105.7782}


def report(**fields: object) -> dict[str, object]:
    return {
        "category": "illegal_dumping",
        "description": "Đổ phế thải xây dựng",
        **HOAN_KIEM,
        **fields,
    }


def jpeg(width: int = 800, height: int = 600, gps: tuple[float, float] | None = None) -> bytes:
    """A real JPEG, optionally with an EXIF GPS block and a camera model."""
    image = Image.new("RGB", (width, height), (180, 90, 40))
    exif = Image.Exif()
    exif[0x0110] = "Citizen Phone 12"  # Model: personal data the stored copy must not keep
    if gps:
        lat, lon = gps

        def dms(value: float) -> tuple[Fraction, Fraction, Fraction]:
            d = int(value)
            m = int((value - d) * 60)
            s = Fraction(round(((value - d) * 60 - m) * 60 * 1000), 1000)
            return (Fraction(d), Fraction(m), s)

        exif[0x8825] = {1: "N", 2: dms(lat), 3: "E", 4: dms(lon)}
    out = io.BytesIO()
    image.save(out, format="JPEG", exif=exif)
    return out.getvalue()


def count_rows(engine: Engine) -> tuple[int, int, int]:
    with engine.connect() as conn:
        return tuple(  # type: ignore[return-value]
            conn.execute(
                text(
                    "SELECT (SELECT count(*) FROM reports), (SELECT count(*) FROM report_events),"
                    " (SELECT count(*) FROM report_photos)"
                )
            ).one()
        )


def test_a_pin_in_hoan_kiem_becomes_a_report_for_hoan_kiems_committee(
    client: httpx.Client, engine: Engine
) -> None:
    r = client.post("/api/v1/reports", json=report())
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["ward"] == {
        "code": "00070",
        "name": "Hoàn Kiếm",
        "boundary_set": "hanoi-wards-2025",
    }
    assert body["unit"]["code"] == "ubnd-00070"
    assert body["status"] == "received"
    assert len(body["token"]) >= 20 and body["tracking_url"] == f"/r/{body['token']}"
    with engine.connect() as conn:
        row = conn.execute(
            text(
                "SELECT ward_code, boundary_set_id,"
                " gs_working_hours_between(created_at, deadline_at) AS allowed,"
                " (SELECT count(*) FROM report_events e WHERE e.report_id = r.id) AS events"
                " FROM reports r WHERE id = :id"
            ),
            {"id": body["id"]},
        ).one()
    assert row.ward_code == "00070" and row.events == 1
    assert row.allowed == 48  # illegal dumping: 48 working hours (test_deadlines.py)


def test_a_flooded_street_goes_to_the_drainage_company(client: httpx.Client) -> None:
    r = client.post("/api/v1/reports", json=report(category="flooding", **MY_DINH))
    assert r.status_code == 201
    assert r.json()["unit"]["code"] == "thoat-nuoc"


def test_contact_details_are_stored_but_never_shown(client: httpx.Client, engine: Engine) -> None:
    created = client.post(
        "/api/v1/reports",
        json=report(name="Nguyễn Văn A", phone="+84 912 345 678", email="a@example.vn"),
    ).json()
    with engine.connect() as conn:
        stored = conn.execute(
            text("SELECT reporter_name, reporter_phone, reporter_email FROM reports WHERE id = :i"),
            {"i": created["id"]},
        ).one()
    assert tuple(stored) == ("Nguyễn Văn A", "+84 912 345 678", "a@example.vn")
    one = client.get(f"/api/v1/reports/{created['id']}").text
    listed = client.get("/api/v1/reports", params={"ward": "00070", "page_size": 500}).text
    for public in (one, listed):
        assert "Nguyễn Văn A" not in public and "345 678" not in public
        assert "a@example.vn" not in public and "reporter" not in public
        assert created["token"] not in public


def test_a_report_reads_back_as_geojson(client: httpx.Client) -> None:
    created = client.post("/api/v1/reports", json=report(description="Rác tràn ra đường")).json()
    r = client.get(f"/api/v1/reports/{created['id']}")
    assert r.status_code == 200
    assert r.headers["content-type"] == "application/geo+json"
    feature = r.json()
    assert feature["type"] == "Feature"
    assert feature["geometry"] == {"type": "Point", "coordinates": [105.8524, 21.0287]}
    props = feature["properties"]
    assert props["description"] == "Rác tràn ra đường"
    assert props["ward_code"] == "00070" and props["unit_code"] == "ubnd-00070"
    assert props["overdue"] is False


def test_the_list_filters_by_bbox_category_status_and_ward_and_pages(client: httpx.Client) -> None:
    for _ in range(3):
        client.post("/api/v1/reports", json=report(category="noise", **MY_DINH))
    my_dinh_box = "105.770,21.020,105.785,21.035"
    r = client.get(
        "/api/v1/reports",
        params={"bbox": my_dinh_box, "category": "noise", "status": "received", "page_size": 2},
    )
    assert r.status_code == 200
    page1 = r.json()
    assert page1["type"] == "FeatureCollection" and len(page1["features"]) == 2
    assert all(f["properties"]["category"] == "noise" for f in page1["features"])
    assert [link["rel"] for link in page1["links"]] == ["next"]
    page2 = client.get(page1["links"][0]["href"]).json()
    assert {f["id"] for f in page2["features"]}.isdisjoint(f["id"] for f in page1["features"])
    assert "prev" in [link["rel"] for link in page2["links"]]
    elsewhere = client.get("/api/v1/reports", params={"bbox": "105.0,20.6,105.1,20.7"}).json()
    assert elsewhere["features"] == []
    ward = client.get("/api/v1/reports", params={"ward": "00070"}).json()
    assert ward["features"] and all(
        f["properties"]["ward_code"] == "00070" for f in ward["features"]
    )


def test_a_photo_is_stored_resized_without_exif(client: httpx.Client, server: Server) -> None:
    big = jpeg(4000, 3000, gps=(21.03, 105.85))
    r = client.post(
        "/api/v1/reports",
        data={k: str(v) for k, v in report().items()},
        files=[("photos", ("street.jpg", big, "image/jpeg"))],
    )
    assert r.status_code == 201, r.text
    (url,) = r.json()["photos"]
    stored = client.get(url)
    assert stored.status_code == 200
    image = Image.open(io.BytesIO(stored.content))
    assert max(image.size) == 2048
    assert not image.getexif()  # no camera model, no GPS
    name = Path(url).name
    assert len(name) == 64 + 4  # sha256 + .jpg
    assert (server.media_dir / "photos" / name[:2] / name).exists()


def test_a_photo_with_gps_places_a_report_without_a_pin(client: httpx.Client) -> None:
    fields = {"category": "road_damage", "description": "Ổ gà lớn"}
    r = client.post(
        "/api/v1/reports",
        data=fields,
        files=[("photos", ("pothole.jpg", jpeg(gps=(21.0287, 105.8524)), "image/jpeg"))],
    )
    assert r.status_code == 201, r.text
    assert r.json()["location_source"] == "photo"
    assert r.json()["ward"]["code"] == "00070"


def stored_files(server: Server) -> set[Path]:
    return {p for p in (server.media_dir / "photos").rglob("*") if p.is_file()}


def test_a_pin_outside_the_city_is_refused_and_nothing_is_written(
    client: httpx.Client, engine: Engine, server: Server
) -> None:
    before = count_rows(engine)
    files_before = stored_files(server)
    r = client.post(
        "/api/v1/reports",
        data={k: str(v) for k, v in report(lat=10.7769, lon=106.7009).items()},
        files=[("photos", ("a.jpg", jpeg(1237, 811), "image/jpeg"))],
    )
    assert r.status_code == 422
    assert "outside the city limit" in r.json()["detail"]
    assert count_rows(engine) == before
    # The photo was stored before the report was refused; it does not stay behind.
    assert stored_files(server) == files_before


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"lat": None, "lon": None}, "lat"),
        ({"lat": "abc"}, "lat"),
        ({"lat": 91}, "lat"),
        ({"lon": -181}, "lon"),
        ({"lon": None}, "lon"),
        ({"category": "alien_invasion"}, "category"),
        ({"category": None}, "category"),
        ({"description": ""}, "description"),
        ({"description": "x" * 4001}, "description"),
        ({"name": "n" * 121}, "name"),
        ({"phone": "call me maybe"}, "phone"),
        ({"email": "not-an-email"}, "email"),
        ({"priority": "yesterday"}, "priority"),
        ({"colour": "red"}, "colour"),
    ],
)
def test_bad_fields_get_a_422_naming_the_field(
    client: httpx.Client, engine: Engine, changes: dict[str, object], field: str
) -> None:
    body = {k: v for k, v in {**report(), **changes}.items() if v is not None}
    before = count_rows(engine)
    r = client.post("/api/v1/reports", json=body)
    assert r.status_code == 422, r.text
    assert r.json()["errors"][0]["field"] == field
    assert field in r.json()["detail"]
    assert count_rows(engine) == before


def test_nan_coordinates_are_refused(client: httpx.Client) -> None:
    r = client.post(
        "/api/v1/reports",
        content=json.dumps(report(lat=float("nan"))),
        headers={"content-type": "application/json"},
    )
    assert r.status_code == 422
    assert r.json()["errors"][0]["field"] == "lat"


def test_broken_json_and_other_content_types_are_refused(client: httpx.Client) -> None:
    r = client.post(
        "/api/v1/reports", content=b"{not json", headers={"content-type": "application/json"}
    )
    assert r.status_code == 422 and "JSON" in r.json()["detail"]
    r = client.post("/api/v1/reports", content=b"hello", headers={"content-type": "text/plain"})
    assert r.status_code == 415


@pytest.mark.parametrize(
    ("upload", "status", "words"),
    [
        (("notes.txt", b"this is not a picture", "image/jpeg"), 415, "not an image"),
        (("half.jpg", jpeg()[:400], "image/jpeg"), 415, "damaged"),
        (("empty.jpg", b"", "image/jpeg"), 422, "empty"),
    ],
)
def test_uploads_that_are_not_good_images_are_refused_and_nothing_is_written(
    client: httpx.Client, engine: Engine, upload: tuple[str, bytes, str], status: int, words: str
) -> None:
    before = count_rows(engine)
    r = client.post(
        "/api/v1/reports",
        data={k: str(v) for k, v in report().items()},
        files=[("photos", ("ok.jpg", jpeg(), "image/jpeg")), ("photos", upload)],
    )
    assert r.status_code == status, r.text
    assert r.json()["errors"][0]["field"] == "photos[1]"
    assert words in r.json()["detail"]
    assert count_rows(engine) == before


def test_an_oversized_photo_is_refused_with_413(client: httpx.Client) -> None:
    huge = b"\xff\xd8" + b"0" * (10 * 1024 * 1024 + 10)
    r = client.post(
        "/api/v1/reports",
        data={k: str(v) for k, v in report().items()},
        files=[("photos", ("huge.jpg", huge, "image/jpeg"))],
    )
    assert r.status_code == 413
    assert "photos[0]" in r.json()["detail"]


def test_more_than_three_photos_are_refused(client: httpx.Client) -> None:
    r = client.post(
        "/api/v1/reports",
        data={k: str(v) for k, v in report().items()},
        files=[("photos", (f"{i}.jpg", jpeg(64, 64), "image/jpeg")) for i in range(4)],
    )
    assert r.status_code in (400, 422)
    assert "photos" in r.json()["detail"]


def test_unknown_report_ids_are_404_and_bad_ones_422(client: httpx.Client) -> None:
    assert client.get("/api/v1/reports/999999999").status_code == 404
    assert client.get("/api/v1/reports/abc").status_code == 422
    assert client.get("/api/v1/reports/0").status_code == 422


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"bbox": "1,2,3"}, "bbox"),
        ({"bbox": "106,21,105,22"}, "bbox"),
        ({"bbox": "a,b,c,d"}, "bbox"),
        ({"category": "nope"}, "category"),
        ({"status": "lost"}, "status"),
        ({"page": 0}, "page"),
        ({"page_size": 10_000}, "page_size"),
    ],
)
def test_bad_list_filters_get_a_422_naming_the_field(
    client: httpx.Client, params: dict[str, object], field: str
) -> None:
    r = client.get("/api/v1/reports", params=params)
    assert r.status_code == 422, r.text
    assert r.json()["errors"][0]["field"].startswith(field)


def test_a_picture_with_too_many_pixels_is_refused_before_it_is_decoded(
    client: httpx.Client,
) -> None:
    out = io.BytesIO()
    Image.new("L", (8000, 6000)).save(out, format="PNG")  # 48 MP, a few kB compressed
    r = client.post(
        "/api/v1/reports",
        data={k: str(v) for k, v in report().items()},
        files=[("photos", ("bomb.png", out.getvalue(), "image/png"))],
    )
    assert r.status_code == 413
    assert "8000x6000 pixels" in r.json()["detail"]
