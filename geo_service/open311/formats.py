"""Open311 GeoReport v2 documents in its two formats.

One document is built once as plain Python data and rendered as XML or JSON, so the two
formats cannot drift apart. The spec's XML has no namespaces and no attributes: a list is a
container element whose items repeat one element name (``<services><service>``), which this
module keeps in ``ITEM_NAMES``; JSON drops the container of a top-level list (``[{...}]``) and
keeps lists as arrays even with one element. Text is UTF-8 both ways, never escaped to ASCII.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Mapping, Sequence
from typing import Any, Literal

Format = Literal["xml", "json"]
FORMATS: tuple[Format, ...] = ("xml", "json")
MEDIA_TYPES: dict[str, str] = {
    "xml": "text/xml; charset=utf-8",
    "json": "application/json; charset=utf-8",
}
XML_DECLARATION = '<?xml version="1.0" encoding="utf-8"?>'

# Container element -> the element each of its items is wrapped in.
ITEM_NAMES: dict[str, str] = {
    "services": "service",
    "service_requests": "request",
    "attributes": "attribute",
    "values": "value",
    "endpoints": "endpoint",
    "formats": "format",
    "errors": "error",
    "notes": "note",
}

# Characters XML 1.0 cannot carry at all (most C0 controls, lone surrogates, U+FFFE/FFFF).
_NOT_XML = re.compile("[^\x09\x0a\x0d\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def w3c_datetime(value: dt.datetime, tz: dt.tzinfo) -> str:
    """A W3C date-time with its offset, in the city's time zone, to the second."""
    return value.astimezone(tz).replace(microsecond=0).isoformat()


def _text(value: Any) -> str:
    if value is True:
        return "true"
    if value is False:
        return "false"
    text = str(value)
    if _NOT_XML.search(text):
        text = _NOT_XML.sub("\ufffd", text)
    if "&" in text:
        text = text.replace("&", "&amp;")
    if "<" in text:
        text = text.replace("<", "&lt;")
    if ">" in text:
        text = text.replace(">", "&gt;")
    return text


def _element(name: str, value: Any, out: list[str]) -> None:
    # Exact type checks first: a list of 1,000 requests is 20,000 elements.
    kind = type(value)
    if value is None or value == "":
        out.append(f"<{name}/>")
    elif kind is dict or (kind is not list and isinstance(value, Mapping)):
        out.append(f"<{name}>")
        for key, child in value.items():
            _element(key, child, out)
        out.append(f"</{name}>")
    elif kind is list or kind is tuple:
        item = ITEM_NAMES[name]
        out.append(f"<{name}>")
        for child in value:
            _element(item, child, out)
        out.append(f"</{name}>")
    else:
        out.append(f"<{name}>{_text(value)}</{name}>")


def to_xml(root: str, body: Mapping[str, Any] | Sequence[Any]) -> bytes:
    """The document as UTF-8 XML behind the declaration the spec asks for."""
    out = [XML_DECLARATION]
    _element(root, body, out)
    return "".join(out).encode("utf-8")


def to_json(body: Mapping[str, Any] | Sequence[Any]) -> bytes:
    return json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def render(fmt: Format, root: str, body: Mapping[str, Any] | Sequence[Any]) -> bytes:
    """``root`` names the XML root element; JSON has no root (the spec's mapping)."""
    return to_xml(root, body) if fmt == "xml" else to_json(body)


def errors_document(fmt: Format, code: int, description: str) -> bytes:
    """The spec's error shape: ``<errors><error><code/><description/>`` or ``[{...}]``."""
    return render(fmt, "errors", [{"code": code, "description": description}])
