"""An existing Open311 GeoReport v2 client talks to us with no changes: the documents it reads
are the spec's, in XML (parsed here with a real XML parser) and in JSON."""

from __future__ import annotations

import hashlib
import json
import unicodedata
import xml.etree.ElementTree as ET
from typing import Any
from urllib.parse import urlencode

import httpx
import pytest
from pydantic import ValidationError
from sqlalchemy import Engine, text

from geo_service.config import Settings
from geo_service.profile import Attribute, CategorySeed, load_profile
from tests.conftest import cli

V2 = "/open311/v2"
XML_DECLARATION = b'<?xml version="1.0" encoding="utf-8"?>'
PROFILE = load_profile(Settings().city_profile)
JURISDICTION = PROFILE.city.jurisdiction_id


def get_xml(client: httpx.Client, path: str, **params: Any) -> ET.Element:
    r = client.get(f"{V2}/{path}.xml", params=params)
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == "text/xml; charset=utf-8"
    assert r.content.startswith(XML_DECLARATION)
    root = ET.fromstring(r.content)
    assert not any(el.tag.startswith("{") for el in root.iter()), "no namespaces"
    return root


def get_json(client: httpx.Client, path: str, **params: Any) -> Any:
    r = client.get(f"{V2}/{path}.json", params=params)
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == "application/json; charset=utf-8"
    return r.json()


def assert_error(r: httpx.Response, status: int, fmt: str, words: str) -> str:
    """The spec's errors array, with the HTTP status repeated as the error code."""
    assert r.status_code == status, r.text
    if fmt == "xml":
        assert r.content.startswith(XML_DECLARATION)
        root = ET.fromstring(r.content)
        assert root.tag == "errors"
        errors = [(int(e.findtext("code", "")), e.findtext("description", "")) for e in root]
    else:
        errors = [(e["code"], e["description"]) for e in r.json()]
    assert len(errors) == 1
    code, description = errors[0]
    assert code == status
    assert words.lower() in description.lower(), description
    return description


def test_discovery_names_the_endpoint_its_formats_contact_and_key_service(
    client: httpx.Client,
) -> None:
    root = get_xml(client, "discovery")
    assert root.tag == "discovery"
    assert [child.tag for child in root] == ["changeset", "contact", "key_service", "endpoints"]
    (endpoint,) = root.find("endpoints") or []
    assert endpoint.findtext("specification") == "http://wiki.open311.org/GeoReport_v2"
    assert endpoint.findtext("url", "").endswith("/open311/v2")
    assert endpoint.findtext("type") == "production"
    assert [f.text for f in endpoint.iter("format")] == ["text/xml", "application/json"]
    body = get_json(client, "discovery")
    assert body["changeset"] == root.findtext("changeset")
    assert body["changeset"].endswith(("Z", "+00:00"))
    assert body["endpoints"][0]["formats"] == ["text/xml", "application/json"]
    assert body["contact"] and body["key_service"]


def test_every_category_is_a_realtime_service_with_a_string_code(client: httpx.Client) -> None:
    services = get_json(client, "services")
    codes = {s["service_code"] for s in services}
    assert codes == {c.code for c in PROFILE.categories}
    by_code = {s["service_code"]: s for s in services}
    garbage = by_code["garbage_uncollected"]
    assert garbage["service_name"] == "Rác thải không được thu gom"
    assert garbage["description"] == "Uncollected garbage"
    assert garbage["group"] == "Môi trường"
    assert garbage["type"] == "realtime"
    assert garbage["keywords"] == "rác, thu gom, garbage, waste"
    assert garbage["metadata"] is True
    assert by_code["noise"]["metadata"] is False
    assert all(isinstance(s["service_code"], str) for s in services)

    root = get_xml(client, "services")
    assert root.tag == "services"
    assert {s.tag for s in root} == {"service"}
    xml_garbage = next(s for s in root if s.findtext("service_code") == "garbage_uncollected")
    assert [c.tag for c in xml_garbage] == [
        "service_code",
        "service_name",
        "description",
        "metadata",
        "type",
        "keywords",
        "group",
    ]
    assert xml_garbage.findtext("metadata") == "true"
    assert xml_garbage.findtext("service_name") == "Rác thải không được thu gom"


