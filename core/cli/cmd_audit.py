"""`zbsn audit`: the audit log, filtered and paged in the database (keyset cursors), as a table or JSON.

Each bill that reached ServiceNow carries its ServiceNow status from the last refresh (`--servicenow-status`
filters by it; `--refresh` follows the profile's invoices first, as `zbsn refresh` does); `--json` rows carry
the status, its sentence and the open exceptions.
"""

from __future__ import annotations

from dataclasses import asdict
from datetime import datetime
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from zbsn.core import audit_query
from zbsn.core.audit_documents import documents_of
from zbsn.core.audit_servicenow import servicenow_summaries
from zbsn.core.cli.app import app, emit_json, note
from zbsn.core.cli.cmd_refresh import refresh_profile
from zbsn.core.cli.cmd_shared import EXIT_USAGE, JsonOption, ProfileOption, cli_errors, die, open_workspace
from zbsn.core.domain import AuditStatus, RecordKind, ServiceNowStatus


def encode_cursor(cursor: audit_query.Cursor | None) -> str | None:
    """A page cursor as one token for `--after`."""
    return None if cursor is None else f"{cursor.updated_at.isoformat()}~{cursor.id}"


def decode_cursor(token: str) -> audit_query.Cursor:
    """Read an `--after` token; exits with a usage error when it is not one."""
    try:
        stamp, _, ident = token.rpartition("~")
        return audit_query.Cursor(datetime.fromisoformat(stamp), int(ident))
    except ValueError:
        die(f"'{token}' is not a page cursor from a previous `zbsn audit` answer", EXIT_USAGE)


def row_json(
    row: audit_query.AuditRow,
    servicenow: dict[str, Any] | None = None,
    documents: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    data = asdict(row)
    data["documents"] = documents or []  # the vendor's invoice file(s): name, size, attached or why not
    data["amount"] = None if row.amount is None else str(row.amount)
    data["updated_at"] = row.updated_at.isoformat()
    data["servicenow"] = servicenow
    return data


def _sn_label(status: str | None) -> str:
    if status is None:
        return ""
    try:
        return ServiceNowStatus(status).label
    except ValueError:
        return status


@app.command("audit")
def audit(
    ctx: typer.Context,
    status: Annotated[str | None, typer.Option("--status", help="failed, staged, flagged, …")] = None,
    kind: Annotated[str | None, typer.Option("--kind", help="bill, payment, …")] = None,
    sn_status: Annotated[
        str | None,
        typer.Option(
            "--servicenow-status", help="exceptions_found, approved, posted, paid, … (last refresh)"
        ),
    ] = None,
    run_id: Annotated[int | None, typer.Option("--run", help="Records of this run.")] = None,
    period_from: Annotated[str | None, typer.Option("--from", help="Dated from (yyyy-mm-dd).")] = None,
    period_to: Annotated[str | None, typer.Option("--to", help="Document date to (yyyy-mm-dd).")] = None,
    text: Annotated[str | None, typer.Option("--text", help="Number, id, vendor or key prefix.")] = None,
    limit: Annotated[int, typer.Option("--limit", min=1, max=1000, help="Rows per page.")] = 50,
    after: Annotated[str | None, typer.Option("--after", help="Cursor of the previous page's end.")] = None,
    refresh: Annotated[
        bool, typer.Option("--refresh", help="Follow the profile's invoices in ServiceNow first.")
    ] = False,
    profile: ProfileOption = None,
    json_output: JsonOption = False,
) -> None:
    """Browse the audit log; `--after` with the printed cursor gives the next page."""
    if status is not None and status not in set(AuditStatus):
        die(f"unknown status '{status}' ({', '.join(AuditStatus)})", EXIT_USAGE)
    if kind is not None and kind not in set(RecordKind):
        die(f"unknown kind '{kind}' ({', '.join(RecordKind)})", EXIT_USAGE)
    if sn_status is not None and sn_status not in set(ServiceNowStatus):
        die(f"unknown ServiceNow status '{sn_status}' ({', '.join(ServiceNowStatus)})", EXIT_USAGE)
    if refresh:
        refresh_profile(ctx, profile, quiet=json_output)
    workspace = open_workspace(ctx)
    with cli_errors():
        profile_id = workspace.resolve_profile(profile).id if profile else None
        flt = audit_query.AuditFilter(
            status=status,
            kind=kind,
            run_id=run_id,
            period_from=period_from,
            period_to=period_to,
            text=text,
            profile_id=profile_id,
            sn_status=sn_status,
        )
        cursor = decode_cursor(after) if after else None
        page = audit_query.page(workspace.db_engine, flt, limit=limit, after=cursor)
        total = audit_query.count(workspace.db_engine, flt)
        followed = servicenow_summaries(workspace.db_engine, [r.id for r in page.rows if r.sn_status])
        documents = documents_of(workspace.db_engine, [r.id for r in page.rows])
    next_token = encode_cursor(page.next_cursor)
    if json_output:
        emit_json(
            {
                "filter": flt.describe(),
                "count": str(total),
                "rows": [
                    row_json(row, followed.get(row.id), [d.as_json() for d in documents.get(row.id, [])])
                    for row in page.rows
                ],
                "next_cursor": next_token,
            }
        )
        return
    table = Table(title=f"{total!s} {flt.describe()}", title_justify="left")
    for column in ("id", "kind", "status", "ServiceNow", "number", "vendor", "amount", "date", "error"):
        table.add_column(column, overflow="fold")
    for row in page.rows:
        amount = "" if row.amount is None else f"{row.amount:,.2f} {row.currency or ''}"
        error = f"{row.error_code}: {row.error_message}" if row.error_code else ""
        if not error and row.id in followed and row.sn_status == ServiceNowStatus.EXCEPTIONS_FOUND:
            error = str(followed[row.id]["summary"] or "")
        table.add_row(
            str(row.id), row.kind, row.status, _sn_label(row.sn_status), row.zoho_number or row.zoho_id,
            row.vendor_name or "", amount, row.doc_date or "", error,
        )  # fmt: skip
    Console(highlight=False).print(table)
    if next_token:
        note(f"more: zbsn audit ... --after {next_token}")
