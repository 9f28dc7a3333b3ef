"""zbsn settings: `config.toml` in the config dir (or `--config PATH`), overridden by `ZBSN_*` env vars.

Precedence, highest first: environment (`ZBSN_ZOHO__PER_MINUTE_LIMIT=50`), the TOML file, the defaults.
Unknown keys are refused so a typo never silently falls back to a default. Secrets are `SecretStr`, so
`repr()`, `str()` and `model_dump()` never show them; real secrets (tokens, client secrets) live encrypted
in the database, not here.
"""

from __future__ import annotations

import os
import tomllib
from pathlib import Path
from typing import Any, Literal

import sqlalchemy as sa
from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

from zbsn.core.paths import config_dir

ENV_PREFIX = "ZBSN_"
ENV_NESTED_DELIMITER = "__"
CONFIG_FILE_NAME = "config.toml"

LogLevel = Literal["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"]
InsertMultipleMode = Literal["sync", "async", "single"]


class SettingsError(Exception):
    """The configuration is unreadable or invalid; the message names the file (or variable) and key."""


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ZohoSettings(_Section):
    """Zoho Books client limits."""

    refresh_margin_seconds: int = Field(default=300, ge=0)
    per_minute_limit: int = Field(default=100, gt=0)
    # Zoho counts `per_minute_limit` requests per 60 s; only a sandbox started with a shorter window
    # (`zbsn sandbox --window-seconds W`) needs this changed, so the client paces to the same window.
    window_seconds: float = Field(default=60.0, gt=0)
    # The org's daily request cap (plan-dependent), shown on the budget gauge until Zoho's own header says it.
    daily_limit: int | None = Field(default=None, gt=0)
    # Admit every request through the database's shared budget (`zoho_budget`), so every process of the
    # deployment (connect, console, CLI, serve, workers) together stays under the org's limits.
    shared_budget: bool = True


class ServiceNowSettings(_Section):
    """ServiceNow client behaviour."""

    refresh_margin_seconds: int = Field(default=120, ge=0)
    batch_size: int = Field(default=200, gt=0, le=10_000)
    insert_multiple_mode: InsertMultipleMode = "sync"


class DatabaseSettings(_Section):
    """How zbsn rides out database trouble (the URL itself is `database_url`)."""

    # A dropped connection, a server restart, a serialization failure or a busy SQLite file: new connections
    # wait and each transaction is run again for up to this long before the error reaches the run.
    outage_wait_seconds: float = Field(default=30.0, ge=0)


class JobsSettings(_Section):
    """The job queue of a PostgreSQL deployment (`zbsn worker`; see `core/jobs`)."""

    # Use the queue at all (PostgreSQL only): `zbsn serve` then only receives webhooks and enqueues, and the
    # workers run schedules, webhook events, and the syncs and replays queued with `--enqueue`.
    enabled: bool = True
    concurrency: int = Field(default=1, ge=1, le=64)  # jobs (profiles) one worker process runs at once
    tick_seconds: int = Field(default=15, ge=1, le=59)  # how often due schedules become jobs
    heartbeat_seconds: float = Field(default=10.0, gt=0)  # a worker's heartbeat in the database
    # a worker silent this long is judged gone and its jobs go back in the queue (keep it above the
    # database outage window: a run waiting out an outage blocks its worker's loop meanwhile)
    stalled_after_seconds: float = Field(default=60.0, gt=0)
    shutdown_wait_seconds: float = Field(default=600.0, ge=0)  # SIGTERM: how long running jobs may finish


class AttachmentSettings(_Section):
    """The vendor's invoice document attached to each staged invoice."""

    # A document over this many bytes fails its attachment (the invoice is staged without it). 10 MiB: a
    # scanned invoice of a few pages fits; ServiceNow's own default cap (com.glide.attachment.max_size) is
    # far larger [I], so this bounds what one bill may cost in transfer and memory.
    max_bytes: int = Field(default=10 * 1024 * 1024, ge=0)


