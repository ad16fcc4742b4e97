"""All configuration in one place, read from the environment (and an optional .env file).

Nothing here names a city: the city is a profile file (see ``geo_service/cities/``) so that
another city is a new boundary file and a new category table, not a code change.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

PACKAGE_DIR = Path(__file__).resolve().parent
DEFAULT_DATABASE_URL = "postgresql://postgres@127.0.0.1:5432/geo_service"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", extra="ignore")

    database_url: str = Field(
        default=DEFAULT_DATABASE_URL,
        description="postgresql:// URL of the PostGIS database (the single source of truth).",
    )
    city_profile: Path = Field(
        default=PACKAGE_DIR / "cities" / "hanoi.toml",
        description="TOML file naming the city's boundary files, categories, units and rules.",
    )
    media_dir: Path = Field(default=Path("var/media"), description="Where photos are stored.")
    db_pool_size: int = Field(default=10, ge=1, le=200)

    # Reports
    snap_distance_m: float = Field(
        default=50.0, ge=0, description="A pin in a sliver between wards snaps this far at most."
    )
    description_max_chars: int = Field(default=4000, ge=1)
    max_photos: int = Field(default=3, ge=0, le=10)
    photo_max_bytes: int = Field(default=10 * 1024 * 1024, ge=1024)
    photo_max_pixels: int = Field(default=40_000_000, ge=10_000)
    photo_max_side: int = Field(default=2048, ge=64)
    page_size_max: int = Field(default=500, ge=1)

    # Workflow
    transfer_restarts_deadline: bool = Field(
        default=True,
        description="A transferred report gets a fresh deadline in its new unit's queue.",
    )
    reopen_days: int = Field(
        default=7, ge=0, description="Days after resolution a citizen may still reopen."
    )
    duplicate_days: int = Field(
        default=30, ge=1, description="Open reports this recent are offered as duplicates."
    )

    # Boundary reforms: how often the service looks for scheduled activations (0: never;
    # then `geo-service boundaries activate-due` from cron does it).
    boundary_schedule_check_s: float = Field(default=60.0, ge=0)

    # Open311 GeoReport v2 (/open311/v2/)
    open311_jurisdiction_id: str | None = Field(
        default=None,
        description="The jurisdiction_id clients may send; default: the city profile's.",
    )
    open311_contact: str = Field(
        default="Questions about this Open311 endpoint: write to the operator of this service.",
        description="Discovery's contact line: who to ask about the API.",
    )
    open311_key_service: str = Field(
        default="API keys for POST requests are issued by the operator of this service.",
        description="Discovery's key_service line: how a client gets an api_key.",
    )
    open311_max_requests: int = Field(
        default=1000, ge=1, le=10_000, description="GET requests returns at most this many."
    )
    open311_max_days: int = Field(
        default=90, ge=1, description="GET requests spans at most this many days."
    )

    # Accounts
    session_hours: float = Field(
        default=12.0, gt=0, le=24 * 90, description="A login lasts this long, then expires."
    )
    login_max_failures: int = Field(
        default=5, ge=1, description="Wrong passwords per username and address before a pause."
    )
    login_failure_window_s: int = Field(
        default=900, ge=1, description="Failures older than this no longer count."
    )
    secure_cookies: bool = Field(
        default=False, description="Mark session cookies Secure (set it when served over HTTPS)."
    )

    # Telling people (geo_service/notify; delivered by `geo-service worker`)
    public_url: str = Field(
        default="http://localhost:8000",
        description="The service's address as people reach it: the links in mails and feeds.",
    )
    smtp_url: str = Field(
        default="smtp://127.0.0.1:25",
        description="smtp://[user:password@]host[:port] (STARTTLS when offered) or smtps://.",
    )
    mail_from: str = Field(
        default="geo_service <noreply@localhost>", description="The From of every mail."
    )
    notify_max_attempts: int = Field(
        default=8, ge=1, le=50, description="Tries of one mail or webhook call before it fails."
    )
    notify_retry_base_s: float = Field(
        default=30.0, gt=0, description="The first retry's wait; each next one doubles it."
    )
    notify_retry_max_s: float = Field(default=6 * 3600.0, gt=0, description="Longest wait.")
    notify_concurrency: int = Field(
        default=10, ge=1, le=200, description="Messages the worker sends at once."
    )
    alert_confirm_days: int = Field(
        default=7, ge=1, description="An alert not confirmed this many days later is dropped."
    )
    webhook_timeout_s: float = Field(default=10.0, gt=0)

    # Web app basemap: any XYZ tile server; empty = no tiles (the ward boundaries still draw).
    tile_url: str = Field(
        default="https://tile.openstreetmap.org/{z}/{x}/{y}.png",
        description="XYZ tile URL template of the web app's basemap ('' for none).",
    )
    tile_attribution: str = Field(
        default='&copy; <a href="https://www.openstreetmap.org/copyright">OpenStreetMap</a>'
        " contributors",
        description="HTML attribution the tile server's licence requires.",
    )
    tile_max_zoom: int = Field(default=19, ge=1, le=24)

    @field_validator("database_url")
    @classmethod
    def _postgres_only(cls, value: str) -> str:
        if not value.startswith(("postgresql://", "postgres://", "postgresql+psycopg://")):
            raise ValueError("DATABASE_URL must be a postgresql:// URL")
        return value

    @field_validator("smtp_url")
    @classmethod
    def _smtp_only(cls, value: str) -> str:
        if not value.startswith(("smtp://", "smtps://")):
            raise ValueError("SMTP_URL must be an smtp:// or smtps:// URL")
        return value

    @property
    def psycopg_url(self) -> str:
        """The URL as psycopg itself (procrastinate's connector) reads it."""
        return "postgresql://" + self.database_url.split("://", 1)[1]

    @property
    def sqlalchemy_url(self) -> str:
        """The URL with the psycopg 3 driver named, whatever form the user gave."""
        rest = self.database_url.split("://", 1)[1]
        return f"postgresql+psycopg://{rest}"


@lru_cache
def get_settings() -> Settings:
    return Settings()