def test_a_service_definition_lists_its_attributes_in_order_with_values(
    client: httpx.Client,
) -> None:
    body = get_json(client, "services/broken_street_light")
    assert body["service_code"] == "broken_street_light"
    attributes = body["attributes"]
    assert [a["code"] for a in attributes] == ["pole_number", "lamp_fault", "noticed_at"]
    assert [a["order"] for a in attributes] == [1, 2, 3]
    fault = attributes[1]
    assert fault["datatype"] == "singlevaluelist"
    assert fault["required"] is True and fault["variable"] is True
    assert {"key": "dark", "name": "Không sáng vào ban đêm"} in fault["values"]
    assert attributes[0]["datatype_description"] == "Ví dụ: HK-0123"

    root = get_xml(client, "services/garbage_uncollected")
    assert root.tag == "service_definition"
    assert root.findtext("service_code") == "garbage_uncollected"
    (kind, days) = root.find("attributes") or []
    assert kind.tag == "attribute"
    assert kind.findtext("datatype") == "multivaluelist"
    assert kind.findtext("required") == "true"
    assert [v.findtext("key") for v in kind.iter("value")] == [
        "household",
        "bulky",
        "rubble",
        "green",
    ]
    assert days.findtext("datatype") == "number"
    assert days.findtext("required") == "false"
    assert days.find("values") is None

    # A category without questions has a definition with no attributes.
    assert get_json(client, "services/noise") == {"service_code": "noise", "attributes": []}
    empty = get_xml(client, "services/noise")
    assert empty.find("attributes") is not None and len(empty.find("attributes") or []) == 0


def test_our_jurisdiction_is_accepted_and_any_other_is_not_found(client: httpx.Client) -> None:
    assert get_json(client, "services", jurisdiction_id=JURISDICTION)
    assert get_json(client, "services", jurisdiction_id="")  # empty is absent
    for fmt in ("xml", "json"):
        r = client.get(f"{V2}/services.{fmt}", params={"jurisdiction_id": "elsewhere.example"})
        assert_error(r, 404, fmt, "jurisdiction_id: 'elsewhere.example' not found")
        r = client.get(
            f"{V2}/services/noise.{fmt}", params={"jurisdiction_id": "elsewhere.example"}
        )
        assert_error(r, 404, fmt, "jurisdiction_id")


@pytest.mark.parametrize("fmt", ["xml", "json"])
def test_unknown_services_formats_and_paths_are_404_in_the_errors_array(
    client: httpx.Client, fmt: str
) -> None:
    assert_error(client.get(f"{V2}/services/no_such_thing.{fmt}"), 404, fmt, "no_such_thing")
    assert_error(client.get(f"{V2}/nothing_here.{fmt}"), 404, fmt, "not an Open311")
    assert_error(client.get(f"{V2}/services.csv"), 404, "xml", "use .xml or .json")


# --- keys, POST and GET requests ---------------------------------------------------------

BA_DINH_PIN = {"lat": "21.0356", "long": "105.8330"}  # near Ba Đình square


def new_key(database_url: str, client_name: str) -> str:
    done = cli(database_url, "open311", "keys", "create", "--client", client_name)
    assert done.returncode == 0, done.stderr
    key = done.stdout.strip().splitlines()[-1]
    assert key.startswith("o311_") and len(key) > 40
    return key


@pytest.fixture(scope="module")
def api_key(database_url: str) -> str:
    return new_key(database_url, "Ứng dụng phản ánh hiện trường (test)")


def post(client: httpx.Client, fmt: str, **form: Any) -> httpx.Response:
    return client.post(f"{V2}/requests.{fmt}", data=form)


def created_id(r: httpx.Response, fmt: str) -> int:
    assert r.status_code == 200, r.text
    if fmt == "xml":
        root = ET.fromstring(r.content)
        assert root.tag == "service_requests"
        (item,) = root
        assert [c.tag for c in item] == ["service_request_id", "service_notice", "account_id"]
        return int(item.findtext("service_request_id", ""))
    (item,) = r.json()
    assert set(item) == {"service_request_id", "service_notice", "account_id"}
    return int(item["service_request_id"])


