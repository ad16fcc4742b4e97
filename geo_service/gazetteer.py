"""The service's own gazetteer: a written address becomes a ward by the ward names it contains.

Names are today's wards and the pre-reform wards each one absorbed (the boundary data lists
them in free text; the profile names that property). They are parsed and normalised once,
when a ward set becomes active, into ``place_names``; resolving an address is then one
indexed query over a few hundred short strings, never a loop over polygons.

Matching ignores diacritics and case ("Phuong Quan Thanh" finds "Phường Quán Thánh"), and
ranks what it finds: a name written with its kind ("phường X") beats a bare name, today's
name beats a former one, a longer name beats a shorter one. A former ward split between
several of today's wards is ambiguous: the caller is asked for coordinates instead.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from sqlalchemy import Connection, text
from sqlalchemy.ext.asyncio import AsyncConnection

from geo_service.errors import Invalid, field_message
from geo_service.i18n import N_
from geo_service.profile import Gazetteer

_NON_WORD = re.compile(r"[^a-z0-9]+")


def normalise(value: str, abbreviations: dict[str, str] | None = None) -> str:
    """Lower case, no diacritics (đ is d), words separated by single spaces; abbreviated
    words (``p.`` for phường) written out."""
    decomposed = unicodedata.normalize("NFD", value.replace("đ", "d").replace("Đ", "D"))
    plain = "".join(ch for ch in decomposed if not unicodedata.combining(ch)).lower()
    words = _NON_WORD.sub(" ", plain).split()
    if abbreviations:
        table = {normalise(k): normalise(v) for k, v in abbreviations.items()}
        words = [table.get(w, w) for w in words]
    return " ".join(words)


@dataclass(frozen=True)
class FormerName:
    name: str
    unit_type: str | None
    qualifier: str | None


def _capitalised_run(words: list[str]) -> list[str]:
    """The leading words of a proper name: capitalised words and numbers ("Cổ Nhuế 1")."""
    run = []
    for word in words:
        if not (word[:1].isupper() or word.isdigit()):
            break
        run.append(word)
    return run


def parse_former_names(value: str, rules: Gazetteer) -> list[FormerName]:
    """The ward names in a free-text list such as "Phường Quán Thánh, một phần diện tích của
    các phường Cửa Nam, Điện Biên, Phường Quang Trung (quận Đống Đa) (phần còn lại ...)".

    A name follows a kind word (Phường, Xã, ...) or continues a list after one; a name in
    brackets after a qualifier word ("quận Đống Đa") tells same-named wards apart; any other
    bracketed remark is dropped. Bare words that are not a proper name (lower case) end it.
    """
    qualifier_re = "|".join(re.escape(q) for q in rules.qualifiers) or "(?!)"
    type_re = "|".join(re.escape(t) for t in rules.unit_types) or "(?!)"
    qualified = re.compile(rf"\((?P<q>(?:{qualifier_re})\s[^()]*)\)", re.I)
    kind = re.compile(rf"(?<!\w)(?P<t>{type_re})(?!\w)", re.I)
    value = re.sub(r"\((?!(?:" + qualifier_re + r")\s)[^()]*\)", " ", value, flags=re.I)
    names: list[FormerName] = []
    context: str | None = None
    for piece in re.split(r",|\svà\s", value):
        qualifier = None
        if m := qualified.search(piece):
            qualifier = m.group("q").strip()
            piece = piece[: m.start()]
        found = list(kind.finditer(piece))
        if found:
            last = found[-1]
            context = last.group("t").capitalize()
            words = _capitalised_run(piece[last.end() :].split())
            minimum = 1
        else:
            words = _capitalised_run(piece.split())
            minimum = 2  # a bare single word is a phrase's first word, not a ward
        if len(words) >= minimum:
            names.append(FormerName(" ".join(words), context, qualifier))
    return names


@dataclass(frozen=True)
class Entry:
    name: str
    former: bool
    typed: bool


def entries_for(
    name: str, full_name: str, name_en: str | None, former_text: str | None, rules: Gazetteer
) -> list[Entry]:
    """Every way the gazetteer will recognise one ward."""
    # Compared with diacritics: "Phượng Dực" is a name, "Phường Dực" would be a kind + name.
    typed_prefix = tuple(t.lower() + " " for t in rules.unit_types)
    out = [Entry(n, False, n.lower().startswith(typed_prefix)) for n in (name, full_name)]
    if name_en:
        out.append(Entry(name_en, False, False))
    for f in parse_former_names(former_text or "", rules):
        variants = [Entry(f.name, True, False)]
        if f.unit_type:
            variants.append(Entry(f"{f.unit_type} {f.name}", True, True))
        if f.qualifier:
            variants += [Entry(f"{v.name} {f.qualifier}", True, v.typed) for v in list(variants)]
        out += variants
    return out


def rebuild(conn: Connection, rules: Gazetteer) -> int:
    """Fill ``place_names`` for the active ward set (idempotent); returns the names stored."""
    set_id = conn.execute(
        text("SELECT id FROM boundary_sets WHERE level = 'ward' AND active")
    ).scalar()
    if set_id is None:
        return 0
    conn.execute(text("DELETE FROM place_names WHERE set_id = :s"), {"s": set_id})
    field = rules.former_names_field
    areas = conn.execute(
        text(
            "SELECT id, name, full_name, name_en, properties ->> CAST(:field AS text) AS former"
            " FROM areas WHERE set_id = :s"
        ),
        {"s": set_id, "field": field or ""},
    ).all()
    rows: dict[tuple[int, str, bool], dict[str, object]] = {}
    for a in areas:
        for e in entries_for(a.name, a.full_name, a.name_en, a.former if field else None, rules):
            norm = normalise(e.name)
            if not norm:
                continue
            key = (a.id, norm, e.former)
            if key not in rows:
                rows[key] = {
                    "set_id": set_id,
                    "area_id": a.id,
                    "name": e.name,
                    "name_norm": norm,
                    "former": e.former,
                    "typed": e.typed,
                }
            elif e.typed:  # the same words written with their kind: still a typed name
                rows[key]["typed"] = True
    if rows:
        conn.execute(
            text(
                "INSERT INTO place_names (set_id, area_id, name, name_norm, former, typed)"
                " VALUES (:set_id, :area_id, :name, :name_norm, :former, :typed)"
            ),
            list(rows.values()),
        )
    return len(rows)


RESOLVE_SQL = text(
    """
    SELECT a.code AS ward_code, a.full_name, p.name, p.former, p.typed,
           length(p.name_norm) AS length,
           ST_Y(ST_PointOnSurface(a.geom)) AS lat, ST_X(ST_PointOnSurface(a.geom)) AS lon
      FROM place_names p
      JOIN boundary_sets b ON b.id = p.set_id AND b.level = 'ward' AND b.active
      JOIN areas a ON a.id = p.area_id
     WHERE strpos(:address, ' ' || p.name_norm || ' ') > 0
    """
)


@dataclass(frozen=True)
class Place:
    ward_code: str
    ward_name: str
    matched: str
    lat: float
    lon: float


async def resolve(
    conn: AsyncConnection, address: str, rules: Gazetteer, *, field: str = "address_string"
) -> Place:
    """The ward a written address names, and a point inside it; or a 400 naming the field
    that says whether nothing matched or several wards did."""
    padded = f" {normalise(address, rules.abbreviations)} "
    hits = (await conn.execute(RESOLVE_SQL, {"address": padded})).all()
    if not hits:
        message = N_(
            "no ward name recognised in {address!r}; name the ward (today's or its former "
            "name) or send lat and long",
            address=address,
        )
        raise Invalid(field_message(field, message), field)
    best = min((not h.typed, h.former, -h.length) for h in hits)
    top = [h for h in hits if (not h.typed, h.former, -h.length) == best]
    wards = {h.ward_code: h for h in top}
    if len(wards) > 1:
        names = ", ".join(sorted(h.full_name for h in wards.values()))
        message = N_(
            "{name!r} is ambiguous, it is now part of several wards ({wards}); name today's "
            "ward or send lat and long",
            name=top[0].name,
            wards=names,
        )
        raise Invalid(field_message(field, message), field)
    (hit,) = wards.values()
    return Place(hit.ward_code, hit.full_name, hit.name, float(hit.lat), float(hit.lon))
