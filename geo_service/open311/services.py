"""Our categories as Open311 services, and their extra questions as service definitions.

The categories (and whether they are active) come from the database, the single source of
truth; the questions each category asks come from the city profile, where they are defined
next to the category. ``service_code`` is the category code, always a string.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from geo_service.profile import Attribute, Profile

SPECIFICATION_URL = "http://wiki.open311.org/GeoReport_v2"

SERVICES_SQL = text(
    """
    SELECT c.code, c.name, c.name_en, c.keywords, g.name AS group_name
      FROM categories c JOIN category_groups g ON g.code = c.group_code
     WHERE c.active
     ORDER BY g.code, c.sort_order, c.code
    """
)

SERVICE_SQL = text("SELECT code FROM categories WHERE code = :code AND active")


def attributes_of(profile: Profile) -> dict[str, list[Attribute]]:
    """Category code -> the questions it asks, in the order the profile lists them."""
    return {c.code: c.attributes for c in profile.categories if c.attributes}


def changeset(profile_path: Any) -> dt.datetime:
    """When the service definitions last changed: they live in the city profile file."""
    mtime = profile_path.stat().st_mtime
    return dt.datetime.fromtimestamp(int(mtime), dt.UTC)


async def list_services(conn: AsyncConnection, profile: Profile) -> list[dict[str, Any]]:
    questions = attributes_of(profile)
    return [
        {
            "service_code": r.code,
            "service_name": r.name,
            "description": r.name_en,
            "metadata": r.code in questions,
            "type": "realtime",
            "keywords": ", ".join(r.keywords),
            "group": r.group_name,
        }
        for r in await conn.execute(SERVICES_SQL)
    ]


async def service_exists(conn: AsyncConnection, code: str) -> bool:
    return (await conn.execute(SERVICE_SQL, {"code": code})).first() is not None


def definition(code: str, attributes: list[Attribute]) -> dict[str, Any]:
    """A service definition: the attributes in the spec's field order, ``order`` from 1."""
    return {
        "service_code": code,
        "attributes": [
            {
                "variable": a.variable,
                "code": a.code,
                "datatype": a.datatype,
                "required": a.required,
                "datatype_description": a.datatype_description,
                "order": i,
                "description": a.description,
                **(
                    {"values": [{"key": v.key, "name": v.name} for v in a.values]}
                    if a.values
                    else {}
                ),
            }
            for i, a in enumerate(attributes, start=1)
        ],
    }
