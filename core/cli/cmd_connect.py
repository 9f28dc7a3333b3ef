"""`zbsn connect zoho|servicenow`: authorise both systems; secrets are prompted, encrypted, never shown."""

from __future__ import annotations

from dataclasses import asdict
from typing import Annotated

import typer

from zbsn.core.cli.app import app, emit_json, note
from zbsn.core.cli.cmd_shared import (
    EXIT_REAUTHORISE,
    EXIT_UNREACHABLE,
    EXIT_USAGE,
    cli_errors,
    die,
    open_workspace,
    run_async,
)
from zbsn.core.workspace import (
    DEFAULT_ACCOUNTS_SERVER,
    REDIRECT_PATH,
    REDIRECT_PORT,
    OrganizationChoice,
    Workspace,
    ZohoConnectResult,
)

connect_app = typer.Typer(help="Authorise Zoho Books or ServiceNow.", no_args_is_help=True)
app.add_typer(connect_app, name="connect")

SECRET_ENV = "ZBSN_CLIENT_SECRET"  # noqa: S105 - the name of a variable, not a secret
JsonOption = Annotated[bool, typer.Option("--json", help="Print the result as JSON (no secrets).")]


def _choose(workspace: Workspace, result: ZohoConnectResult, json_output: bool) -> OrganizationChoice | None:
    if result.chosen is not None or not result.organizations:
        return result.chosen
    if json_output:
        return None
    note("This user belongs to several Zoho Books organizations:")
    for index, org in enumerate(result.organizations, start=1):
        default = " (default)" if org.is_default else ""
        note(f"  {index}. {org.name} [{org.organization_id}] {org.currency_code} {org.time_zone}{default}")
    picked = typer.prompt("Organization number", type=int)
    if not 1 <= picked <= len(result.organizations):
        die(f"choose a number between 1 and {len(result.organizations)}", EXIT_USAGE)
    org = result.organizations[picked - 1]
    return workspace.choose_zoho_organization(result.connection_id, org.organization_id, result.organizations)


@connect_app.command("zoho")
def connect_zoho(
    ctx: typer.Context,
    client_id: Annotated[str, typer.Option("--client-id", help="OAuth client id from the Zoho API console.")],
    client_secret: Annotated[
        str,
        typer.Option(
            "--client-secret",
            prompt=True,
            hide_input=True,
            envvar=SECRET_ENV,
            help=f"OAuth client secret (prompted; or {SECRET_ENV}).",
        ),
    ],
    self_client_code: Annotated[
        str | None, typer.Option("--self-client-code", help="Exchange a Self Client grant code instead.")
    ] = None,
    accounts_server: Annotated[
        str, typer.Option("--accounts-server", help="Accounts server to start consent at (or of the code).")
    ] = DEFAULT_ACCOUNTS_SERVER,
    organization_id: Annotated[str | None, typer.Option("--org", help="Organization id to sync.")] = None,
    no_browser: Annotated[
        bool, typer.Option("--no-browser", help="Print the consent URL instead of opening a browser.")
    ] = False,
    port: Annotated[
        int, typer.Option("--port", help="Loopback port of the registered redirect URI (0: any free port).")
    ] = REDIRECT_PORT,
    name: Annotated[str | None, typer.Option("--name", help="Name of a new connection.")] = None,
    reauthorise: Annotated[
        int | None, typer.Option("--reauthorise", help="Re-authorise this existing connection id.")
    ] = None,
    json_output: JsonOption = False,
) -> None:
    """Authorise Zoho Books: consent in the browser (redirect caught on loopback) or a Self Client code."""
    workspace = open_workspace(ctx)
    with cli_errors():
        if self_client_code:
            result = run_async(
                workspace.connect_zoho_self_client(
                    self_client_code,
                    client_id,
                    client_secret,
                    accounts_server,
                    name=name,
                    connection_id=reauthorise,
                    organization_id=organization_id,
                )
            )
        else:
            if port:
                note(f"Redirect URI (register it for this client): http://127.0.0.1:{port}{REDIRECT_PATH}")
            result = run_async(
                workspace.connect_zoho_auth_code(
                    client_id,
                    client_secret,
                    name=name,
                    connection_id=reauthorise,
                    accounts_server=accounts_server,
                    open_browser=not no_browser,
                    port=port,
                    organization_id=organization_id,
                    on_consent_url=lambda url: note(f"Open this URL to authorise zbsn:\n{url}"),
                )
            )
        chosen = _choose(workspace, result, json_output)
    if json_output:
        payload = asdict(result)
        payload["chosen"] = asdict(chosen) if chosen else None
        emit_json(payload)
    else:
        typer.echo(f"Zoho connection {result.connection_id}: DC {result.dc}, accounts server "
                   f"{result.accounts_server}, API domain {result.api_domain}")  # fmt: skip
        if chosen:
            typer.echo(f"Organization: {chosen.name} [{chosen.organization_id}] {chosen.currency_code} "
                       f"{chosen.time_zone}")  # fmt: skip
    if chosen is None and result.organizations:
        note("No organization chosen yet: run again with --org ORGANIZATION_ID.")
        raise typer.Exit(EXIT_USAGE)


@connect_app.command("servicenow")
def connect_servicenow(
    ctx: typer.Context,
    instance_url: Annotated[str, typer.Option("--instance", help="https://<instance>.service-now.com")],
    client_id: Annotated[str, typer.Option("--client-id", help="OAuth client id (Application Registry).")],
    client_secret: Annotated[
        str,
        typer.Option(
            "--client-secret",
            prompt=True,
            hide_input=True,
            envvar=SECRET_ENV,
            help=f"OAuth client secret (prompted; or {SECRET_ENV}).",
        ),
    ],
    name: Annotated[str | None, typer.Option("--name", help="Name of a new connection.")] = None,
    json_output: JsonOption = False,
) -> None:
    """Store a ServiceNow instance with its client-credentials OAuth client, and test it."""
    workspace = open_workspace(ctx)
    with cli_errors():
        connection_id, result = run_async(
            workspace.connect_servicenow(instance_url, client_id, client_secret, name=name)
        )
    if json_output:
        emit_json({"connection_id": connection_id, **asdict(result)})
    else:
        typer.echo(f"ServiceNow connection {connection_id}: {result.message}")
    if not result.ok:
        reauthorise = workspace.token_status(connection_id).state == "reauthorise"
        raise typer.Exit(EXIT_REAUTHORISE if reauthorise else EXIT_UNREACHABLE)
