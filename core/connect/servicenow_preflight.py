"""The pre-flight of a ServiceNow connection, for `zbsn doctor`, the Connect screen and anyone holding a
`Workspace` (`workspace.preflight(connection_id)`).

It reads the instance's dictionary, transform maps, insertMultiple settings and the OAuth application user's
roles (`ServiceNowClient.preflight`, one request) for every staging table zbsn may write, with the columns it
writes (so the report names the mandatory ones it skips), and says what a sync would lack. The client gets a
short retry budget of its own: an unreachable instance costs seconds, not the engine's minute of retries. The
engine runs the same check before every run (core/engine/stages/preflight.py).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import httpx

from zbsn.core.clients import ClientFactory
from zbsn.core.clock import Clock
from zbsn.core.connections import ConnectionRepository, connection_view
from zbsn.core.engine.columns import FX_RATE_TABLE, WRITTEN
from zbsn.core.redaction import redact
from zbsn.core.servicenow.client import ServiceNowClient
from zbsn.core.servicenow.errors import ServiceNowError, ServiceNowReauthorize
from zbsn.core.servicenow.preflight import DEFAULT_TABLES
from zbsn.core.servicenow.requester import RetryPolicy
from zbsn.core.workspace_errors import WorkspaceError

PREFLIGHT_RETRY = RetryPolicy(
    attempts=2, timeout_s=15, wait_initial_s=0.5, wait_max_s=2, rate_limit_retries=1
)
PREFLIGHT_TIMEOUT_S = 15.0


@dataclass(frozen=True, slots=True)
class PreflightCheck:
    """What a ServiceNow connection's instance lacks for zbsn's staging (or why that could not be read)."""

    connection_id: int
    connection: str
    instance_url: str | None
    ok: bool = False
    problems: list[str] = field(default_factory=list)  # each blocks a run
    warnings: list[str] = field(default_factory=list)  # zbsn works around them
    roles: list[str] | None = None  # the OAuth application user's roles (None: not readable)
    error: str | None = None  # the pre-flight could not run (unreachable, refused credentials, ...)

    def as_json(self) -> dict[str, Any]:
        """The check as `zbsn doctor --json` prints it."""
        return {
            "connection": self.connection,
            "instance_url": self.instance_url,
            "ok": self.ok,
            "problems": list(self.problems),
            "warnings": list(self.warnings),
            "roles": self.roles,
            "error": self.error,
        }


async def check_servicenow(
    connections: ConnectionRepository, clients: ClientFactory, clock: Clock, connection_id: int
) -> PreflightCheck:
    """Run the pre-flight of one ServiceNow connection; never raises for the instance's answers."""
    view = connection_view(connections.get(connection_id))
    check = PreflightCheck(connection_id, view.name, view.instance_url)
    try:
        if not view.instance_url:
            raise WorkspaceError(f"ServiceNow connection '{view.name}' has no instance URL")
        client = ServiceNowClient(
            view.instance_url,
            clients.servicenow_auth(connection_id),
            retry=PREFLIGHT_RETRY,
            timeout_s=PREFLIGHT_TIMEOUT_S,
            clock=clock,
        )
        async with client:
            report = await client.preflight(DEFAULT_TABLES, {t: WRITTEN[t] for t in DEFAULT_TABLES})
    except ServiceNowReauthorize as exc:
        error = redact(f"{exc} (run `zbsn connect servicenow` to authorise again)")
        return PreflightCheck(connection_id, view.name, view.instance_url, error=error)
    except (ServiceNowError, WorkspaceError, httpx.HTTPError) as exc:
        error = redact(f"{type(exc).__name__}: {exc}")
        return PreflightCheck(connection_id, view.name, view.instance_url, error=error)
    # FX rate staging fails only foreign-currency bills (core/engine/stages/preflight.py): a warning here
    fx_problems = report.problems_of(FX_RATE_TABLE)
    fx_warnings = [f"foreign-currency bills will fail until this is fixed: {p}" for p in fx_problems]
    usable = report.without(FX_RATE_TABLE) if fx_problems else report
    return PreflightCheck(
        check.connection_id,
        check.connection,
        check.instance_url,
        ok=usable.ok,
        problems=list(usable.problems),
        warnings=[*fx_warnings, *usable.warnings],
        roles=report.roles,
    )
