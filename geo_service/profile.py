"""The city profile: a TOML file with the city's boundary files, category table, units and
routing defaults. Validated with pydantic so a typo fails at ``init``, not at the first report."""

from __future__ import annotations

import datetime as dt
import itertools
import tomllib
from functools import lru_cache
from pathlib import Path

from pydantic import BaseModel, Field, PrivateAttr, model_validator

from boundaries import DATA_DIR


class CityInfo(BaseModel):
    name: str
    name_en: str
    timezone: str
    jurisdiction_id: str
    center: tuple[float, float]
    default_zoom: int = 12


class BoundaryFile(BaseModel):
    """One boundary file of the city. Its attribution, licence, tolerances and fields apply
    however the set is loaded: by ``init``, or by hand with ``boundaries load`` naming the
    same set or a file of the same name. ``autoload = false`` lists a file ``init`` does not
    load (an old set kept for history, loaded by hand when needed)."""

    set: str
    level: str = Field(pattern="^(ward|city)$")
    file: str
    code_field: str = "code"
    name_field: str = "name"
    full_name_field: str | None = None
    name_en_field: str | None = None
    valid_from: dt.date
    attribution: str = ""
    licence: str = ""
    overlap_tolerance_m2: float = Field(default=1.0, ge=0)
    gap_tolerance_m2: float = Field(default=1.0, ge=0)
    code_width: int | None = Field(default=None, ge=1, le=32)
    crs: str | None = None
    city_set: str | None = None
    derive_city: str | None = None
    autoload: bool = True
    _base: Path | None = PrivateAttr(default=None)

    @property
    def path(self) -> Path:
        """The file: absolute, or beside the profile, or among the data we ship."""
        path = Path(self.file)
        if path.is_absolute():
            return path
        if self._base is not None and (self._base / path).exists():
            return self._base / path
        return DATA_DIR / path


class WardUnit(BaseModel):
    code: str = "ward-{code}"
    name: str = "{full_name}"
    name_en: str = "{name_en}"


class Group(BaseModel):
    code: str
    name: str
    name_en: str


class UnitSeed(BaseModel):
    code: str
    kind: str = Field(pattern="^(department|company|police)$")
    name: str
    name_en: str


class AttributeValue(BaseModel):
    key: str = Field(min_length=1, max_length=64)
    name: str


class Attribute(BaseModel):
    """An extra question a category asks (an Open311 service definition attribute)."""

    code: str = Field(pattern="^[A-Za-z0-9_]+$", max_length=64)
    datatype: str = Field(pattern="^(string|number|datetime|text|singlevaluelist|multivaluelist)$")
    description: str
    required: bool = False
    variable: bool = True
    datatype_description: str | None = None
    values: list[AttributeValue] = []

    @model_validator(mode="after")
    def _values(self) -> Attribute:
        is_list = self.datatype.endswith("valuelist")
        if is_list and not self.values:
            raise ValueError(f"attribute {self.code}: a {self.datatype} needs values")
        if self.values and not is_list:
            raise ValueError(f"attribute {self.code}: only value lists have values")
        keys = [v.key for v in self.values]
        if len(set(keys)) != len(keys):
            raise ValueError(f"attribute {self.code}: value keys repeat")
        return self


class CategorySeed(BaseModel):
    code: str = Field(pattern="^[a-z0-9_]+$")
    group: str
    name: str
    name_en: str
    response_hours: int = Field(gt=0)
    unit: str | None = None
    keywords: list[str] = []
    duplicate_radius_m: float = Field(default=50.0, gt=0, le=1000)
    demo_weight: float = 1.0
    attributes: list[Attribute] = []

    @model_validator(mode="after")
    def _unique_attributes(self) -> CategorySeed:
        codes = [a.code for a in self.attributes]
        if len(set(codes)) != len(codes):
            raise ValueError(f"category {self.code}: attribute codes repeat")
        return self


class DemoPlace(BaseModel):
    name: str
    at: tuple[float, float]
    weight: float = 1.0
    spread_m: float = 200.0


class DemoRoad(BaseModel):
    name: str
    line: list[tuple[float, float]] = Field(min_length=2)
    weight: float = 1.0
    spread_m: float = 50.0


WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


class Holiday(BaseModel):
    day: dt.date
    name: str


