"""The composition root: everything a front end needs, built in one place from settings and a database.

    services = open_services(settings, "postgresql+psycopg://…")   # or None: the settings' / default SQLite
    services.workspace.list_profiles(); await services.engine.run(profile_id)
    services.close()

`zbsn` (every command), `zbsn-tui` and the demo all call `open_services`; nothing else wires the database,
the vault, the workspace, the engine, the schedules and the serve runtime (webhook receiver + scheduler)
together. A missing or renamed service is then a type error, not a screen that says "not available".
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import sqlalchemy as sa

from zbsn.core.clock import Clock, SystemClock
from zbsn.core.db import migrate
from zbsn.core.db.engine import make_engine, resolve_database_url
from zbsn.core.engine.runner import RunSummary
from zbsn.core.engine.service import EngineService
from zbsn.core.scheduling import ScheduleService
from zbsn.core.settings import Settings, load_settings
from zbsn.core.token_store import SecretCipher
from zbsn.core.vault import open_vault
from zbsn.core.webhooks.runtime import ServeRuntime, runtime_for_workspace
from zbsn.core.workspace import Workspace
from zbsn.core.zoho.budget import BudgetConfig


@dataclass
class Services:
    """The services of one database: what the CLI commands, the console screens and the demo call."""

    settings: Settings
    db: sa.Engine
    vault: SecretCipher = field(repr=False)
    workspace: Workspace
    engine: EngineService
    schedules: ScheduleService
    owns_db: bool = False

    @property
    def database_url(self) -> str:
        """The database's URL with any password masked (for the operator's eyes)."""
        return self.db.url.render_as_string(hide_password=True)

    def serve_runtime(
        self,
        *,
        host: str | None = None,
        port: int | None = None,
        webhooks: bool = True,
        schedules: bool = True,
        on_scheduled_run: Callable[[RunSummary], None] | None = None,
    ) -> ServeRuntime:
        """Schedules and the webhook receiver over this workspace (what `zbsn serve` and the console run)."""
        return runtime_for_workspace(
            self.workspace,
            host=host,
            port=port,
            webhooks=webhooks,
            schedules=schedules,
            on_scheduled_run=on_scheduled_run,
            engine=self.engine,
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

    Raises `sqlalchemy.exc.SQLAlchemyError` when the database cannot be reached and `vault.VaultError` when
    the key does not open it; nothing is written in either case.
    """
    settings = settings if settings is not None else load_settings()
    if isinstance(database, sa.Engine):
        db, owns_db = database, False
    else:
        db, owns_db = make_engine(resolve_database_url(database or settings.database_url)), True
    try:
        if apply_migrations and not migrate.is_current(db):
            migrate.upgrade(db)
        cipher = vault if vault is not None else open_vault(db, settings.keyring_service)
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
        owns_db=owns_db,
    )


__all__ = ["Services", "open_services"]