class WebhookSettings(_Section):
    """The loopback webhook receiver."""

    host: str = "127.0.0.1"
    port: int = Field(default=8765, ge=0, le=65535)  # 0: any free port (tests, the demo)
    secret: SecretStr | None = None
    replay_window_seconds: int = Field(default=300, gt=0)


class Settings(BaseSettings):
    """Everything zbsn reads from config.toml and the environment."""

    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX,
        env_nested_delimiter=ENV_NESTED_DELIMITER,
        extra="forbid",
        frozen=True,
    )

    database_url: str | None = Field(default=None, repr=False)
    database: DatabaseSettings = DatabaseSettings()
    log_level: LogLevel = "INFO"
    keyring_service: str = Field(default="zbsn", min_length=1)
    zoho: ZohoSettings = ZohoSettings()
    servicenow: ServiceNowSettings = ServiceNowSettings()
    webhook: WebhookSettings = WebhookSettings()
    jobs: JobsSettings = JobsSettings()
    attachments: AttachmentSettings = AttachmentSettings()

    @field_validator("log_level", mode="before")
    @classmethod
    def _upper_log_level(cls, value: Any) -> Any:
        return value.upper() if isinstance(value, str) else value

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        # load_settings passes the TOML document as init kwargs; the environment must beat it.
        return (env_settings, init_settings)

    def masked_database_url(self) -> str | None:
        """The database URL with any password hidden."""
        return mask_url(self.database_url) if self.database_url else None

    def public_dict(self) -> dict[str, Any]:
        """A JSON-ready view with every secret masked (for `zbsn config show`)."""
        data = self.model_dump(mode="json")
        data["database_url"] = self.masked_database_url()
        return data


def mask_url(url: str) -> str:
    """Hide the password of a database URL; leave anything unparsable unchanged."""
    try:
        return sa.make_url(url).render_as_string(hide_password=True)
    except sa.exc.ArgumentError:
        return url


def default_config_path() -> Path:
    """Where config.toml lives when no `--config` is given."""
    return config_dir() / CONFIG_FILE_NAME


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as handle:
            return tomllib.load(handle)
    except tomllib.TOMLDecodeError as exc:
        raise SettingsError(f"{path}: not valid TOML: {exc}") from exc
    except OSError as exc:
        raise SettingsError(f"{path}: cannot read config file: {exc.strerror}") from exc


def _in_document(document: dict[str, Any], loc: tuple[str | int, ...]) -> bool:
    node: Any = document
    for part in loc:
        if not isinstance(node, dict) or part not in node:
            return False
        node = node[part]
    return True


def _describe(exc: ValidationError, path: Path, document: dict[str, Any]) -> str:
    lines = []
    for error in exc.errors():
        loc = tuple(error["loc"])
        dotted = ".".join(str(part) for part in loc)
        env_name = ENV_PREFIX + ENV_NESTED_DELIMITER.join(str(part) for part in loc).upper()
        if env_name in {name.upper() for name in os.environ}:
            where = f"environment variable {env_name} (key '{dotted}')"
        elif _in_document(document, loc):
            where = f"{path}: key '{dotted}'"
        else:
            where = f"{path} or the ZBSN_ environment: key '{dotted}'"
        lines.append(f"{where}: {error['msg']}")
    return "invalid configuration:\n  " + "\n  ".join(lines)


def load_settings(config_path: Path | None = None) -> Settings:
    """Read `config_path` (default: config.toml in the config dir; a missing default file is fine).

    Raises SettingsError naming the file and key when the file or an environment variable is invalid.
    An explicitly given path that does not exist is an error.
    """
    path = config_path if config_path is not None else default_config_path()
    if config_path is not None and not path.is_file():
        raise SettingsError(f"{path}: config file not found")
    document = _read_toml(path) if path.is_file() else {}
    try:
        return Settings(**document)
    except ValidationError as exc:
        raise SettingsError(_describe(exc, path, document)) from exc
