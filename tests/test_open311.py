"""An existing Open311 GeoReport v2 client talks to us with no changes: the documents it reads
are the spec's, in XML (parsed here with a real XML parser) and in JSON."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from typing import Any

import httpx
import pytest

from geo_service.config import Settings
from geo_service.profile import load_profile

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
        assert_error(r, 404, fmt, "jurisdiction_id 'elsewhere.example' not found")
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
