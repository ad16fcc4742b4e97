"""The database schema as SQLAlchemy models, for Alembic's autogenerate only: it is how a new
migration is drafted (``alembic revision --autogenerate``), and a test (tests/test_schema.py)
holds it equal to the migrated database. Runtime code never uses these classes: it writes SQL
(geo_service.report_query and the modules around it), and the SQL functions' text lives in
geo_service/sql/.

Boundaries are versioned like MapIt's generations: a ``BoundarySet`` holds one level's areas
for one period, exactly one set per level is active, and a report keeps the set and ward code it
was routed with, so a later boundary change never rewrites history.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from geoalchemy2 import Geometry
from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    SmallInteger,
    Text,
    Time,
    UniqueConstraint,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from geo_service.auth import ROLES
from geo_service.report_query.predicates import OPEN_INDEX_PREDICATE
from geo_service.report_query.vocab import (
    CHANNELS,
    EVENT_STATUSES,
    PRIORITIES,
    STATUSES,
    sql_in,
)

LEVELS = ("ward", "city")


class Base(DeclarativeBase):
    pass


def include_object(
    obj: Any, name: str | None, type_: str, reflected: bool, compare_to: Any
) -> bool:
    """What Alembic compares: GeoAlchemy2's rule, less the job queue's tables
    (``procrastinate_*``), which procrastinate's own schema defines (migration 0170)."""
    from geoalchemy2 import alembic_helpers

    table = obj.table.name if type_ in ("index", "column", "unique_constraint") else name
    if table and str(table).startswith("procrastinate_"):
        return False
    return bool(alembic_helpers.include_object(obj, name, type_, reflected, compare_to))


