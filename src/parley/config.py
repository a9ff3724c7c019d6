"""Settings: every option has a `PARLEY_*` environment twin. Imports no parley module."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

API_VERSIONS: tuple[str, ...] = (
    "1.0", "1.1", "1.2", "1.3", "1.4",
    "2.0", "2.1", "2.2", "2.3", "2.4", "2.5", "2.6", "2.7", "2.8", "2.9",
    "2.10", "2.11", "2.12", "2.13", "2.14", "2.15", "2.16",
)  # fmt: skip
DEFAULT_API_VERSION = "2.14"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="PARLEY_", extra="ignore")

    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=0, le=65535)
    data_dir: Path = Path("./parley-data")
    # Empty means: a SQLite file `parley.db` inside data_dir.
    database_url: str = ""
    bootstrap_token: str | None = None
    workspace_name: str = "My Workspace"
    admin_email: str = "owner@example.com"
    admin_name: str = "Workspace Owner"
    default_version: str = DEFAULT_API_VERSION
    log_level: str = "info"
    # A clock that /_parley/clock can read, set, freeze and advance (development and tests).
    controlled_clock: bool = False
    # Seconds between two scans of the snooze timer (0 turns the timer off).
    timer_interval: float = Field(default=1.0, ge=0)
    # The largest request body accepted (413 above it): a body is read into memory whole, and
    # one of 50 MB held the event loop for seconds and the process's memory for good.
    max_body_bytes: int = Field(default=10 * 1024 * 1024, ge=1)

    @field_validator("default_version")
    @classmethod
    def _known_version(cls, value: str) -> str:
        if value not in API_VERSIONS:
            raise ValueError(f"unknown Intercom API version {value!r}; use one of {API_VERSIONS}")
        return value

    @field_validator("database_url")
    @classmethod
    def _supported_url(cls, value: str) -> str:
        if value and not value.startswith(("sqlite:", "sqlite+", "postgresql")):
            raise ValueError(
                "PARLEY_DATABASE_URL must be sqlite:///path or postgresql+asyncpg://user@host/db"
            )
        if value.startswith("postgresql"):
            try:
                urlsplit(value).port  # noqa: B018 (parsing it is the check)
            except ValueError as exc:  # a port that is no number or out of range, a bad [host]
                raise ValueError(f"PARLEY_DATABASE_URL is not a valid URL: {exc}") from None
        return value

    @property
    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'parley.db').resolve()}"