def report_count(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(conn.execute(text("SELECT count(*) FROM reports")).scalar_one())


def test_an_operator_creates_lists_and_revokes_keys_that_are_stored_hashed(
    database_url: str, engine: Engine, client: httpx.Client
) -> None:
    key = new_key(database_url, "Báo Tuổi Trẻ data desk")
    listed = cli(database_url, "open311", "keys", "list")
    assert listed.returncode == 0
    line = next(x for x in listed.stdout.splitlines() if "Báo Tuổi Trẻ data desk" in x)
    assert key not in listed.stdout and key[:11] in line and "active" in line
    with engine.connect() as conn:
        stored = conn.execute(
            text("SELECT id, key_hash FROM open311_keys WHERE client = 'Báo Tuổi Trẻ data desk'")
        ).one()
        assert (
            conn.execute(
                text("SELECT count(*) FROM open311_keys WHERE key_hash = :k"), {"k": key}
            ).scalar_one()
            == 0
        )
    assert stored.key_hash == hashlib.sha256(key.encode()).hexdigest()

    form = {"api_key": key, "service_code": "noise", "description": "Karaoke 2h sáng"}
    assert created_id(post(client, "json", **form, **BA_DINH_PIN), "json") > 0
    revoked = cli(database_url, "open311", "keys", "revoke", str(stored.id))
    assert revoked.returncode == 0, revoked.stderr
    assert "revoked" in cli(database_url, "open311", "keys", "list").stdout
    for fmt in ("xml", "json"):
        assert_error(post(client, fmt, **form, **BA_DINH_PIN), 403, fmt, "api_key")
    assert cli(database_url, "open311", "keys", "revoke", "999999").returncode != 0


@pytest.mark.parametrize("fmt", ["xml", "json"])
def test_a_posted_request_is_routed_exactly_like_a_report_from_our_api(
    client: httpx.Client, api_key: str, fmt: str
) -> None:
    r = post(
        client,
        fmt,
        api_key=api_key,
        jurisdiction_id=JURISDICTION,
        service_code="broken_street_light",
        description="Đèn đường trước số 12 tắt ba đêm liền",
        first_name="Nguyễn",
        last_name="Thị Hoa",
        email="hoa@example.vn",
        phone="0912 345 678",
        account_id="acct-42",
        device_id="dev-7",
        media_url="https://example.org/photos/den-hong.jpg",
        **{"attribute[lamp_fault]": "dark", "attribute[pole_number]": "BD-0311"},
        **BA_DINH_PIN,
    )
    request_id = created_id(r, fmt)
    ours = client.post(
        "/api/v1/reports",
        json={
            "category": "broken_street_light",
            "description": "Cùng chỗ, qua API của chúng tôi",
            "lat": float(BA_DINH_PIN["lat"]),
            "lon": float(BA_DINH_PIN["long"]),
        },
    ).json()
    (item,) = get_json(client, f"requests/{request_id}")
    assert item["service_request_id"] == request_id
    assert item["status"] == "open"
    assert item["service_code"] == "broken_street_light"
    assert item["service_name"] == "Đèn chiếu sáng công cộng hỏng"
    assert item["agency_responsible"] == ours["unit"]["name"]
    assert item["address"] == f"Phường {ours['ward']['name']}, {PROFILE.city.name}"
    assert item["media_url"] == "https://example.org/photos/den-hong.jpg"
    assert (item["lat"], item["long"]) == (21.0356, 105.833)
    assert item["expected_datetime"].endswith("+07:00")
    assert item["requested_datetime"] <= item["expected_datetime"]
    for secret in ("Hoa", "example.vn", "0912", "acct-42", "token"):
        assert secret not in json.dumps(item, ensure_ascii=False)
    public = client.get(f"/api/v1/reports/{request_id}").json()["properties"]
    assert public["unit_code"] == ours["unit"]["code"]
    assert public["ward_code"] == ours["ward"]["code"]
    if fmt == "json":
        (answer,) = r.json()
        assert answer["account_id"] == "acct-42"
        assert ours["unit"]["name"] in answer["service_notice"]
        assert item["service_notice"] == answer["service_notice"]


def test_vietnamese_text_round_trips_byte_for_byte(client: httpx.Client, api_key: str) -> None:
    # Precomposed and decomposed forms differ in bytes: both must come back untouched.
    text_nfc = "Nước ngập sâu ở ngõ 46 Quán Thánh – xe máy chết máy 🛵 «khẩn»"
    text_nfd = unicodedata.normalize("NFD", "Đường Hoàng Hoa Thám ngập")
    for description in (text_nfc, text_nfd):
        r = client.post(
            f"{V2}/requests.json",
            content=urlencode(
                {
                    "api_key": api_key,
                    "service_code": "flooding",
                    "description": description,
                    "attribute[water_depth]": "knee",
                    **BA_DINH_PIN,
                }
            ).encode("ascii"),
            headers={"content-type": "application/x-www-form-urlencoded"},
        )
        request_id = created_id(r, "json")
        raw_json = client.get(f"{V2}/requests/{request_id}.json").content
        assert description.encode("utf-8") in raw_json
        raw_xml = client.get(f"{V2}/requests/{request_id}.xml").content
        assert description.encode("utf-8") in raw_xml
        assert ET.fromstring(raw_xml).findtext("request/description") == description


def test_xml_special_characters_are_escaped_and_parse_back(
    client: httpx.Client, api_key: str
) -> None:
    description = 'Biển "cấm đỗ" <bị che> & gãy; ký tự lạ \x07 bị thay'
    request_id = created_id(
        post(
            client,
            "xml",
            api_key=api_key,
            service_code="illegal_parking",
            description=description,
            **BA_DINH_PIN,
        ),
        "xml",
    )
    root = get_xml(client, f"requests/{request_id}")
    assert root.findtext("request/description") == description.replace("\x07", "\ufffd")
    (item,) = get_json(client, f"requests/{request_id}")
    assert item["description"] == description


@pytest.mark.parametrize("fmt", ["xml", "json"])
def test_every_refused_post_says_why_and_stores_nothing(
    client: httpx.Client, engine: Engine, api_key: str, fmt: str
) -> None:
    ok = {"api_key": api_key, "service_code": "noise", "description": "Ồn", **BA_DINH_PIN}
    before = report_count(engine)
    cases: list[tuple[dict[str, Any], int, str]] = [
        ({**ok, "api_key": ""}, 403, "api_key"),
        ({**ok, "api_key": "o311_not-a-key"}, 403, "api_key"),
        ({**ok, "jurisdiction_id": "elsewhere.example"}, 404, "jurisdiction_id"),
        ({**ok, "service_code": ""}, 400, "service_code: was not provided"),
        ({**ok, "service_code": "unicorns"}, 400, "service_code: 'unicorns' not found"),
        ({k: v for k, v in ok.items() if k not in ("lat", "long")}, 400, "location"),
        ({**ok, "long": ""}, 400, "lat and long go together"),
        ({**ok, "lat": "abc"}, 400, "lat: 'abc' is not a number"),
        ({**ok, "lat": "95"}, 400, "lat"),
        ({**ok, "lat": "10.7769", "long": "106.7009"}, 400, "outside"),
        ({**ok, "description": "x" * 4001}, 400, "description: 4,001 characters"),
        ({**ok, "media_url": "ftp://example.org/a.jpg"}, 400, "media_url"),
        ({**ok, "email": "not-an-email"}, 400, "email"),
        ({**ok, "phone": "call me"}, 400, "phone"),
        ({**ok, "attribute[colour]": "red"}, 400, "attribute[colour]: not a question of noise"),
        (
            {**ok, "service_code": "road_damage"},
            400,
            "attribute[pothole_size]: is required",
        ),
        (
            {**ok, "service_code": "road_damage", "attribute[pothole_size]": "huge"},
            400,
            "'huge' is not one of large, medium, small",
        ),
        (
            {
                **ok,
                "service_code": "road_damage",
                "attribute[pothole_size][]": ["small", "large"],
            },
            400,
            "attribute[pothole_size]: takes one value",
        ),
        (
            {
                **ok,
                "service_code": "garbage_uncollected",
                "attribute[waste_kind][]": ["household", "furniture"],
            },
            400,
            "'furniture' is not one of",
        ),
        (
            {
                **ok,
                "service_code": "garbage_uncollected",
                "attribute[waste_kind]": "household",
                "attribute[days_uncollected]": "three",
            },
            400,
            "attribute[days_uncollected]: 'three' is not a number",
        ),
        (
            {
                **ok,
                "service_code": "broken_street_light",
                "attribute[lamp_fault]": "dark",
                "attribute[noticed_at]": "yesterday",
            },
            400,
            "attribute[noticed_at]",
        ),
        (
            {k: v for k, v in ok.items() if k not in ("lat", "long")} | {"address_id": "7"},
            400,
            "address_id: is not used",
        ),
        (
            {k: v for k, v in ok.items() if k not in ("lat", "long")}
            | {"address_string": "221B Baker Street, London"},
            400,
            "no ward name recognised",
        ),
    ]
    for form, status, words in cases:
        assert_error(post(client, fmt, **form), status, fmt, words)
    r = client.post(f"{V2}/requests.{fmt}", json=ok)
    assert_error(r, 400, fmt, "form-encoded")
    assert_error(post(client, fmt, **{**ok, "description": "ồ" * 100_000}), 400, fmt, "256 KB")
    raw = client.post(
        f"{V2}/requests.{fmt}",
        content=urlencode(ok).encode() + b"&first_name=%FF%FE",
        headers={"content-type": "application/x-www-form-urlencoded"},
    )
    assert_error(raw, 400, fmt, "not UTF-8")
    with_file = client.post(
        f"{V2}/requests.{fmt}", data=ok, files={"photo": ("a.jpg", b"\xff\xd8", "image/jpeg")}
    )
    assert_error(with_file, 400, fmt, "cannot be read")
    assert report_count(engine) == before


def test_a_multipart_form_is_read_like_a_urlencoded_one(client: httpx.Client, api_key: str) -> None:
    fields = {"api_key": api_key, "service_code": "noise", "description": "Ồn ào, hát karaoke"}
    fields |= BA_DINH_PIN
    boundary = "geo-service-open311"
    body = (
        "".join(
            f'--{boundary}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n'
            for k, v in fields.items()
        )
        + f"--{boundary}--\r\n"
    )
    r = client.post(
        f"{V2}/requests.json",
        content=body.encode("utf-8"),
        headers={"content-type": f"multipart/form-data; boundary={boundary}"},
    )
    request_id = created_id(r, "json")
    (item,) = get_json(client, f"requests/{request_id}")
    assert item["description"] == "Ồn ào, hát karaoke"


def test_attribute_answers_are_stored_with_the_report(
    client: httpx.Client, engine: Engine, api_key: str
) -> None:
    request_id = created_id(
        post(
            client,
            "json",
            api_key=api_key,
            service_code="garbage_uncollected",
            description="Rác dồn ba ngày ở đầu ngõ",
            **{
                "attribute[waste_kind][]": ["household", "bulky", "household"],
                "attribute[days_uncollected]": "3",
            },
            **BA_DINH_PIN,
        ),
        "json",
    )
    with engine.connect() as conn:
        row = conn.execute(
            text("SELECT attributes, source, open311_key_id FROM reports WHERE id = :i"),
            {"i": request_id},
        ).one()
    assert row.attributes == {"waste_kind": ["household", "bulky"], "days_uncollected": "3"}
    assert row.source == "open311" and row.open311_key_id is not None


@pytest.mark.parametrize(
    ("address", "ward"),
    [
        ("Số 8 phố Quán Thánh, phường Quán Thánh, quận Ba Đình, Hà Nội", "Phường Ba Đình"),
        ("so 5 pho giang vo, PHUONG GIANG VO, ha noi", "Phường Giảng Võ"),
        ("Ngõ 12 Khâm Thiên, P. Khâm Thiên, Q. Đống Đa", "Phường Văn Miếu - Quốc Tử Giám"),
        ("thôn Đông, xã Cổ Loa, huyện Đông Anh", "Xã Đông Anh"),
    ],
)
def test_a_written_address_is_placed_in_its_ward_even_by_its_pre_2025_name(
    client: httpx.Client, api_key: str, address: str, ward: str
) -> None:
    request_id = created_id(
        post(
            client,
            "json",
            api_key=api_key,
            service_code="illegal_dumping",
            description="Đổ trộm phế thải",
            address_string=address,
        ),
        "json",
    )
    (item,) = get_json(client, f"requests/{request_id}", extensions="true")
    assert item["ward"] == ward
    assert item["address"] == f"{ward}, {PROFILE.city.name}"
    public = client.get(f"/api/v1/reports/{request_id}").json()["properties"]
    assert public["location_source"] == "address"
    assert public["address"] == address


def test_a_former_ward_split_between_wards_is_ambiguous(client: httpx.Client, api_key: str) -> None:
    r = post(
        client,
        "xml",
        api_key=api_key,
        service_code="noise",
        description="Ồn",
        address_string="phường Kim Mã",
    )
    description = assert_error(r, 400, "xml", "ambiguous")
    for ward in ("Phường Ba Đình", "Phường Giảng Võ", "Phường Ngọc Hà"):
        assert ward in description


# --- GET requests -------------------------------------------------------------------------


def make_requests(client: httpx.Client, api_key: str, n: int, code: str = "noise") -> list[int]:
    return [
        created_id(
            post(
                client,
                "json",
                api_key=api_key,
                service_code=code,
                description=f"Ồn #{i}",
                **BA_DINH_PIN,
            ),
            "json",
        )
        for i in range(n)
    ]


def ids_of(body: list[dict[str, Any]]) -> list[int]:
    return [item["service_request_id"] for item in body]


def test_requests_are_listed_newest_first_and_filtered_like_the_spec_says(
    client: httpx.Client, engine: Engine, api_key: str
) -> None:
    first, second, third = make_requests(client, api_key, 3, code="open_burning")
    with engine.begin() as conn:
        conn.execute(
            text(
                "UPDATE reports SET status = 'resolved', closed_at = now(), updated_at = now()"
                " WHERE id = :i"
            ),
            {"i": second},
        )
        conn.execute(
            text(
                "INSERT INTO report_events (report_id, actor, from_status, to_status,"
                " public_comment, internal_note) VALUES (:i, 'staff', 'received', 'resolved',"
                " 'Đã dập lửa và nhắc nhở hộ dân', 'ghi chú nội bộ: hộ số 7')"
            ),
            {"i": second},
        )
    body = get_json(client, "requests", service_code="open_burning")
    assert ids_of(body)[:3] == [third, second, first]
    closed = next(item for item in body if item["service_request_id"] == second)
    assert closed["status"] == "closed"
    assert closed["status_notes"] == "Đã dập lửa và nhắc nhở hộ dân"
    assert closed["updated_datetime"] >= closed["requested_datetime"]
    assert [c.tag for c in get_xml(client, "requests", service_code="open_burning")[0]] == [
        "service_request_id", "status", "status_notes", "service_name", "service_code",
        "description", "agency_responsible", "service_notice", "requested_datetime",
        "updated_datetime", "expected_datetime", "address", "address_id", "zipcode", "lat",
        "long", "media_url",
    ]  # fmt: skip

    opened = get_json(client, "requests", service_code="open_burning", status="open")
    assert {first, third} <= set(ids_of(opened)) and second not in ids_of(opened)
    assert {item["status"] for item in opened} == {"open"}
    shut = get_json(client, "requests", service_code="open_burning", status="closed")
    assert second in ids_of(shut) and not {first, third} & set(ids_of(shut))
    assert {item["status"] for item in shut} == {"closed"}
    both = get_json(client, "requests", service_code="open_burning", status="open,closed")
    assert len(both) == len(body)
    # service_request_id overrides every other filter, and empty arguments are absent.
    listed = get_json(
        client, "requests", service_request_id=f"{first},{second}", status="closed",
        service_code="noise", start_date="", end_date="",
    )  # fmt: skip
    assert sorted(ids_of(listed)) == [first, second]
    # The notes extension: the public timeline, never internal notes.
    (extended,) = get_json(client, f"requests/{second}", extensions="true")
    assert extended["ward"] == "Phường Ba Đình" and extended["ward_code"]
    assert [n["status"] for n in extended["notes"]] == ["received", "resolved"]
    assert extended["notes"][1]["description"] == "Đã dập lửa và nhắc nhở hộ dân"
    assert "nội bộ" not in json.dumps(extended, ensure_ascii=False)
    notes_xml = get_xml(client, f"requests/{second}", extensions="true").find("request/notes")
    assert notes_xml is not None and [n.tag for n in notes_xml] == ["note", "note"]
    (plain,) = get_json(client, f"requests/{second}")
    assert "notes" not in plain and "ward" not in plain


def test_dates_default_to_the_last_90_days_and_the_window_is_capped(
    client: httpx.Client, engine: Engine, api_key: str
) -> None:
    (old,) = make_requests(client, api_key, 1, code="water_pollution")
    with engine.begin() as conn:
        conn.execute(
            text("UPDATE reports SET created_at = '2019-08-15T10:00:00+07:00' WHERE id = :i"),
            {"i": old},
        )
    assert old not in ids_of(get_json(client, "requests", service_code="water_pollution"))
    found = get_json(
        client, "requests", service_code="water_pollution",
        start_date="2019-08-01T00:00:00+07:00", end_date="2019-09-01T00:00:00+07:00",
    )  # fmt: skip
    assert ids_of(found) == [old]
    assert found[0]["requested_datetime"] == "2019-08-15T10:00:00+07:00"
    # A start alone spans 90 days from it; an unencoded '+' (a space) is understood.
    assert ids_of(get_json(client, "requests", service_code="water_pollution",
                           start_date="2019-08-01T00:00:00 07:00")) == [old]  # fmt: skip
    assert ids_of(get_json(client, "requests", service_code="water_pollution",
                           end_date="2019-08-20")) == [old]  # fmt: skip
    for fmt in ("xml", "json"):
        for params, words in [
            ({"start_date": "2019-01-01", "end_date": "2019-06-01"}, "more than 90 days"),
            ({"start_date": "2019-06-01", "end_date": "2019-05-01"}, "before start_date"),
            ({"start_date": "last week"}, "start_date: 'last week' is not a W3C"),
            ({"status": "pending"}, "status: 'pending'"),
            ({"service_code": "unicorns"}, "service_code: no such code: unicorns"),
            ({"service_request_id": "12,abc"}, "service_request_id: 'abc'"),
            ({"page": "0"}, "page"),
            ({"page_size": "1001"}, "page_size"),
            ({"extensions": "yes"}, "extensions"),
            ({"lat": "21.03"}, "lat and long go together"),
            ({"radius": "100"}, "radius: needs lat and long"),
            ({"lat": "21.03", "long": "105.83", "radius": "-1"}, "radius"),
            ({"bbox": "1,2,3"}, "bbox"),
            ({"jurisdiction_id": "elsewhere.example"}, "jurisdiction_id"),
        ]:
            status = 404 if "jurisdiction_id" in params else 400
            assert_error(client.get(f"{V2}/requests.{fmt}", params=params), status, fmt, words)


def test_at_most_1000_requests_by_default_and_pages_on_request(
    client: httpx.Client, engine: Engine, api_key: str
) -> None:
    (seed,) = make_requests(client, api_key, 1, code="illegal_advertising")
    with engine.begin() as conn:
        conn.execute(
            text(
                """
                INSERT INTO reports (category_id, description, geom, boundary_set_id, ward_code,
                                     unit_id, deadline_at, created_at, updated_at, source)
                SELECT category_id, 'Tờ rơi số ' || n, geom, boundary_set_id, ward_code,
                       unit_id, deadline_at, '2018-03-01T08:00:00+07:00'::timestamptz
                       + make_interval(mins => n), now(), 'test-bulk'
                  FROM reports, generate_series(1, 1005) n WHERE id = :i
                """
            ),
            {"i": seed},
        )
    try:
        window = {"start_date": "2018-03-01", "end_date": "2018-03-05"}
        body = get_json(client, "requests", **window)
        assert len(body) == 1000
        assert body[0]["description"] == "Tờ rơi số 1005"
        root = get_xml(client, "requests", **window)
        assert len(root) == 1000
        page2 = get_json(client, "requests", page="2", page_size="400", **window)
        assert [i["description"] for i in page2][:2] == ["Tờ rơi số 605", "Tờ rơi số 604"]
        assert len(get_json(client, "requests", page="3", page_size="400", **window)) == 205
    finally:
        with engine.begin() as conn:
            conn.execute(text("DELETE FROM reports WHERE source = 'test-bulk'"))


def test_geographic_filters_are_extensions(client: httpx.Client, api_key: str) -> None:
    (near,) = make_requests(client, api_key, 1, code="illegal_construction")
    far = created_id(
        post(client, "json", api_key=api_key, service_code="illegal_construction",
             description="Xây trái phép ở Hà Đông", lat="20.9713", long="105.7745"),
        "json",
    )  # fmt: skip
    around = get_json(client, "requests", service_code="illegal_construction",
                      lat=BA_DINH_PIN["lat"], long=BA_DINH_PIN["long"], radius="300")  # fmt: skip
    assert near in ids_of(around) and far not in ids_of(around)
    boxed = get_json(client, "requests", service_code="illegal_construction",
                     bbox="105.70,20.90,105.80,21.00")  # fmt: skip
    assert far in ids_of(boxed) and near not in ids_of(boxed)


@pytest.mark.parametrize("fmt", ["xml", "json"])
def test_one_request_and_a_token_lookup(client: httpx.Client, fmt: str) -> None:
    ours = client.post(
        "/api/v1/reports",
        json={"category": "fallen_tree", "description": "Cây đổ chắn đường", "lat": 21.0356,
              "lon": 105.833},
    ).json()  # fmt: skip
    r = client.get(f"{V2}/tokens/{ours['token']}.{fmt}")
    assert r.status_code == 200
    if fmt == "xml":
        item = ET.fromstring(r.content).find("request")
        assert item is not None
        assert int(item.findtext("service_request_id", "")) == ours["id"]
        assert item.findtext("token") == ours["token"]
        assert get_xml(client, f"requests/{ours['id']}").findtext("request/status") == "open"
    else:
        assert r.json() == [{"service_request_id": ours["id"], "token": ours["token"]}]
    assert_error(client.get(f"{V2}/tokens/no-such-token.{fmt}"), 404, fmt, "token")
    assert_error(client.get(f"{V2}/requests/999999999.{fmt}"), 404, fmt, "999999999")
    assert_error(client.get(f"{V2}/requests/abc.{fmt}"), 404, fmt, "abc")
    r = client.get(f"{V2}/requests/{ours['id']}.{fmt}", params={"jurisdiction_id": "x.example"})
    assert_error(r, 404, fmt, "jurisdiction_id")


def test_a_city_profile_with_a_malformed_question_is_refused_at_load() -> None:
    base = {"code": "x", "description": "?"}
    for bad, words in [
        ({**base, "datatype": "singlevaluelist"}, "needs values"),
        ({**base, "datatype": "string", "values": [{"key": "a", "name": "A"}]}, "only value"),
        ({**base, "datatype": "colour"}, "datatype"),
        (
            {**base, "datatype": "multivaluelist",
             "values": [{"key": "a", "name": "A"}, {"key": "a", "name": "B"}]},
            "repeat",
        ),
    ]:  # fmt: skip
        with pytest.raises(ValidationError, match=words):
            Attribute.model_validate(bad)
    category = PROFILE.categories[0].model_dump()
    category["attributes"] = [{**base, "datatype": "text"}, {**base, "datatype": "number"}]
    with pytest.raises(ValidationError, match="attribute codes repeat"):
        CategorySeed.model_validate(category)


def test_the_openapi_description_lists_the_open311_resources(client: httpx.Client) -> None:
    paths = client.get("/openapi.json").json()["paths"]
    for path in (
        "/open311/v2/discovery.{fmt}",
        "/open311/v2/services.{fmt}",
        "/open311/v2/services/{service_code}.{fmt}",
        "/open311/v2/requests.{fmt}",
        "/open311/v2/requests/{service_request_id}.{fmt}",
        "/open311/v2/tokens/{token}.{fmt}",
    ):
        assert path in paths, path
    post = paths["/open311/v2/requests.{fmt}"]["post"]
    assert "application/x-www-form-urlencoded" in post["requestBody"]["content"]
    assert "403" in post["responses"]