class BoundarySet(Base):
    __tablename__ = "boundary_sets"
    __table_args__ = (
        CheckConstraint(f"level IN {LEVELS!r}", name="boundary_sets_level"),
        Index("boundary_sets_one_active", "level", unique=True, postgresql_where=text("active")),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(Text, unique=True)
    level: Mapped[str] = mapped_column(Text)
    valid_from: Mapped[dt.date] = mapped_column(Date)
    active: Mapped[bool] = mapped_column(Boolean, server_default=text("false"))
    source: Mapped[str] = mapped_column(Text)
    attribution: Mapped[str] = mapped_column(Text, server_default="")
    licence: Mapped[str] = mapped_column(Text, server_default="")
    feature_count: Mapped[int] = mapped_column(Integer, server_default="0")
    loaded_at: Mapped[dt.datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now()
    )
    # 0190: the city limit a ward set goes with when the operator named one (else the city
    # set valid on its valid_from), and the tolerances it was checked with.
    city_set_id: Mapped[int | None] = mapped_column(
        ForeignKey("boundary_sets.id", ondelete="SET NULL")
    )
    overlap_tolerance_m2: Mapped[float] = mapped_column(Float, server_default="1")
    gap_tolerance_m2: Mapped[float] = mapped_column(Float, server_default="1")


class BoundaryActivation(Base):
    """Every switch of a level's active set, done or scheduled for later (0190)."""

    __tablename__ = "boundary_activations"
    __table_args__ = (
        CheckConstraint(
            "state IN ('scheduled', 'done', 'cancelled', 'failed')",
            name="boundary_activations_state",
        ),
        Index(
            "boundary_activations_one_pending",
            "set_id",
            unique=True,
            postgresql_where=text("state = 'scheduled'"),
        ),
        Index(
            "boundary_activations_due",
            "activate_at",
            postgresql_where=text("state = 'scheduled'"),
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    set_id: Mapped[int] = mapped_column(ForeignKey("boundary_sets.id", ondelete="CASCADE"))
    previous_set_id: Mapped[int | None] = mapped_column(
        ForeignKey("boundary_sets.id", ondelete="SET NULL")
    )
    state: Mapped[str] = mapped_column(Text, server_default="scheduled")
    activate_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    requested_at: Mapped[dt.datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now()
    )
    requested_by: Mapped[str] = mapped_column(Text, server_default="")
    done_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    message: Mapped[str] = mapped_column(Text, server_default="")
    summary: Mapped[dict[str, Any]] = mapped_column(JSONB, server_default="{}")


class Area(Base):
    __tablename__ = "areas"
    __table_args__ = (UniqueConstraint("set_id", "code"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    set_id: Mapped[int] = mapped_column(ForeignKey("boundary_sets.id", ondelete="CASCADE"))
    code: Mapped[str] = mapped_column(Text)
    name: Mapped[str] = mapped_column(Text)
    full_name: Mapped[str] = mapped_column(Text)
    name_en: Mapped[str | None] = mapped_column(Text)
    properties: Mapped[dict[str, Any]] = mapped_column(JSONB, server_default="{}")
    area_km2: Mapped[float] = mapped_column(Float)
    geom: Mapped[Any] = mapped_column(Geometry("MULTIPOLYGON", srid=4326, spatial_index=True))


class AreaPiece(Base):
    """ST_Subdivide'd pieces of each area: small boxes make the GiST lookup cheap."""

    __tablename__ = "area_pieces"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    area_id: Mapped[int] = mapped_column(ForeignKey("areas.id", ondelete="CASCADE"), index=True)
    set_id: Mapped[int] = mapped_column(Integer)
    geom: Mapped[Any] = mapped_column(Geometry("POLYGON", srid=4326, spatial_index=True))


class CategoryGroup(Base):
    __tablename__ = "category_groups"

    code: Mapped[str] = mapped_column(Text, primary_key=True)
    name: Mapped[str] = mapped_column(Text)
    name_en: Mapped[str] = mapped_column(Text)


class Category(Base):
    __tablename__ = "categories"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(Text, unique=True)
    group_code: Mapped[str] = mapped_column(ForeignKey("category_groups.code"))
    name: Mapped[str] = mapped_column(Text)
    name_en: Mapped[str] = mapped_column(Text)
    response_hours: Mapped[int] = mapped_column(Integer)
    keywords: Mapped[list[str]] = mapped_column(ARRAY(Text), server_default="{}")
    active: Mapped[bool] = mapped_column(Boolean, server_default=text("true"))
    sort_order: Mapped[int] = mapped_column(Integer, server_default="0")
    duplicate_radius_m: Mapped[float] = mapped_column(Float, server_default="50")


class Unit(Base):
    __tablename__ = "units"
    __table_args__ = (
        CheckConstraint(
            "kind IN ('ward_committee', 'department', 'company', 'police')", name="units_kind"
        ),
        Index(
            "units_one_committee_per_ward",
            "ward_code",
            unique=True,
            postgresql_where=text("kind = 'ward_committee'"),
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(Text, unique=True)
    kind: Mapped[str] = mapped_column(Text)
    name: Mapped[str] = mapped_column(Text)
    name_en: Mapped[str] = mapped_column(Text)
    ward_code: Mapped[str | None] = mapped_column(Text)
    active: Mapped[bool] = mapped_column(Boolean, server_default=text("true"))


class RoutingRule(Base):
    """Category (+ optional ward or area, + optional report priority) -> unit. No match: the
    ward's People's Committee. Higher precedence wins, then the more specific rule. A rule
    for a ward names it by code; an activation whose set lacks the code suspends it."""

    __tablename__ = "routing_rules"
    __table_args__ = (
        CheckConstraint(
            "priority IS NULL OR " + sql_in("priority", PRIORITIES), name="routing_rules_priority"
        ),
        CheckConstraint("ward_code IS NULL OR area IS NULL", name="routing_rules_ward_or_area"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    category_id: Mapped[int] = mapped_column(ForeignKey("categories.id", ondelete="CASCADE"))
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"))
    area: Mapped[Any | None] = mapped_column(
        Geometry("MULTIPOLYGON", srid=4326, spatial_index=True), nullable=True
    )
    area_label: Mapped[str | None] = mapped_column(Text)
    priority: Mapped[str | None] = mapped_column(Text)
    precedence: Mapped[int] = mapped_column(Integer, server_default="0")
    active: Mapped[bool] = mapped_column(Boolean, server_default=text("true"))
    created_at: Mapped[dt.datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now()
    )
    ward_code: Mapped[str | None] = mapped_column(Text)
    suspended_reason: Mapped[str | None] = mapped_column(Text)
    suspended_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))


class Report(Base):
    __tablename__ = "reports"
    __table_args__ = (
        CheckConstraint(sql_in("status", STATUSES), name="reports_status"),
        CheckConstraint(sql_in("priority", PRIORITIES), name="reports_priority"),
        CheckConstraint(sql_in("channel", CHANNELS), name="reports_channel"),
        CheckConstraint(  # migration 0006; the queue's date filter relies on it
            "duplicate_of IS NOT NULL OR deadline_at >= created_at",
            name="reports_deadline_after_created",
        ),
        Index("reports_unit_deadline", "unit_id", "deadline_at"),
        Index("reports_ward_created", "ward_code", "created_at"),
        Index("reports_category_created", "category_id", "created_at"),
        Index("reports_created", "created_at"),
        # The queue's indexes (0003, 0005, 0006): see geo_service.queue for what each serves.
        Index(
            "reports_open_queue",
            "unit_id",
            "deadline_at",
            "id",
            postgresql_where=text(OPEN_INDEX_PREDICATE),
        ),
        Index(
            "reports_unit_counts",
            "unit_id",
            "created_at",
            postgresql_include=["status", "deadline_at", "category_id", "priority"],
            postgresql_where=text("duplicate_of IS NULL"),
        ),
        Index(
            "reports_duplicate_of",
            "duplicate_of",
            postgresql_where=text("duplicate_of IS NOT NULL"),
        ),
        Index(
            "reports_open_geom",
            "geom",
            postgresql_using="gist",
            postgresql_where=text(OPEN_INDEX_PREDICATE),
        ),
        Index(
            "reports_description_trgm",
            "description",
            postgresql_using="gin",
            postgresql_ops={"description": "gin_trgm_ops"},
        ),
        Index(
            "reports_address_trgm",
            "address",
            postgresql_using="gin",
            postgresql_ops={"address": "gin_trgm_ops"},
        ),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    token: Mapped[str] = mapped_column(Text, unique=True, server_default=text("gs_new_token()"))
    category_id: Mapped[int] = mapped_column(ForeignKey("categories.id"))
    description: Mapped[str] = mapped_column(Text)
    address: Mapped[str | None] = mapped_column(Text)
    geom: Mapped[Any] = mapped_column(Geometry("POINT", srid=4326, spatial_index=True))
    location_source: Mapped[str] = mapped_column(Text, server_default="pin")
    boundary_set_id: Mapped[int] = mapped_column(ForeignKey("boundary_sets.id"))
    ward_code: Mapped[str] = mapped_column(Text)
    snapped_m: Mapped[float] = mapped_column(Float, server_default="0")
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"))
    status: Mapped[str] = mapped_column(Text, server_default="received")
    priority: Mapped[str] = mapped_column(Text, server_default="normal")
    created_at: Mapped[dt.datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now()
    )
    updated_at: Mapped[dt.datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now()
    )
    deadline_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    closed_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    reporter_name: Mapped[str | None] = mapped_column(Text)
    reporter_phone: Mapped[str | None] = mapped_column(Text)
    reporter_email: Mapped[str | None] = mapped_column(Text)
    source: Mapped[str] = mapped_column(Text, server_default="api")
    channel: Mapped[str] = mapped_column(Text, server_default="web")
    version: Mapped[int] = mapped_column(Integer, server_default="1")
    # Open311: answers to the category's extra questions, a linked photo, the client's key.
    attributes: Mapped[dict[str, Any]] = mapped_column(JSONB, server_default="{}")
    media_url: Mapped[str | None] = mapped_column(Text)
    open311_key_id: Mapped[int | None] = mapped_column(ForeignKey("open311_keys.id"))
    # Workflow (0003): a reopened report stays flagged; a duplicate follows its master.
    reopened: Mapped[bool] = mapped_column(Boolean, server_default=text("false"))
    duplicate_of: Mapped[int | None] = mapped_column(ForeignKey("reports.id"))
    plus_ones: Mapped[int] = mapped_column(Integer, server_default="0")
    assignee_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))


class ReportPhoto(Base):
    __tablename__ = "report_photos"
    __table_args__ = (
        Index("report_photos_event", "event_id", postgresql_where=text("event_id IS NOT NULL")),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    report_id: Mapped[int] = mapped_column(ForeignKey("reports.id", ondelete="CASCADE"), index=True)
    event_id: Mapped[int | None] = mapped_column(
        ForeignKey("report_events.id", ondelete="CASCADE")
    )  # a photo of the fix belongs to the event that resolved the report
    file_name: Mapped[str] = mapped_column(Text)
    width: Mapped[int] = mapped_column(Integer)
    height: Mapped[int] = mapped_column(Integer)
    bytes: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[dt.datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now()
    )


class ReportEvent(Base):
    """Append-only history of a report: what the public timeline and the figures are made of."""

    __tablename__ = "report_events"
    __table_args__ = (
        CheckConstraint(sql_in("to_status", EVENT_STATUSES), name="report_events_to_status"),
        CheckConstraint(sql_in("from_status", EVENT_STATUSES), name="report_events_from_status"),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    report_id: Mapped[int] = mapped_column(ForeignKey("reports.id", ondelete="CASCADE"), index=True)
    at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    actor: Mapped[str] = mapped_column(Text)
    from_status: Mapped[str | None] = mapped_column(Text)
    to_status: Mapped[str] = mapped_column(Text)
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("units.id"))
    public_comment: Mapped[str | None] = mapped_column(Text)
    internal_note: Mapped[str | None] = mapped_column(Text)
    reason: Mapped[str | None] = mapped_column(Text)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))


class Rating(Base):
    """The reporter's one rating of a resolved report."""

    __tablename__ = "ratings"
    __table_args__ = (CheckConstraint("stars BETWEEN 1 AND 5"),)

    report_id: Mapped[int] = mapped_column(
        ForeignKey("reports.id", ondelete="CASCADE"), primary_key=True
    )
    satisfied: Mapped[bool] = mapped_column(Boolean)
    stars: Mapped[int] = mapped_column(SmallInteger)
    comment: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now()
    )


class Follower(Base):
    """A citizen who said "me too" (+1) and follows the report with their own token."""

    __tablename__ = "followers"
    __table_args__ = (Index("followers_report", "report_id"),)

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    report_id: Mapped[int] = mapped_column(ForeignKey("reports.id", ondelete="CASCADE"))
    token: Mapped[str] = mapped_column(Text, unique=True, server_default=text("gs_new_token()"))
    created_at: Mapped[dt.datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now()
    )


class ResponseTemplate(Base):
    """A text staff pick when they change a status: city-wide (unit NULL) or a unit's own,
    for every category (NULL) or one, for any status (NULL) or one."""

    __tablename__ = "response_templates"
    __table_args__ = (UniqueConstraint("unit_id", "category_id", "code"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(Text)
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("units.id", ondelete="CASCADE"))
    category_id: Mapped[int | None] = mapped_column(ForeignKey("categories.id", ondelete="CASCADE"))
    status: Mapped[str | None] = mapped_column(Text)
    title: Mapped[str] = mapped_column(Text)
    body: Mapped[str] = mapped_column(Text)
    active: Mapped[bool] = mapped_column(Boolean, server_default=text("true"))
    updated_at: Mapped[dt.datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now()
    )


class WorkingCalendar(Base):
    """The city's time zone for deadlines (one row)."""

    __tablename__ = "working_calendar"

    singleton: Mapped[bool] = mapped_column(Boolean, primary_key=True, server_default=text("true"))
    timezone: Mapped[str] = mapped_column(Text)


class WorkingHours(Base):
    """One working period of a weekday (1 = Monday), local time."""

    __tablename__ = "working_hours"

    weekday: Mapped[int] = mapped_column(SmallInteger, primary_key=True)
    starts: Mapped[dt.time] = mapped_column(Time, primary_key=True)
    ends: Mapped[dt.time] = mapped_column(Time)


class Holiday(Base):
    __tablename__ = "holidays"

    day: Mapped[dt.date] = mapped_column(Date, primary_key=True)
    name: Mapped[str] = mapped_column(Text)


class WorkingPeriod(Base):
    """The calendar unrolled (2000-2100) with running totals of working time, rebuilt by
    trigger: a deadline is two index probes (gs_add_working_hours)."""

    __tablename__ = "working_periods"

    starts: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), primary_key=True)
    ends: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    us_before: Mapped[int] = mapped_column(BigInteger)
    us_after: Mapped[int] = mapped_column(BigInteger, unique=True)


class User(Base):
    """A person who logs in. Unit roles (unit_staff, unit_manager) belong to one unit."""

    __tablename__ = "users"
    __table_args__ = (
        CheckConstraint(f"role IN {ROLES!r}", name="users_role"),
        CheckConstraint(
            "role NOT IN ('unit_staff', 'unit_manager') OR unit_id IS NOT NULL",
            name="users_unit_roles_have_a_unit",
        ),
        CheckConstraint(
            "username = lower(username) AND username ~ '^[a-z0-9][a-z0-9._@-]{1,63}$'",
            name="users_username",
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(Text, unique=True)
    password_hash: Mapped[str] = mapped_column(Text)
    role: Mapped[str] = mapped_column(Text)
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("units.id"), index=True)
    display_name: Mapped[str] = mapped_column(Text, server_default="")
    active: Mapped[bool] = mapped_column(Boolean, server_default=text("true"))
    created_at: Mapped[dt.datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now()
    )


class Session(Base):
    """A login. Only the SHA-256 of the token is stored; ``csrf`` is the double-submit value
    cookie-authenticated writes must echo in X-CSRF-Token."""

    __tablename__ = "sessions"
    __table_args__ = (
        CheckConstraint("octet_length(token_hash) = 32", name="sessions_token_hash_sha256"),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    token_hash: Mapped[bytes] = mapped_column(LargeBinary, unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[dt.datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now()
    )
    expires_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), index=True)
    last_seen: Mapped[dt.datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now()
    )
    csrf: Mapped[str] = mapped_column(Text)


class LoginFailure(Base):
    """One wrong password, counted per username and client address for rate limiting."""

    __tablename__ = "login_failures"
    __table_args__ = (Index("login_failures_who_at", "username", "ip", "at"),)

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    username: Mapped[str] = mapped_column(Text)
    ip: Mapped[str] = mapped_column(Text)
    at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class Open311Key(Base):
    """An API key of one Open311 client. Only the SHA-256 of the key is stored; ``prefix``
    (its first characters) lets an operator tell keys apart in a list."""

    __tablename__ = "open311_keys"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    client: Mapped[str] = mapped_column(Text)
    key_hash: Mapped[str] = mapped_column(Text, unique=True)
    prefix: Mapped[str] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now()
    )
    revoked_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    last_used_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))


class PlaceName(Base):
    """One way of writing a ward's name, normalised (no diacritics, lower case) for matching
    a written address: today's names, and the pre-reform wards merged into it (``former``).
    ``typed`` names carry their kind ("phường X"), which outranks a bare name."""

    __tablename__ = "place_names"
    __table_args__ = (
        UniqueConstraint("area_id", "name_norm", "former"),
        Index("place_names_set", "set_id"),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    set_id: Mapped[int] = mapped_column(ForeignKey("boundary_sets.id", ondelete="CASCADE"))
    area_id: Mapped[int] = mapped_column(ForeignKey("areas.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(Text)
    name_norm: Mapped[str] = mapped_column(Text)
    former: Mapped[bool] = mapped_column(Boolean)
    typed: Mapped[bool] = mapped_column(Boolean)


# --- Telling people (migration 0170; geo_service/notify) ------------------------------------
# The job queue's tables are procrastinate's own (procrastinate_*), applied from the package
# by the migration and left out of this description (see migrations/env.py).


class MailAddress(Base):
    """One e-mail address that hears from us, whatever it subscribed to, in its language.
    ``refused_at``: the mail server refused it for good; nothing more is sent to it."""

    __tablename__ = "mail_addresses"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    email: Mapped[str] = mapped_column(Text)
    lang: Mapped[str] = mapped_column(Text, server_default="vi")
    refused_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    refused_reason: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now()
    )


Index("mail_addresses_email", func.lower(MailAddress.email), unique=True)


class Subscription(Base):
    """What an address follows: one report (its reporter's, or a +1's with ``follower_id``),
    or an area's new reports (a ward, or a radius around a point; optionally one category
    group), which counts only once confirmed (double opt-in)."""

    __tablename__ = "subscriptions"
    __table_args__ = (
        CheckConstraint("kind IN ('report', 'area')", name="subscriptions_kind"),
        CheckConstraint("(kind = 'report') = (report_id IS NOT NULL)", name="subscriptions_report"),
        CheckConstraint(
            "kind <> 'area' OR ((ward_code IS NULL) <> (center IS NULL AND radius_m IS NULL))",
            name="subscriptions_area",
        ),
        Index("subscriptions_report_live", "report_id", postgresql_where=text("ended_at IS NULL")),
        Index("subscriptions_address", "address_id"),
        Index(
            "subscriptions_area_live",
            "kind",
            postgresql_where=text(
                "kind = 'area' AND ended_at IS NULL AND confirmed_at IS NOT NULL"
            ),
        ),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    address_id: Mapped[int] = mapped_column(ForeignKey("mail_addresses.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(Text)
    report_id: Mapped[int | None] = mapped_column(ForeignKey("reports.id", ondelete="CASCADE"))
    follower_id: Mapped[int | None] = mapped_column(ForeignKey("followers.id", ondelete="CASCADE"))
    ward_code: Mapped[str | None] = mapped_column(Text)
    center: Mapped[Any | None] = mapped_column(
        Geometry("POINT", srid=4326, spatial_index=False), nullable=True
    )
    radius_m: Mapped[float | None] = mapped_column(Float)
    group_code: Mapped[str | None] = mapped_column(Text)
    confirm_token: Mapped[str] = mapped_column(
        Text, unique=True, server_default=text("gs_new_token()")
    )
    confirmed_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    ended_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[dt.datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now()
    )


class UnitContact(Base):
    """An address a unit's mail goes to; an official's own copy has ``user_id`` (they turn
    it on or off themselves)."""

    __tablename__ = "unit_contacts"
    __table_args__ = (UniqueConstraint("unit_id", "email"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id", ondelete="CASCADE"))
    email: Mapped[str] = mapped_column(Text)
    lang: Mapped[str] = mapped_column(Text, server_default="vi")
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    active: Mapped[bool] = mapped_column(Boolean, server_default=text("true"))
    created_at: Mapped[dt.datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now()
    )


class UnitNotifySettings(Base):
    """A unit's choice: every report as it comes (no row, or ``digest_hours`` NULL), or one
    digest every N hours."""

    __tablename__ = "unit_notify_settings"
    __table_args__ = (
        CheckConstraint("digest_hours BETWEEN 1 AND 168", name="unit_notify_settings_digest_hours"),
    )

    unit_id: Mapped[int] = mapped_column(
        ForeignKey("units.id", ondelete="CASCADE"), primary_key=True
    )
    digest_hours: Mapped[int | None] = mapped_column(Integer)
    last_digest_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))


class Webhook(Base):
    """Another system told of a unit's (or, with no unit, the whole city's) reports."""

    __tablename__ = "webhooks"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("units.id", ondelete="CASCADE"))
    url: Mapped[str] = mapped_column(Text)
    secret: Mapped[str] = mapped_column(Text)
    events: Mapped[list[str]] = mapped_column(ARRAY(Text))
    active: Mapped[bool] = mapped_column(Boolean, server_default=text("true"))
    created_at: Mapped[dt.datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now()
    )


class OutboxMessage(Base):
    """The outbox and its delivery log: one mail or webhook call, unique per cause and
    recipient (``dedupe_key``), with its state and attempts."""

    __tablename__ = "messages"
    __table_args__ = (
        CheckConstraint("channel IN ('mail', 'webhook')", name="messages_channel"),
        CheckConstraint(
            "status IN ('pending', 'held', 'sent', 'failed', 'discarded', 'digested', 'skipped')",
            name="messages_status",
        ),
        Index(
            "messages_attention",
            "status",
            "id",
            postgresql_where=text("status IN ('failed', 'held', 'pending')"),
        ),
        Index(
            "messages_webhook", "webhook_id", "id", postgresql_where=text("webhook_id IS NOT NULL")
        ),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    channel: Mapped[str] = mapped_column(Text)
    kind: Mapped[str] = mapped_column(Text)
    dedupe_key: Mapped[str] = mapped_column(Text, unique=True)
    report_id: Mapped[int | None] = mapped_column(ForeignKey("reports.id", ondelete="CASCADE"))
    address_id: Mapped[int | None] = mapped_column(
        ForeignKey("mail_addresses.id", ondelete="CASCADE")
    )
    unit_contact_id: Mapped[int | None] = mapped_column(
        ForeignKey("unit_contacts.id", ondelete="SET NULL")
    )
    webhook_id: Mapped[int | None] = mapped_column(ForeignKey("webhooks.id", ondelete="CASCADE"))
    recipient: Mapped[str] = mapped_column(Text)
    subject: Mapped[str | None] = mapped_column(Text)
    body_text: Mapped[str] = mapped_column(Text)
    body_html: Mapped[str | None] = mapped_column(Text)
    headers: Mapped[dict[str, Any]] = mapped_column(JSONB, server_default=text("'{}'::jsonb"))
    payload: Mapped[dict[str, Any]] = mapped_column(JSONB, server_default=text("'{}'::jsonb"))
    status: Mapped[str] = mapped_column(Text, server_default="pending")
    attempts: Mapped[int] = mapped_column(Integer, server_default="0")
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now()
    )
    next_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    sent_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))


class MessageAttempt(Base):
    """One try at delivering a message: the delivery log admins read."""

    __tablename__ = "message_attempts"
    __table_args__ = (Index("message_attempts_message", "message_id"),)

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    message_id: Mapped[int] = mapped_column(ForeignKey("messages.id", ondelete="CASCADE"))
    at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    ok: Mapped[bool] = mapped_column(Boolean)
    detail: Mapped[str] = mapped_column(Text)
    duration_ms: Mapped[float] = mapped_column(Float)


class ReportAlarm(Base):
    """A deadline warning already raised for a report: each kind once per report."""

    __tablename__ = "report_alarms"
    __table_args__ = (
        CheckConstraint("kind IN ('deadline_soon', 'deadline_missed')", name="report_alarms_kind"),
    )

    report_id: Mapped[int] = mapped_column(
        ForeignKey("reports.id", ondelete="CASCADE"), primary_key=True
    )
    kind: Mapped[str] = mapped_column(Text, primary_key=True)
    at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class NotifyKey(Base):
    """The key that signs unsubscribe links, made once by the migration, shared by the web
    processes and the worker."""

    __tablename__ = "notify_keys"

    name: Mapped[str] = mapped_column(Text, primary_key=True)
    secret: Mapped[str] = mapped_column(
        Text, server_default=text("gs_new_token() || gs_new_token()")
    )
