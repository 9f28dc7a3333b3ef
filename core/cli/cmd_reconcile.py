"""`zbsn reconcile`: counts and totals in Zoho vs staged in ServiceNow for a period (what ServiceNow holds per
status), and what differs."""

from __future__ import annotations

from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from zbsn.core.cli.app import app, emit_json
from zbsn.core.cli.cmd_shared import (
    EXIT_FAILURES,
    EXIT_OK,
    JsonOption,
    ProfileOption,
    cli_errors,
    money_text,
    open_cli_services,
    parse_day,
    run_async,
)
from zbsn.core.domain import ServiceNowStatus
from zbsn.core.engine.reconcile import Difference, ReconciliationReport


def _difference(d: Difference) -> dict[str, Any]:
    return {
        "kind": d.kind,
        "external_key": d.external_key,
        "bill_number": d.bill_number,
        "zoho_amount": None if d.zoho_amount is None else str(d.zoho_amount),
        "servicenow_amount": None if d.servicenow_amount is None else str(d.servicenow_amount),
        "detail": d.detail,
        "explained": d.explained,
    }


def reconciliation_json(report: ReconciliationReport) -> dict[str, Any]:
    def side(count: int, totals: dict[str, Any]) -> dict[str, Any]:
        return {"count": count, "totals": {c: str(v) for c, v in totals.items()}}

    return {
        "from": report.date_start.isoformat() if report.date_start else None,
        "to": report.date_end.isoformat() if report.date_end else None,
        "balanced": report.balanced,
        "zoho": side(report.zoho.count, report.zoho.totals),
        "servicenow": side(report.servicenow.count, report.servicenow.totals),
        "explained": side(report.explained.count, report.explained.totals),
        "zoho_void": report.zoho_void,
        "zoho_waiting": report.zoho_waiting,
        "servicenow_canceled": report.servicenow_canceled,
        "servicenow_by_status": {
            status: side(held.count, held.totals) for status, held in report.servicenow_by_status.items()
        },
        "differences": [_difference(d) for d in report.differences],
        "state_differences": [_difference(d) for d in report.state_differences],
        "vendor_credits": {
            "balanced": report.credits.balanced,
            "zoho": side(report.credits.zoho.count, report.credits.zoho.totals),
            "servicenow": side(report.credits.servicenow.count, report.credits.servicenow.totals),
            "explained": side(report.credits.explained.count, report.credits.explained.totals),
            "settlements": side(report.credits.settlements.count, report.credits.settlements.totals),
            "differences": [
                {
                    "kind": d.kind,
                    "external_key": d.external_key,
                    "number": d.number,
                    "zoho_amount": None if d.zoho_amount is None else str(d.zoho_amount),
                    "servicenow_amount": None if d.servicenow_amount is None else str(d.servicenow_amount),
                    "detail": d.detail,
                    "explained": d.explained,
                }
                for d in report.credits.differences
            ],
        },
    }


@app.command("reconcile")
def reconcile(
    ctx: typer.Context,
    period_from: Annotated[str | None, typer.Option("--from", help="Bills dated from (yyyy-mm-dd).")] = None,
    period_to: Annotated[str | None, typer.Option("--to", help="Bills dated to (yyyy-mm-dd).")] = None,
    profile: ProfileOption = None,
    json_output: JsonOption = False,
) -> None:
    """Compare Zoho with ServiceNow for a period; exit 1 when something differs that no failure explains."""
    start, end = parse_day(period_from, "--from"), parse_day(period_to, "--to")
    services = open_cli_services(ctx)
    workspace = services.workspace
    with cli_errors():
        chosen = workspace.resolve_profile(profile)
        report = run_async(services.engine.reconcile(chosen.id, start, end))
        workspace.persist_token_states()
    code = EXIT_OK if report.balanced else EXIT_FAILURES
    if json_output:
        emit_json(reconciliation_json(report))
        raise typer.Exit(code)
    console = Console(highlight=False)
    console.print(
        f"Zoho: {report.zoho.count} bills, {money_text(report.zoho.totals)}\n"
        f"ServiceNow: {report.servicenow.count} invoices, {money_text(report.servicenow.totals)}\n"
        f"Explained by failures in the audit log: {report.explained.count}, "
        f"{money_text(report.explained.totals)}\n"
        f"{'Balanced.' if report.balanced else 'NOT balanced.'}",
        markup=False,
    )
    if report.servicenow_by_status:
        held = Table(title="What ServiceNow holds, by status", title_justify="left")
        for column in ("status", "invoices", "total"):
            held.add_column(column)
        for status, side in sorted(report.servicenow_by_status.items(), key=lambda item: -item[1].count):
            held.add_row(ServiceNowStatus(status).label, str(side.count), money_text(side.totals))
        console.print(held)
    for title, found in (
        ("Differences", report.differences),
        ("State differences", report.state_differences),
    ):
        if not found:
            continue
        table = Table(title=title, title_justify="left")
        for column in ("kind", "bill", "Zoho", "ServiceNow", "explained", "detail"):
            table.add_column(column, overflow="fold")
        for d in found:
            table.add_row(
                d.kind, d.bill_number or d.external_key, str(d.zoho_amount or ""),
                str(d.servicenow_amount or ""), "yes" if d.explained else "no", d.detail,
            )  # fmt: skip
        console.print(table)
    raise typer.Exit(code)
