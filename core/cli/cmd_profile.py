"""`zbsn profile …`: pair a Zoho Books organization with a ServiceNow instance; edit and list pairs."""

from __future__ import annotations

from dataclasses import asdict
from typing import Annotated

import typer

from zbsn.core.cli.app import app, emit_json
from zbsn.core.cli.cmd_shared import EXIT_USAGE, JsonOption, die, open_workspace
from zbsn.core.domain import ConnectionKind, CostCenterSource
from zbsn.core.workspace import ProfileView, WorkspaceError

POST_HELP = (
    "Zoho Books is the ERP: mark the outbound invoices of the bills zbsn staged Processed (ERP number = the "
    "bill id) so they reach Pending payment. Off when ServiceNow posts to another ERP."
)
STATUSES_HELP = (
    "Zoho bill statuses to stage, comma-separated (default open,overdue,partially_paid,paid); a bill in "
    "another status waits for approval in Zoho. '' restores the default."
)
TERM_HELP = "Zoho payment terms label=ServiceNow payment term, e.g. 'Net 30=Net 030' (repeatable)."
OWNER_HELP = (
    "ServiceNow user (user name or email) named as the invoices' business owner; without one the invoices "
    "meet 'Missing or invalid business owner' where ServiceNow checks it ('' clears)."
)
CC_OWNER_HELP = (
    "Cost center (Zoho name or ServiceNow account number)=user owning its bills instead, e.g. "
    "'CC-LON-200=priya.shah@example.com' (repeatable)."
)
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
    post_outbound: Annotated[bool, typer.Option("--post-outbound/--no-post-outbound", help=POST_HELP)] = True,
    business_owner: Annotated[str | None, typer.Option("--business-owner", help=OWNER_HELP)] = None,
    cost_center_owners: Annotated[
        list[str] | None, typer.Option("--cost-center-owner", help=CC_OWNER_HELP)
    ] = None,
    json_output: JsonOption = False,
) -> None:
    """Create a profile; the Zoho connection must have its organization chosen."""
    workspace = open_workspace(ctx)
    owners = _pairs(cost_center_owners or [], False, "--cost-center-owner", "cost center=user") or {}
    try:
        view = workspace.create_profile(
            name,
            _only(ctx, ConnectionKind.ZOHO, zoho),
            _only(ctx, ConnectionKind.SERVICENOW, servicenow),
            cost_center_source=CostCenterSource.LOCATION if by_location else CostCenterSource.REPORTING_TAG,
            cost_center_tag_name=cost_center_tag,
            allow_supplier_create=allow_supplier_create,
            legal_entity=legal_entity,
            post_outbound_as_erp=post_outbound,
            business_owner=business_owner,
            cost_center_owners=owners,
        )
    except WorkspaceError as exc:
        die(str(exc), EXIT_USAGE)
    _show(view, json_output)


def _show(view: ProfileView, json_output: bool) -> None:
    if json_output:
        emit_json(asdict(view))
        return
    posting = "posts outbound invoices as the ERP" if view.post_outbound_as_erp else "another ERP posts"
    typer.echo(
        f"Profile {view.id} '{view.name}': {view.organization_name} -> {view.instance_url} ({posting})"
    )


@profile_app.command("edit")
def edit(
    ctx: typer.Context,
    profile: Annotated[str, typer.Argument(help="The profile's name or id.")],
    name: Annotated[str | None, typer.Option("--name", help="A new name.")] = None,
    legal_entity: Annotated[
        str | None, typer.Option("--legal-entity", help="ERP company code of the legal entity ('' clears).")
    ] = None,
    allow_supplier_create: Annotated[
        bool | None,
        typer.Option(
            "--allow-supplier-create/--no-supplier-create", help="Stage unknown vendors as new suppliers."
        ),
    ] = None,
    post_outbound: Annotated[
        bool | None, typer.Option("--post-outbound/--no-post-outbound", help=POST_HELP)
    ] = None,
    enabled: Annotated[bool | None, typer.Option("--enable/--disable", help="Run it on schedules.")] = None,
    stage_statuses: Annotated[str | None, typer.Option("--stage-statuses", help=STATUSES_HELP)] = None,
    payment_terms: Annotated[list[str] | None, typer.Option("--payment-term", help=TERM_HELP)] = None,
    clear_payment_terms: Annotated[
        bool, typer.Option("--clear-payment-terms", help="Drop every payment-term override.")
    ] = False,
    business_owner: Annotated[str | None, typer.Option("--business-owner", help=OWNER_HELP)] = None,
    cost_center_owners: Annotated[
        list[str] | None, typer.Option("--cost-center-owner", help=CC_OWNER_HELP)
    ] = None,
    clear_cost_center_owners: Annotated[
        bool, typer.Option("--clear-cost-center-owners", help="Drop every cost-center owner.")
    ] = False,
    json_output: JsonOption = False,
) -> None:
    """Change a profile's settings (only the options given)."""
    workspace = open_workspace(ctx)
    overrides = _pairs(
        payment_terms or [], clear_payment_terms, "--payment-term", "Zoho label=ServiceNow term"
    )
    owners = _pairs(
        cost_center_owners or [], clear_cost_center_owners, "--cost-center-owner", "cost center=user"
    )
    try:
        chosen = workspace.resolve_profile(profile)
        if overrides is not None and not clear_payment_terms:
            overrides = {**dict(chosen.payment_terms_overrides), **overrides}
        if owners is not None and not clear_cost_center_owners:
            owners = {**dict(chosen.cost_center_owners), **owners}
        view = workspace.update_profile(
            chosen.id,
            name=name,
            legal_entity=legal_entity,
            allow_supplier_create=allow_supplier_create,
            post_outbound_as_erp=post_outbound,
            enabled=enabled,
            stage_bill_statuses=stage_statuses.split(",") if stage_statuses is not None else None,
            payment_terms_overrides=overrides,
            business_owner=business_owner,
            cost_center_owners=owners,
        )
    except WorkspaceError as exc:
        die(str(exc), EXIT_USAGE)
    _show(view, json_output)


def _pairs(given: list[str], clear: bool, option: str, shape: str) -> dict[str, str] | None:
    """`key=value` options as a mapping (None: none given and nothing cleared)."""
    if not given and not clear:
        return None
    overrides: dict[str, str] = {}
    for item in given:
        key, sep, value = item.partition("=")
        if not sep or not key.strip() or not value.strip():
            die(f"{option} {item!r}: write it as '{shape}'", EXIT_USAGE)
        overrides[key.strip()] = value.strip()
    return overrides


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
