"""`zbsn doctor`'s ServiceNow section: the pre-flight of every ServiceNow connection (`Workspace.preflight`,
core/connect/servicenow_preflight.py), whose problems join the report's problems."""

from __future__ import annotations

import asyncio
from typing import Any

from zbsn.core.domain import ConnectionKind
from zbsn.core.workspace import PreflightCheck, Workspace


async def _check_all(workspace: Workspace) -> list[PreflightCheck]:
    connections = workspace.list_connections(ConnectionKind.SERVICENOW)
    return [await workspace.preflight(connection.id) for connection in connections]


def servicenow_sections(
    workspace: Workspace, problems: list[str], warnings: list[str]
) -> list[dict[str, Any]]:
    """One pre-flight section per ServiceNow connection; its problems and warnings join the report's lists."""
    sections = [check.as_json() for check in asyncio.run(_check_all(workspace))]
    for section in sections:
        where = f"ServiceNow '{section['connection']}'"
        if section["error"]:
            problems.append(f"{where}: the pre-flight could not run: {section['error']}")
        problems += [f"{where}: {item}" for item in section["problems"]]
        warnings += [f"{where}: {item}" for item in section["warnings"]]
    return sections
