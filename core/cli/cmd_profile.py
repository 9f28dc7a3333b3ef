"""`zbsn profile …`: pair a Zoho Books organization with a ServiceNow instance, and list the pairs."""

from __future__ import annotations

from dataclasses import asdict
from typing import Annotated

import typer

from zbsn.core.cli.app import app, emit_json
from zbsn.core.cli.cmd_shared import EXIT_USAGE, JsonOption, die, open_workspace
from zbsn.core.domain import ConnectionKind, CostCenterSource
from zbsn.core.workspace import WorkspaceError

profile_app = typer.Typer(help="Sync profiles (a Zoho organization paired with a ServiceNow instance).")
app.add_typer(profile_app, name="profile")


def _only(ctx: typer.Context, kind: ConnectionKind, given: int | None) -> int:
    if given is not None:
        return given
    ids = [view.id for view in open_workspace(ctx).list_connections(kind)]
    if len(ids) != 1:
        die(f"{len(ids)} {kind.value} connections: choose one with --{kind.value}", EXIT_USAGE)
    return ids[0]


@profile_app.command("create")
def create(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="A name for the profile.")],
    zoho: Annotated[
        int | None, typer.Option("--zoho", help="Zoho connection id (default: the only one).")
    ] = None,
    servicenow: Annotated[
        int | None, typer.Option("--servicenow", help="ServiceNow connection id (default: the only one).")
    ] = None,
    cost_center_tag: Annotated[
        str, typer.Option("--cost-center-tag", help="Reporting tag holding the cost center.")
    ] = "Cost Center",
    by_location: Annotated[
        bool, typer.Option("--cost-center-by-location", help="Use the Zoho location as the cost center.")
    ] = False,
    allow_supplier_create: Annotated[
        bool, typer.Option("--allow-supplier-create", help="Stage unknown vendors as new suppliers.")
    ] = False,
    legal_entity: Annotated[
        str | None, typer.Option("--legal-entity", help="ERP company code of the legal entity.")
    ] = None,
    json_output: JsonOption = False,
) -> None:
    """Create a profile; the Zoho connection must have its organization chosen."""
    workspace = open_workspace(ctx)
    try:
        view = workspace.create_profile(
            name,
            _only(ctx, ConnectionKind.ZOHO, zoho),
            _only(ctx, ConnectionKind.SERVICENOW, servicenow),
            cost_center_source=CostCenterSource.LOCATION if by_location else CostCenterSource.REPORTING_TAG,
            cost_center_tag_name=cost_center_tag,
            allow_supplier_create=allow_supplier_create,
            legal_entity=legal_entity,
        )
    except WorkspaceError as exc:
        die(str(exc), EXIT_USAGE)
    if json_output:
        emit_json(asdict(view))
    else:
        typer.echo(f"Profile {view.id} '{view.name}': {view.organization_name} -> {view.instance_url}")


@profile_app.command("list")
def list_profiles(ctx: typer.Context, json_output: JsonOption = False) -> None:
    """Every profile with its organization and instance."""
    views = open_workspace(ctx).list_profiles()
    if json_output:
        emit_json([asdict(view) for view in views])
        return
    for view in views:
        typer.echo(
            f"{view.id}: {view.name}  {view.organization_name} [{view.organization_id}]"
            f" -> {view.instance_url}"
        )
