"""The reconciliation report (`ReconciliationReport`) as the operator reads it: both sides, what ServiceNow
holds per status, then the gaps (of presence and amount, then of state)."""

from __future__ import annotations

from decimal import Decimal

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

from zbsn.core.engine.reconcile import Difference, ReconciliationReport, Side
from zbsn.tui.widgets.formatting import money, servicenow_words

KIND_WORDS = {
    "missing_in_servicenow": "not in ServiceNow",
    "missing_in_zoho": "not in Zoho",
    "amount_mismatch": "amounts differ",
    "status_mismatch": "status differs",
    "payment_mismatch": "paid only in Zoho",
}


def _totals(side: Side) -> str:
    return ", ".join(f"{money(amount)} {currency}" for currency, amount in sorted(side.totals.items())) or "—"


def _amount(value: Decimal | None) -> str:
    return "—" if value is None else money(value)


def _difference_row(difference: Difference) -> list[RenderableType]:
    why = Text("explained", style="green") if difference.explained else Text("unexplained", style="bold red")
    return [
        KIND_WORDS.get(difference.kind, difference.kind.replace("_", " ")),
        difference.bill_number or difference.external_key,
        Text(_amount(difference.zoho_amount), justify="right"),
        Text(_amount(difference.servicenow_amount), justify="right"),
        why,
        difference.detail,
    ]


def render_reconciliation(report: ReconciliationReport) -> RenderableType:
    """Counts and totals per system, the verdict, then every difference (unexplained first)."""
    period = f"{report.date_start or '…'} to {report.date_end or '…'}"
    verdict = (
        Text("Balanced: Zoho = ServiceNow + the failures the audit log explains.", style="bold green")
        if report.balanced
        else Text(f"Not balanced: {len(report.unexplained)} unexplained differences.", style="bold red")
    )
    sides = Table(header_style="bold", show_edge=False, pad_edge=False)
    for column in ("", "Bills", "Totals"):
        sides.add_column(column)
    sides.add_row("Zoho Books", f"{report.zoho.count:,}", _totals(report.zoho))
    sides.add_row("ServiceNow", f"{report.servicenow.count:,}", _totals(report.servicenow))
    sides.add_row("Failed, with a reason", f"{report.explained.count:,}", _totals(report.explained))
    waiting = f" · waiting for approval in Zoho: {report.zoho_waiting:,}" if report.zoho_waiting else ""
    extra = Text(
        f"Voided in Zoho: {report.zoho_void:,} · cancelled in ServiceNow: {report.servicenow_canceled:,}"
        + waiting
    )
    parts: list[RenderableType] = [Text(f"Period {period}", style="bold"), verdict, Text(""), sides, extra]
    if report.servicenow_by_status:
        held = Table(header_style="bold", show_edge=False, pad_edge=False)
        for column in ("ServiceNow holds", "Invoices", "Totals"):
            held.add_column(column)
        for status, side in sorted(report.servicenow_by_status.items(), key=lambda item: -item[1].count):
            words, style = servicenow_words(status)
            held.add_row(Text(words, style=style), f"{side.count:,}", _totals(side))
        parts += [Text(""), held]
    for title, found in (
        ("Differences", report.differences),
        ("State differences", report.state_differences),
    ):
        if not found:
            continue
        table = Table(header_style="bold", show_edge=False, pad_edge=False)
        for column in ("What", "Bill", "Zoho", "ServiceNow", "", "Detail"):
            table.add_column(column)
        for difference in sorted(found, key=lambda d: (d.explained, d.bill_number or "")):
            table.add_row(*_difference_row(difference))
        parts += [Text(f"\n{title} ({len(found)})", style="bold underline"), table]
    return Group(*parts)
