"""The composition root: everything a front end needs, built in one place from settings and a database.

    services = open_services(settings, "postgresql+psycopg://…")   # or None: the settings' / default SQLite
    services.workspace.list_profiles(); await services.engine.run(profile_id)
    services.close()

`zbsn` (every command), `zbsn-tui` and the demo all call `open_services`; nothing else wires the database,
the vault, the workspace, the engine, the schedules and the serve runtime (webhook receiver + scheduler)
together. A missing or renamed service is then a type error, not a screen that says "not available".
"""

from __future__ import annotations

import hashlib
import importlib.util
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import sqlalchemy as sa

from zbsn.core.audit_query import AuditLog
from zbsn.core.clock import Clock, SystemClock
from zbsn.core.db import migrate
from zbsn.core.db.engine import make_engine, resolve_database_url
from zbsn.core.engine.runner import RunSummary
from zbsn.core.engine.service import EngineService
from zbsn.core.redaction import redact
from zbsn.core.scheduling import ScheduleService
from zbsn.core.settings import Settings, load_settings
from zbsn.core.token_store import SecretCipher
from zbsn.core.vault import open_vault
from zbsn.core.webhooks.runtime import ServeRuntime, runtime_for_workspace
from zbsn.core.workspace import Workspace
from zbsn.core.zoho.budget import BudgetConfig

if TYPE_CHECKING:
    from procrastinate import App


class DatabaseUnavailable(Exception):
    """The database cannot be opened or migrated (the message says why, without its password)."""


@dataclass
class Services:
    """The services of one database: what the CLI commands, the console screens and the demo call."""

    settings: Settings
    db: sa.Engine
    vault: SecretCipher = field(repr=False)
    workspace: Workspace
    engine: EngineService
    schedules: ScheduleService
    audit: AuditLog
    owns_db: bool = False

    @property
    def database_url(self) -> str:
        """The database's URL with any password masked (for the operator's eyes)."""
        return self.db.url.render_as_string(hide_password=True)

    @property
    def jobs_enabled(self) -> bool:
        """Whether runs go through the job queue (`core/jobs`): PostgreSQL with `jobs.enabled`, and
        procrastinate installed (the `postgres` extra). SQLite keeps the single-process `zbsn serve`."""
        if self.db.dialect.name != "postgresql" or not self.settings.jobs.enabled:
            return False
        return importlib.util.find_spec("procrastinate") is not None

    def job_app(self) -> App:
        """The job queue's procrastinate App on this database (the caller opens it: `open_async`)."""
        from zbsn.core.jobs.app import job_app

        return job_app(self.db, self.settings.jobs)

    @property
    def database_key(self) -> str:
        """A stable name for this database that reveals nothing of its URL (a hash of it, password included,
        so two servers never share one)."""
        url = self.db.url.render_as_string(hide_password=False)
        return hashlib.sha256(url.encode("utf-8")).hexdigest()[:24]

    def serve_runtime(
        self,
        *,
        host: str | None = None,
        port: int | None = None,
        webhooks: bool = True,
        schedules: bool = True,
        on_scheduled_run: Callable[[RunSummary], None] | None = None,
    ) -> ServeRuntime:
        """Schedules and the webhook receiver over this workspace (what `zbsn serve` and the console run);
        with the job queue, the receiver only enqueues and the workers run schedules and events."""
        return runtime_for_workspace(
            self.workspace,
            host=host,
            port=port,
            webhooks=webhooks,
            schedules=schedules,
            on_scheduled_run=on_scheduled_run,
            engine=self.engine,
            job_app=self.job_app() if self.jobs_enabled else None,
        )

    def close(self) -> None:
        """Release the database (when this object opened it)."""
        if self.owns_db:
            self.db.dispose()


def open_services(
    settings: Settings | None = None,
    database: str | sa.Engine | None = None,
    *,
    apply_migrations: bool = True,
    vault: SecretCipher | None = None,
    budget_config: BudgetConfig | None = None,
    clock: Clock | None = None,
) -> Services:
    """Open the database (an engine, a URL, or the settings' URL / the default SQLite file), migrate it to
    the newest schema, open the vault (key from the OS keyring, ZBSN_MASTER_KEY or the key file) and build
    the workspace, the engine and the schedules on it.

    Raises `DatabaseUnavailable` when the database cannot be reached or migrated and `vault.VaultError`
    when the key does not open it; nothing is written in either case.
    """
    settings = settings if settings is not None else load_settings()
    try:
        if isinstance(database, sa.Engine):
            db, owns_db = database, False
        else:
            wait = settings.database.outage_wait_seconds
            url = resolve_database_url(database or settings.database_url)
            db, owns_db = make_engine(url, connect_wait_s=wait, outage_wait_s=wait), True
    except (sa.exc.SQLAlchemyError, ValueError) as exc:
        raise DatabaseUnavailable(_describe(exc)) from exc
    try:
        if apply_migrations and not migrate.is_current(db):
            migrate.upgrade(db)
        cipher = vault if vault is not None else open_vault(db, settings.keyring_service)
    except sa.exc.SQLAlchemyError as exc:
        if owns_db:
            db.dispose()
        where = db.url.render_as_string(hide_password=True)
        raise DatabaseUnavailable(f"{where}: {_describe(exc)}") from exc
    except BaseException:
        if owns_db:
            db.dispose()
        raise
    clock = clock or SystemClock()
    workspace = Workspace(db, settings, cipher, clock, budget_config=budget_config)
    return Services(
        settings=settings,
        db=db,
        vault=cipher,
        workspace=workspace,
        engine=workspace.engine_service(),
        schedules=workspace.schedules(),
        audit=AuditLog(db),
        owns_db=owns_db,
    )


def _describe(exc: BaseException) -> str:
    """One readable line: the driver's error class and the first line of what it said (no SQL, no secret)."""
    cause = getattr(exc, "orig", None) or exc
    first = (str(cause).strip().splitlines() or [""])[0][:200]
    return redact(f"{type(cause).__name__}: {first}")


__all__ = ["DatabaseUnavailable", "Services", "open_services"]
