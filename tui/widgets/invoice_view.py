"""The invoice a bill becomes (or became), drawn the same way on the Preview screen and in the Audit detail:
header (supplier, number, dates, currency, payment terms, remit-to), lines with cost center, GL account and
their tax lines (each component of a tax group), other charges, discount, Zoho's sub-total, tax and total,
and the vendor's documents (attached, to attach, or why not).

`InvoiceView` is filled from the preview (`preview_model.bill_from`) or from a staged record's audit payloads
(`audit_invoice.invoice_from_audit`); `render_invoice` draws it for a pane 44 to 70 columns wide.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from rich.console import RenderableType
from rich.table import Table
from rich.text import Text

from zbsn.tui.widgets.formatting import money


@dataclass(frozen=True)
class TaxLineView:
    """One tax on a line: a single tax, or one component of a tax group."""

    name: str
    rate: Decimal | None
    amount: Decimal

    @property
    def label(self) -> str:
        """`TX State 6.25%` (the rate only when the name does not already say it)."""
        rate = f"{self.rate.normalize():f}%" if self.rate is not None else ""
        return f"{self.name} {rate}" if rate and rate not in self.name else self.name


@dataclass(frozen=True)
class InvoiceLineView:
    """One invoice line: net amount, tax, coding (None: missing) and its tax lines."""

    description: str
    amount: Decimal | None
    tax: Decimal | None
    cost_center: str | None
    gl_account: str | None
    taxes: tuple[TaxLineView, ...] = ()
    cost_center_missing: bool = False
    gl_missing: bool = False


@dataclass(frozen=True)
class DocumentView:
    """A vendor's document: its name, size and what happens to it (`ok`: attached or will be)."""

    name: str
    size_bytes: int | None
    note: str
    ok: bool

    @property
    def label(self) -> str:
        size = f" ({self.size_bytes / 1000:.1f} kB)" if self.size_bytes is not None else ""
        return f"{self.name}{size}: {self.note}"


@dataclass(frozen=True)
class InvoiceView:
    """Everything the invoice pane shows of one invoice (None: not known for this record)."""

    number: str
    supplier: str
    supplier_code: str | None = None
    date: str | None = None
    due_date: str | None = None
    currency: str | None = None
    exchange_rate: Decimal | None = None
    payment_terms: str | None = None
    remit_to: str | None = None
    reference: str | None = None
    lines: tuple[InvoiceLineView, ...] = ()
    subtotal: Decimal | None = None
    tax: Decimal | None = None
    adjustment: Decimal | None = None
    adjustment_label: str | None = None
    discount: Decimal | None = None
    total: Decimal | None = None
    documents: tuple[DocumentView, ...] = ()
    settlements: tuple[tuple[str, Decimal], ...] = ()  # a credit memo: (bill, amount applied)
    kind: str = "invoice"  # invoice | credit memo
    business_owner: str | None = None
    notes: tuple[
        str, ...
    ] = ()  # what else the run will stage or ServiceNow will say (FX rate, mapping, owner)


def terms_label(zoho_label: str | None, servicenow_term: str | None) -> str | None:
    """`Net 30`, or `Net 30 → NET30` when ServiceNow's term is named otherwise (a profile override)."""
    if not servicenow_term:
        return f"{zoho_label} (none sent)" if zoho_label else None
    if not zoho_label or zoho_label.casefold() == servicenow_term.casefold():
        return servicenow_term
    return f"{zoho_label} → {servicenow_term}"


def address_line(values: dict[str, str]) -> str | None:
    """The `u_remit_to_*` columns as one line (None when every part is empty)."""
    parts = [
        values.get("u_remit_to_street", ""),
        values.get("u_remit_to_city", ""),
        " ".join(
            p
            for p in (values.get("u_remit_to_state_or_province"), values.get("u_remit_to_zip_or_postal_code"))
            if p
        ),
        values.get("u_remit_to_country", ""),
    ]
    text = ", ".join(p for p in parts if p)
    return text or None


def section(title: str) -> Text:
    return Text(f"\n{title}", style="bold underline")


