"""Connect a fleet's orgs the way an accounting firm's operator would: one ServiceNow connection, then per
Zoho organization a self-client connection and a profile (issue 18).

Shared by the scale benchmark and the workers-killed test so both connect through zbsn's own workspace,
as `zbsn connect zoho --self-client` and `zbsn profile create` do, never through the database.
"""

from __future__ import annotations

from typing import Any

from zbsn.core.workspace import Workspace


async def connect_fleet(workspace: Workspace, info: dict[str, Any]) -> dict[int, str]:
    """Connect the instance and every org in `info` (`Fleet.connection_info()`); profile id -> org id."""
    sn_id, test = await workspace.connect_servicenow(
        info["servicenow_url"], info["servicenow_client_id"], info["servicenow_client_secret"]
    )
    if not test.ok:
        raise RuntimeError(f"the fleet's ServiceNow instance refused the connection: {test.message}")
    profiles: dict[int, str] = {}
    for org in info["orgs"]:
        zoho = await workspace.connect_zoho_self_client(
            org["self_client_code"],
            info["zoho_client_id"],
            info["zoho_client_secret"],
            org["accounts_url"],
            name=f"zoho-{org['organization_id']}",
            organization_id=org["organization_id"],
        )
        profile = workspace.create_profile(
            f"org {org['organization_id']}",
            zoho.connection_id,
            sn_id,
            cost_center_tag_name=info["cost_center_tag_name"],
            legal_entity=info["legal_entity"],
        )
        profiles[profile.id] = org["organization_id"]
    return profiles
