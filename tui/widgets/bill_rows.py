"""The Preview screen's bill list: one row per bill (and per vendor credit), grouped under a header row per
group (blocked, ready, waiting for approval in Zoho, voided, credit memos), and the detail pane of the
highlighted row: the invoice it would become (`invoice_view`), or what its group means."""

from __future__ import annotations

from typing import Any

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

from zbsn.tui.widgets.formatting import money
from zbsn.tui.widgets.invoice_view import render_invoice, section
from zbsn.tui.widgets.preview_model import GROUPS, BillPreview

GROUP_KEY = "group:"  # row keys of the group header rows
GROUP_NOTES = {
    "unreadable": "Zoho Books could not serve these bills (deleted since listed, or failing): a run records "
    "each as failed with the reason, and the next run reads them again.",
    "blocked": "A run fails these with the reason until what is missing exists in ServiceNow or is mapped "
    "here (the Cost centers / GL accounts / Suppliers tabs, o on a row); then replay them on Audit.",
    "ready": "A run stages these as they are shown: header, lines, tax lines, then attaches their documents.",
    "waiting": "Drafts and bills pending approval in Zoho Books: never sent and never failed. They are "
    "staged by the first run after someone approves them in Zoho (the profile's stage statuses).",
    "cancel": "Voided in Zoho Books: a run flags each staged invoice for the AP team to cancel in "
    "ServiceNow (zbsn never cancels one itself).",
    "credit": "Zoho vendor credits become credit memos; each application to a bill settles that bill's "
    "invoice. A credit waits until the bill it settles is staged.",
}
STATE_WORDS: dict[str, tuple[str, str]] = {
    "ready": ("ready", "green"),
    "blocked": ("blocked", "bold red"),
    "unreadable": ("unreadable", "bold red"),
    "waiting": ("waiting", "yellow"),
    "cancel": ("voided", "yellow"),
}


def group_title(group: str, rows: list[BillPreview]) -> str:
    """`Waiting for approval in Zoho (4)`."""
    return f"{dict(GROUPS)[group]} ({len(rows)})"


GROUP_HINTS = {
    "unreadable": "Zoho could not serve them",
    "blocked": "something is missing",
    "ready": "a run stages them",
    "waiting": "for approval in Zoho",
    "cancel": "voided in Zoho",
    "credit": "as credit memos",
}
GROUP_TAGS = {
    "unreadable": ("UNREADABLE", "bold red"),
    "blocked": ("BLOCKED", "bold red"),
    "ready": ("READY", "bold green"),
    "waiting": ("WAITING", "bold yellow"),
    "cancel": ("VOIDED", "bold yellow"),
    "credit": ("CREDITS", "bold cyan"),
}


def header_cells(group: str, rows: list[BillPreview], width: int) -> list[Any]:
    """The group's header row, within the bill rows' widths: `▾ 12 | BLOCKED | | | something is missing`."""
    tag, style = GROUP_TAGS[group]
    cells: list[Any] = [Text(f"▾ {len(rows):,}", style=style), Text(tag, style=style), "", ""]
    cells.append(Text(GROUP_HINTS[group], style=style))
    return [*cells, *([""] * (width - len(cells)))]


def state_cell(bill: BillPreview) -> Text:
    if bill.outcome == "credit":
        outcome = bill.credit_outcome or ""
        words = {"ready": ("memo", "green"), "skip": ("not sent", "dim"), "blocked": ("memo waits", "yellow")}
        text, style = words.get(outcome, (outcome or "memo", "bold red"))
        return Text(text, style=style)
    if bill.outcome in STATE_WORDS:
        text, style = STATE_WORDS[str(bill.outcome)]
        return Text(text, style=style)
    return Text("ready", style="green") if bill.ready else Text("blocked", style="bold red")


def extras_text(bill: BillPreview) -> str:
    """What the invoice carries besides its lines, as short marks: `adj +25.00 · disc 600.93 · 1 doc`."""
    invoice = bill.invoice
    if invoice is None:
        return ""
    marks = []
    if invoice.adjustment:
        marks.append(f"other {invoice.adjustment:+,.2f}")
    if invoice.discount:
        marks.append(f"disc {invoice.discount:,.2f}")
    if any(len(line.taxes) > 1 for line in invoice.lines):
        marks.append("tax group")
    if invoice.documents:
        marks.append(f"{len(invoice.documents)} doc" + ("s" if len(invoice.documents) > 1 else ""))
    if invoice.settlements:
        marks.append(f"settles {len(invoice.settlements)}")
    return " · ".join(marks)