def _header(view: InvoiceView) -> Table:
    grid = Table.grid(padding=(0, 1))
    grid.add_column(style="bold", no_wrap=True)
    grid.add_column()
    supplier = view.supplier or "—"
    if view.supplier_code:
        supplier += f" ({view.supplier_code})"
    grid.add_row("Supplier", supplier)
    number = view.number + (f" · ref {view.reference}" if view.reference else "")
    grid.add_row("Credit memo" if view.kind == "credit memo" else "Invoice", number)
    dates = view.date or "—"
    if view.due_date:
        dates += f", due {view.due_date}"
    grid.add_row("Dated", dates)
    if view.currency:
        rate = (
            f" (rate to base {view.exchange_rate.normalize():f})"
            if view.exchange_rate not in (None, 1)
            else ""
        )
        grid.add_row("Currency", f"{view.currency}{rate}")
    if view.kind != "credit memo":
        grid.add_row("Terms", view.payment_terms or Text("none", style="dim"))
        grid.add_row("Remit to", view.remit_to or Text("no address in Zoho", style="yellow"))
        grid.add_row("Owner", view.business_owner or Text("none configured", style="yellow"))
    return grid


def _coding(label: str, value: str | None, missing: bool) -> Text:
    if value and not missing:
        return Text(f"  {label} {value}")
    return Text(f"  {label} {value + ' ' if value else ''}missing", style="bold red")


def _lines(view: InvoiceView) -> Table:
    """One row per line (description, net, tax), then its cost center, GL account and each tax line (a tax
    group's components one by one) beneath it, their amounts in the Tax column."""
    table = Table(box=None, pad_edge=False, show_edge=False, header_style="bold", expand=True)
    table.add_column("Line", ratio=1, overflow="fold")
    table.add_column("Net", justify="right", no_wrap=True)
    table.add_column("Tax", justify="right", no_wrap=True)
    for number, line in enumerate(view.lines, start=1):
        table.add_row(f"{number} {line.description or '—'}", money(line.amount), money(line.tax))
        table.add_row(_coding("CC", line.cost_center, line.cost_center_missing), "", "")
        table.add_row(_coding("GL", line.gl_account, line.gl_missing), "", "")
        for tax in line.taxes:
            table.add_row(Text(f"  {tax.label}", style="dim"), "", Text(money(tax.amount), style="dim"))
    return table


def _amounts(view: InvoiceView) -> Table:
    grid = Table.grid(padding=(0, 1))
    grid.add_column(no_wrap=True)
    grid.add_column(justify="right", no_wrap=True)
    grid.add_column(style="dim")
    grid.add_row("Sub-total", money(view.subtotal), "")
    grid.add_row("Tax", money(view.tax), "")
    if view.adjustment:
        grid.add_row("Other charges", money(view.adjustment), view.adjustment_label or "adjustment")
    if view.discount:
        grid.add_row("Discount", money(-view.discount), "")
    grid.add_row(Text("Total", style="bold"), Text(money(view.total), style="bold"), view.currency or "")
    return grid


def render_invoice(view: InvoiceView) -> list[RenderableType]:
    """The invoice's header, lines, amounts, documents (and a credit memo's settlements), in order."""
    parts: list[RenderableType] = [_header(view)]
    parts += [section(f"Lines ({len(view.lines)})"), _lines(view)]
    parts += [section("Amounts (as Zoho computes them)"), _amounts(view)]
    if view.kind == "credit memo":
        settles = Table.grid(padding=(0, 1))
        settles.add_column()
        settles.add_column(justify="right")
        for bill, amount in view.settlements:
            settles.add_row(f"bill {bill}", money(amount))
        parts += [section(f"Settles ({len(view.settlements)})")]
        parts.append(settles if view.settlements else Text("no bill yet (an unapplied credit)", style="dim"))
    elif view.documents:
        parts.append(section(f"Documents ({len(view.documents)})"))
        for document in view.documents:
            mark, style = ("✓", "green") if document.ok else ("✗", "yellow")
            parts.append(Text(f"{mark} {document.label}", style=style))
    else:
        parts += [section("Documents"), Text("none in Zoho Books", style="dim")]
    if view.notes:
        parts.append(section(f"Also staged or to check ({len(view.notes)})"))
        parts += [Text(f"• {note}") for note in view.notes]
    return parts
