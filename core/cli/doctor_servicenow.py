"""`zbsn doctor`'s ServiceNow section: the pre-flight of every ServiceNow connection.

For each connection the pre-flight (core/servicenow/preflight.py) reads the instance's dictionary, transform
maps, insertMultiple settings and the OAuth application user's roles, and says what a sync would lack. The
client is built here from the workspace's auth with a short retry budget, so an unreachable instance costs
seconds, not the engine's minute of retries.
"""

from __future__ import annotations

import asyncio
from typing import Any

import httpx

from zbsn.core.domain import ConnectionKind
from zbsn.core.redaction import redact
from zbsn.core.servicenow.client import ServiceNowClient
from zbsn.core.servicenow.errors import ServiceNowError, ServiceNowReauthorize
from zbsn.core.servicenow.requester import RetryPolicy
from zbsn.core.workspace import ConnectionView, Workspace, WorkspaceError

DOCTOR_RETRY = RetryPolicy(attempts=2, timeout_s=15, wait_initial_s=0.5, wait_max_s=2, rate_limit_retries=1)
DOCTOR_TIMEOUT_S = 15.0


async def _check(workspace: Workspace, connection: ConnectionView) -> dict[str, Any]:
    section: dict[str, Any] = {
        "connection": connection.name,
        "instance_url": connection.instance_url,
        "ok": False,
        "problems": [],
        "warnings": [],
        "roles": None,
        "error": None,
    }
    try:
        if not connection.instance_url:
            raise WorkspaceError(f"ServiceNow connection '{connection.name}' has no instance URL")
        client = ServiceNowClient(
            connection.instance_url,
            workspace.servicenow_auth(connection.id),
            retry=DOCTOR_RETRY,
            timeout_s=DOCTOR_TIMEOUT_S,
            clock=workspace.clock,
        )
        async with client:
            report = await client.preflight()
    except ServiceNowReauthorize as exc:
        section["error"] = redact(f"{exc} (run `zbsn connect servicenow` to authorise again)")
        return section
    except (ServiceNowError, WorkspaceError, httpx.HTTPError) as exc:
        section["error"] = redact(f"{type(exc).__name__}: {exc}")
        return section
    section.update(ok=report.ok, problems=report.problems, warnings=report.warnings, roles=report.roles)
    return section


async def _check_all(workspace: Workspace) -> list[dict[str, Any]]:
    connections = workspace.list_connections(ConnectionKind.SERVICENOW)
    return [await _check(workspace, connection) for connection in connections]


def servicenow_sections(
    workspace: Workspace, problems: list[str], warnings: list[str]
) -> list[dict[str, Any]]:
    """One pre-flight section per ServiceNow connection; its problems and warnings join the report's lists."""
    sections = asyncio.run(_check_all(workspace))
    for section in sections:
        where = f"ServiceNow '{section['connection']}'"
        if section["error"]:
            problems.append(f"{where}: the pre-flight could not run: {section['error']}")
        problems += [f"{where}: {item}" for item in section["problems"]]
        warnings += [f"{where}: {item}" for item in section["warnings"]]
    return sections