BILL_COLUMNS = (
    ("state", "State"),
    ("number", "Bill"),
    ("date", "Date"),
    ("total", "Total"),
    ("vendor", "Supplier"),
    ("notes", "What is missing · what it carries"),
)


def bill_cells(bill: BillPreview) -> list[Any]:
    """A row of the bill list: what is missing (red) or, when nothing is, what the invoice carries."""
    if bill.missing and bill.outcome != "waiting":
        style = "red" if is_held(bill) else "yellow"
        notes = Text(clip("; ".join(bill.missing), 40), style=style)
    else:
        notes = Text(clip(extras_text(bill), 40), style="dim")
    return [
        state_cell(bill),
        bill.number,
        bill.date,
        Text(money(bill.total, bill.currency), justify="right"),
        clip(bill.vendor, 22),
        notes,
    ]


def is_held(bill: BillPreview) -> bool:
    """Blocked or unreadable: something must be done before a run sends it."""
    return bill.outcome in ("blocked", "unreadable") or (bill.outcome is None and not bill.ready)


def clip(text: str, width: int) -> str:
    """`text` cut to `width` characters with an ellipsis (the detail pane shows it whole)."""
    return text if len(text) <= width else text[: width - 1] + "…"


def _will_be(bill: BillPreview) -> Text:
    if bill.outcome == "waiting":
        return Text("staged once approved in Zoho Books", style="yellow")
    if bill.outcome == "cancel":
        return Text("flagged for cancelling in ServiceNow (if staged)", style="yellow")
    if bill.outcome == "credit":
        if bill.credit_outcome == "ready":
            return Text("staged as a credit memo, its settlements with it", style="green")
        if bill.credit_outcome == "skip":
            return Text("not sent", style="dim")
        return Text("held back until what is below is resolved", style="yellow")
    return Text("staged", style="green") if bill.ready else Text("held back", style="bold red")


def render_bill(bill: BillPreview) -> Group:
    """The detail pane: what becomes of the bill, the invoice it would become, what is missing."""
    head = Table.grid(padding=(0, 1))
    head.add_column(style="bold", no_wrap=True)
    head.add_column()
    head.add_row("Will be", _will_be(bill))
    parts: list[RenderableType] = [head]
    if bill.invoice is not None:
        parts += render_invoice(bill.invoice)
    else:  # shown from Zoho's list row only (waiting, voided, unreadable): no detail was read
        facts = Table.grid(padding=(0, 1))
        facts.add_column(style="bold", no_wrap=True)
        facts.add_column()
        facts.add_row("Supplier", bill.vendor or "—")
        facts.add_row("Bill", bill.number or bill.key)
        facts.add_row("Dated", bill.date or "—")
        facts.add_row("Total", money(bill.total, bill.currency) or "—")
        parts += [facts]
        if bill.outcome == "waiting":
            parts.append(Text("Its lines are read once it is approved (no Zoho request before).", "dim"))
    if bill.outcome == "waiting":
        parts += [Text(f"\n{m}", style="yellow") for m in bill.missing]
    elif bill.missing:
        parts += [section("What is missing" if bill.outcome != "credit" else "Why it waits")]
        parts += [Text(f"• {m}", style="red" if bill.outcome != "credit" else "yellow") for m in bill.missing]
        if bill.outcome == "blocked":
            parts.append(Text("\nMap it in the Cost centers / GL accounts / Suppliers tab (o), then reload."))
    return Group(*parts)


def render_group(group: str, rows: list[BillPreview]) -> Group:
    """The detail pane on a group's header row: what the group means and its totals per currency."""
    totals: dict[str, Any] = {}
    for row in rows:
        if row.total is not None:
            totals[row.currency or ""] = totals.get(row.currency or "", 0) + row.total
    amounts = " · ".join(money(amount, currency) for currency, amount in sorted(totals.items()))
    return Group(
        Text(group_title(group, rows), style="bold"),
        Text(amounts or "—"),
        Text(f"\n{GROUP_NOTES[group]}"),
    )
