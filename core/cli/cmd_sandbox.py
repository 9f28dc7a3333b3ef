"""`zbsn sandbox`: both simulators in a process of their own, to point the console and the CLI at.

    zbsn sandbox [--bills N] [--seed S] [--window-seconds W] [--zoho-dc us|eu|in|au|jp|ca|cn|sa|uk]
    zbsn sandbox self-client-code --zoho-admin URL
    zbsn sandbox create-cost-center --servicenow-admin URL NUMBER [--name NAME]

The first prints ONE JSON line (accounts server, client id and secret, a fresh self-client code, organization
id, instance URL and OAuth client, admin URLs, the cost centers ServiceNow lacks) and serves until SIGTERM or
Ctrl-C. The other two are the simulators' conveniences, over their admin endpoints. This is the only module of
`zbsn.core` that reaches into `zbsn.sandbox`, lazily, as the command's entry point (see the import contracts).
"""

from __future__ import annotations

import sys
from typing import Annotated

import httpx
import typer

from zbsn.core.cli.app import EXIT_PROBLEM, app, emit_json, fail, note

DC_HELP = "Zoho data centre of the organization: us, eu, in, au, jp, ca, cn, sa or uk."

sandbox_app = typer.Typer(
    name="sandbox",
    help="Run the Zoho Books and ServiceNow simulators (prints one JSON line, serves until Ctrl-C).",
    invoke_without_command=True,
    no_args_is_help=False,
)
app.add_typer(sandbox_app)


@sandbox_app.callback()
def sandbox(
    ctx: typer.Context,
    bills: Annotated[int, typer.Option("--bills", min=1, help="Bills in the seeded company.")] = 200,
    seed: Annotated[int, typer.Option("--seed", help="Seed of the company generator.")] = 7,
    window_seconds: Annotated[
        float,
        typer.Option(
            "--window-seconds",
            min=0.1,
            help="Zoho's 100-requests window in seconds (60 as in Zoho; shorter for quick trials).",
        ),
    ] = 60.0,
    zoho_dc: Annotated[str, typer.Option("--zoho-dc", help=DC_HELP)] = "eu",
) -> None:
    """Start both simulators, print how to connect to them as one JSON line, and serve until stopped."""
    if ctx.invoked_subcommand is not None:
        return
    from zbsn.sandbox.process import SandboxPair, serve_forever

    try:
        pair = SandboxPair.start(bills=bills, seed=seed, window_seconds=window_seconds, zoho_dc=zoho_dc)
    except ValueError as exc:
        fail(str(exc), code=2)
    with pair:
        note(
            f"zbsn sandbox: Zoho Books ({zoho_dc}) at {pair.zoho.accounts_url}, ServiceNow at "
            f"{pair.servicenow.url}; SIGTERM or Ctrl-C stops."
        )
        serve_forever(pair, sys.stdout)
    note("zbsn sandbox: stopped.")


@sandbox_app.command("self-client-code")
def self_client_code(
    zoho_admin: Annotated[
        str, typer.Option("--zoho-admin", help="`zoho_admin_url` from the sandbox's JSON line.")
    ],
) -> None:
    """Mint a fresh Zoho Self Client code (one exchange, 10 minutes) and print it."""
    from zbsn.sandbox.process import request_self_client_code

    try:
        typer.echo(request_self_client_code(zoho_admin))
    except httpx.HTTPError as exc:
        fail(f"the Zoho sandbox at {zoho_admin} did not answer: {exc}", EXIT_PROBLEM)


@sandbox_app.command("create-cost-center")
def create_cost_center(
    account_number: Annotated[
        str, typer.Argument(metavar="NUMBER", help="The cost center's account number.")
    ],
    servicenow_admin: Annotated[
        str, typer.Option("--servicenow-admin", help="`servicenow_admin_url` from the sandbox's JSON line.")
    ],
    name: Annotated[str | None, typer.Option("--name", help="Its name (default: the number).")] = None,
) -> None:
    """Create a cost center in the ServiceNow sandbox (what the AP team does before a replay); prints the
    new record as JSON."""
    from zbsn.sandbox.process import request_cost_center

    try:
        emit_json(request_cost_center(servicenow_admin, account_number, name or account_number))
    except httpx.HTTPError as exc:
        fail(f"the ServiceNow sandbox at {servicenow_admin} did not answer: {exc}", EXIT_PROBLEM)
