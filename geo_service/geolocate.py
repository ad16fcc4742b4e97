"""Point -> ward -> units. The hot path of the service: one SQL statement that asks the
database's ``gs_locate`` (indexed ST_Covers over subdivided wards) and ``gs_route`` for every
category, and returns the finished JSON, so Python only passes bytes through.

History questions take the same path with the set to answer from: the ward set valid on a
date (``at``) or a named set, each with its own city limit. Only the active set routes
reports, so only its answer names the units."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from boundaries import sets
from geo_service.errors import Invalid, NotFound
from geo_service.i18n import N_, Message

LOCATE_SQL = text(
    """
    WITH pt AS (SELECT ST_SetSRID(ST_MakePoint(:lon, :lat), 4326) AS g),
         loc AS (SELECT l.* FROM pt,
                   gs_locate(pt.g, :snap, CAST(:ward_set AS int), CAST(:city_set AS int),
                             :check_city) l)
    SELECT loc.in_city,
           CASE WHEN loc.code IS NOT NULL THEN json_build_object(
             'lat', CAST(:lat AS float8), 'lon', CAST(:lon AS float8),
             'ward', json_build_object(
                'code', a.code, 'name', a.name, 'full_name', a.full_name,
                'name_en', a.name_en, 'boundary_set', b.name, 'valid_from', b.valid_from,
                'snapped_m', round(CAST(loc.snapped_m AS numeric), 1)),
             'city', (SELECT json_build_object('code', c.code, 'name', c.name,
                                               'full_name', c.full_name, 'boundary_set', cb.name)
                        FROM areas c JOIN boundary_sets cb ON cb.id = c.set_id
                       WHERE cb.id = CAST(:city_set AS int)
                          OR (CAST(:city_set AS int) IS NULL AND :check_city
                              AND cb.level = 'city' AND cb.active)
                       ORDER BY c.code LIMIT 1),
             'routing', CASE WHEN b.active THEN (
                          SELECT json_agg(json_build_object(
                                  'category', cat.code, 'group', cat.group_code,
                                  'unit', json_build_object('code', u.code, 'name', u.name,
                                                            'name_en', u.name_en, 'kind', u.kind))
                                  ORDER BY cat.sort_order, cat.code)
                           FROM pt, gs_routes(pt.g, loc.code, :priority) r
                           JOIN categories cat ON cat.id = r.category_id
                           JOIN units u ON u.id = r.unit_id
                          WHERE cat.active) END
           )::text END AS body
      FROM loc
      LEFT JOIN areas a ON a.id = loc.area_id
      LEFT JOIN boundary_sets b ON b.id = loc.set_id
    """
)


@dataclass(frozen=True)
class SetChoice:
    """The sets a locate answers from: the active ones (all None), or a history question's."""

    ward_set: int | None = None
    city_set: int | None = None
    day: dt.date | None = None  # the question's, for messages
    set_name: str | None = None

    @property
    def history(self) -> bool:
        return self.ward_set is not None


ACTIVE = SetChoice()


async def choose_sets(conn: AsyncConnection, at: dt.date | None, set_name: str | None) -> SetChoice:
    """The ward set valid on ``at``, or the one named ``set_name``, with its city limit."""
    if at is not None and set_name is not None:
        raise Invalid(N_("set: give either at or set, not both"), "set")
    if set_name is not None:
        ward = await conn.run_sync(lambda c: sets.by_name(c, set_name))
        if ward is None:
            raise NotFound(N_("no boundary set named {name}", name=set_name), "set")
        if ward.level != "ward":
            raise Invalid(
                N_(
                    "set: {name} is a {level} set; name a ward set", name=set_name, level=ward.level
                ),
                "set",
            )
        ward_id = ward.id
        city = await conn.run_sync(lambda c: sets.city_for(c, ward_id))
        return SetChoice(ward_id, city.id if city else None, set_name=set_name)
    if at is not None:
        ward = await conn.run_sync(lambda c: sets.valid_on(c, "ward", at))
        if ward is None:
            raise NotFound(N_("no ward boundary set is valid on {day}", day=at.isoformat()), "at")
        city = await conn.run_sync(lambda c: sets.valid_on(c, "city", at))
        return SetChoice(ward.id, city.id if city else None, day=at)
    return ACTIVE


@dataclass(frozen=True)
class Refusal:
    """Why a point has no ward: outside the city limit, or in a gap wider than the snap."""

    in_city: bool
    day: dt.date | None = None
    set_name: str | None = None

    def message(self, lat: float, lon: float, city: str, snap_m: float) -> Message:
        where = f"({lat:.6f}, {lon:.6f})"
        if not self.in_city and self.day:
            return N_(
                "the point {where} was outside the city limit of {city} on {day}",
                where=where,
                city=city,
                day=self.day.isoformat(),
            )
        if not self.in_city and self.set_name:
            return N_(
                "the point {where} is outside the city limit of {city} that goes with {name}",
                where=where,
                city=city,
                name=self.set_name,
            )
        if not self.in_city:
            return N_(
                "the point {where} is outside the city limit of {city}", where=where, city=city
            )
        return N_(
            "the point {where} is not in any ward of {city} nor within {snap:g} m of one",
            where=where,
            city=city,
            snap=snap_m,
        )

    def error(self, lat: float, lon: float, city: str, snap_m: float) -> Invalid:
        return Invalid(self.message(lat, lon, city, snap_m), "lat")


async def locate_json(
    conn: AsyncConnection,
    lat: float,
    lon: float,
    *,
    snap_m: float,
    priority: str = "normal",
    choice: SetChoice = ACTIVE,
) -> str | Refusal:
    row = (
        await conn.execute(
            LOCATE_SQL,
            {
                "lat": lat,
                "lon": lon,
                "snap": snap_m,
                "priority": priority,
                "ward_set": choice.ward_set,
                "city_set": choice.city_set,
                # A history question checks its own city limit, or none when it has none.
                "check_city": not choice.history or choice.city_set is not None,
            },
        )
    ).one()
    if row.body is None:
        return Refusal(bool(row.in_city), choice.day, choice.set_name)
    return str(row.body)