class Calendar(BaseModel):
    """When the city's offices work: deadlines count only these hours. ``work_hours`` maps a
    weekday (mon..sun) to periods like "08:00-12:00"; a day not named is not worked."""

    work_hours: dict[str, list[str]] = {d: ["08:00-12:00", "13:00-17:00"] for d in WEEKDAYS[:5]}
    holidays: list[Holiday] = []

    @model_validator(mode="after")
    def _periods(self) -> Calendar:
        if not any(self.work_hours.values()):
            raise ValueError("calendar.work_hours: at least one working period is needed")
        for day in self.work_hours:
            if day not in WEEKDAYS:
                raise ValueError(f"calendar.work_hours: {day!r} is not one of {WEEKDAYS}")
            self.periods(day)
        return self

    def periods(self, day: str) -> list[tuple[dt.time, dt.time]]:
        """The day's periods as times, checked: each starts before it ends, none overlap."""
        out = []
        for item in self.work_hours.get(day, []):
            try:
                a, b = (dt.time.fromisoformat(part.strip()) for part in item.split("-"))
            except ValueError:
                raise ValueError(
                    f"calendar.work_hours.{day}: {item!r} is not like 08:00-12:00"
                ) from None
            if a >= b:
                raise ValueError(f"calendar.work_hours.{day}: {item!r} ends before it starts")
            out.append((a, b))
        out.sort()
        for (_, end), (start, _) in itertools.pairwise(out):
            if start < end:
                raise ValueError(f"calendar.work_hours.{day}: periods overlap")
        return out


class TemplateSeed(BaseModel):
    """A response text staff can pick when they change a report's status."""

    code: str = Field(pattern="^[a-z0-9_]+$")
    status: str | None = Field(
        default=None, pattern="^(acknowledged|in_progress|resolved|rejected|transferred)$"
    )
    category: str | None = None  # None: every category
    title: str
    body: str


class Demo(BaseModel):
    background_share: float = Field(default=0.1, ge=0, le=1)
    places: list[DemoPlace] = []
    roads: list[DemoRoad] = []


class Gazetteer(BaseModel):
    """How place names in the boundary data read, for resolving a written address to a ward:
    the property listing the wards merged into each ward, the words naming a kind of ward
    (longest first), the words qualifying a repeated name, and common abbreviations."""

    former_names_field: str | None = None
    unit_types: list[str] = []
    qualifiers: list[str] = []
    abbreviations: dict[str, str] = {}


class Reform(BaseModel):
    """The public comments a boundary reform writes on the timeline of each open report it
    moves. Placeholders: {unit}, {unit_en}, {ward}, {ward_en}, {set}."""

    moved: str = "Boundary reform: now handled by {unit_en} ({ward_en})."
    renamed: str = "Boundary reform: now in {ward_en}; still handled by {unit_en}."


class Profile(BaseModel):
    city: CityInfo
    boundaries: list[BoundaryFile]
    ward_unit: WardUnit = WardUnit()
    reform: Reform = Reform()
    groups: list[Group]
    units: list[UnitSeed] = []
    categories: list[CategorySeed]
    calendar: Calendar = Calendar()
    templates: list[TemplateSeed] = []
    demo: Demo = Demo()
    gazetteer: Gazetteer = Gazetteer()

    @model_validator(mode="after")
    def _references(self) -> Profile:
        groups = {g.code for g in self.groups}
        units = {u.code for u in self.units}
        for cat in self.categories:
            if cat.group not in groups:
                raise ValueError(f"category {cat.code}: unknown group {cat.group!r}")
            if cat.unit and cat.unit not in units:
                raise ValueError(f"category {cat.code}: unknown unit {cat.unit!r}")
        codes = {c.code for c in self.categories}
        for t in self.templates:
            if t.category and t.category not in codes:
                raise ValueError(f"template {t.code}: unknown category {t.category!r}")
        if not any(b.level == "ward" and b.autoload for b in self.boundaries):
            raise ValueError("a city profile needs a ward-level boundary file")
        names = [b.set for b in self.boundaries]
        if len(set(names)) != len(names):
            raise ValueError("boundaries: two files name the same set")
        return self

    def boundary_file(self, set_name: str, path: Path | None = None) -> BoundaryFile | None:
        """The profile's entry for a set loaded by hand: by the set's name, else by the
        file's name."""
        for b in self.boundaries:
            if b.set == set_name:
                return b
        for b in self.boundaries:
            if path is not None and Path(b.file).name == path.name:
                return b
        return None


@lru_cache
def load_profile(path: Path) -> Profile:
    with path.open("rb") as fh:
        profile = Profile.model_validate(tomllib.load(fh))
    for b in profile.boundaries:
        b._base = path.resolve().parent
    return profile
