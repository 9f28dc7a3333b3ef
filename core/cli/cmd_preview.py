"""`zbsn preview`: a dry run for a period or for what changed: every bill as the invoice it would become."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from zbsn.core.cli.app import app, emit_json, note
from zbsn.core.cli.cmd_shared import (
    EXIT_USAGE,
    JsonOption,
    ProfileOption,
    cli_errors,
    die,
    money_text,
    open_cli_services,
    parse_day,
    run_async,
)
from zbsn.core.engine.preview import PreviewItem, PreviewReport


def invoice_json(item: PreviewItem) -> dict[str, Any] | None:
    """The invoice a read bill would become, as the Preview screen's pane shows it (None: not read)."""
    doc, facts = item.document, item.facts
    if doc is None:
        return None
    taxes = facts.line_taxes if facts is not None else {}
    return {
        "supplier_code": doc.supplier_code,
        "date": doc.date,
        "due_date": facts.due_date if facts else None,
        "reference": facts.reference_number if facts else None,
        "payment_terms_label": facts.payment_terms_label if facts else None,  # Zoho's
        "payment_terms": doc.payment_terms,  # the ServiceNow term the header names
        "remit_to": {k: v for k, v in facts.remit_to.items() if v} if facts else {},
        "business_owner": doc.business_owner,
        "subtotal": str(doc.subtotal),
        "tax": str(doc.tax),
        "other_charges": str(doc.adjustment),
        "other_charges_label": doc.adjustment_description,
        "discount": str(doc.discount),
        "total": str(doc.total),
        "lines": [
            {
                "description": line.description,
                "amount": str(line.amount),
                "tax": str(line.tax),
                "cost_center": line.cost_center_number,
                "gl_account": line.gl_number,
                "taxes": [
                    {"name": t.name, "rate": None if t.rate is None else str(t.rate), "amount": str(t.amount)}
                    for t in taxes.get(line.line_id, ())
                ],
            }
            for line in doc.lines
        ],
    }


def preview_json(report: PreviewReport) -> dict[str, Any]:
    """Counts, totals, what blocks how many bills, and one entry per bill."""
    return {
        "mode": report.mode,
        "counts": report.counts,
        "unchanged": report.unchanged,
        "zoho_requests": report.zoho_requests,
        "totals": {k: {c: str(v) for c, v in t.items()} for k, t in report.totals.items()},
        "blocked_by": [
            {"error_code": code, "missing": subject, "bills": bills}
            for (code, subject), bills in report.blocked_by.items()
        ],
        "bills": [
            {
                "bill_id": item.bill_id,
                "bill_number": item.bill_number,
                "outcome": item.outcome,
                "vendor": item.document.vendor_name if item.document else None,
                "total": str(item.document.total) if item.document else None,
                "currency": item.document.currency if item.document else None,
                "problems": [p.message for p in item.problems],
                "invoice": invoice_json(item),
                "fx_rate": item.document.fx_rate if item.document else None,
                "notes": list(item.document.notes) if item.document else [],
                "attachments": [
                    {
                        "document_id": a.document_id,
                        "file_name": a.file_name,
                        "size_bytes": a.size_bytes,
                        "outcome": a.outcome,
                        "note": a.note,
                    }
                    for a in item.attachments
                ],
            }
            for item in report.items
        ],
        "vendor_credits": [
            {
                "vendor_credit_id": c.vendor_credit_id,
                "number": c.number,
                "vendor": c.vendor_name,
                "total": str(c.total),
                "currency": c.currency,
                "outcome": c.outcome,
                "settlements": [{"bill_id": bill, "amount": str(amount)} for bill, amount in c.settlements],
                "problems": [p.message for p in c.problems],
                "note": c.note,
            }
            for c in report.credits
        ],
    }


def print_preview(report: PreviewReport) -> None:
    console = Console(highlight=False)
    counts = report.counts
    console.print(
        f"{len(report.items)} bills: {counts['ready']} ready, {counts['blocked']} blocked, "
        f"{counts['cancel']} to cancel, {counts['unreadable']} unreadable, "
        f"{counts['waiting']} waiting for approval in Zoho; {report.unchanged} unchanged.",
        markup=False,
    )
    for outcome, totals in report.totals.items():
        console.print(f"  {outcome}: {money_text(totals)}", markup=False)
    if report.blocked_by:
        missing = Table(title="What is missing", title_justify="left")
        for column in ("error", "missing", "bills"):
            missing.add_column(column)
        for (code, subject), bills in report.blocked_by.items():
            missing.add_row(code, subject, str(bills))
        console.print(missing)
    table = Table(title="Bills", title_justify="left")
    for column in ("bill", "outcome", "vendor", "date", "total", "missing", "notes"):
        table.add_column(column, overflow="fold")
    for item in report.items:
        doc = item.document
        table.add_row(
            item.bill_number or item.bill_id,
            item.outcome,
            (doc.vendor_name or "") if doc else "",
            (doc.date or "") if doc else "",
            f"{doc.total:,.2f} {doc.currency}" if doc else "",
            "; ".join(p.message for p in item.problems),
            "; ".join(doc.notes) if doc else "",
        )
    console.print(table)
    if report.credits:
        memos = Table(title="Vendor credits (credit memos)", title_justify="left")
        for column in ("credit", "outcome", "vendor", "total", "settles", "note"):
            memos.add_column(column, overflow="fold")
        for credit in report.credits:
            memos.add_row(
                credit.number,
                credit.outcome,
                credit.vendor_name or "",
                f"{credit.total:,.2f} {credit.currency}",
                ", ".join(f"{bill} {amount:,.2f}" for bill, amount in credit.settlements),
                credit.note,
            )
        console.print(memos)
    documents = [(item, a) for item in report.items for a in item.attachments]
    if documents:
        files = Table(title="Vendor invoice documents", title_justify="left")
        for column in ("bill", "document"):
            files.add_column(column, overflow="fold")
        for item, attachment in documents:
            files.add_row(item.bill_number or item.bill_id, attachment.label)
        console.print(files)


@app.command("preview")
def preview(
    ctx: typer.Context,
    period_from: Annotated[str | None, typer.Option("--from", help="Bills dated from (yyyy-mm-dd).")] = None,
    period_to: Annotated[str | None, typer.Option("--to", help="Bills dated to (yyyy-mm-dd).")] = None,
    changed: Annotated[bool, typer.Option("--changed", help="What changed since the last run.")] = False,
    csv_path: Annotated[Path | None, typer.Option("--csv", help="Write the preview as CSV here.")] = None,
    profile: ProfileOption = None,
    json_output: JsonOption = False,
) -> None:
    """Show what a run would stage, per bill and line, and what is missing; nothing is written."""
    start, end = parse_day(period_from, "--from"), parse_day(period_to, "--to")
    if changed and (start or end):
        die("give a period (--from/--to) or --changed, not both", EXIT_USAGE)
    if not changed and not (start or end):
        die("give a period (--from and/or --to) or --changed", EXIT_USAGE)
    services = open_cli_services(ctx)
    workspace = services.workspace
    with cli_errors():
        chosen = workspace.resolve_profile(profile)
        report = run_async(services.engine.preview(chosen.id, date_start=start, date_end=end))
        workspace.persist_token_states()
    if csv_path is not None:
        report.to_csv(csv_path)
        note(f"wrote {csv_path}")
    if json_output:
        emit_json(preview_json(report))
    elif csv_path is None:
        print_preview(report)
