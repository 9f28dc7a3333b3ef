"""The invoice a bill becomes, on the Preview screen and in the Audit detail, for known seeded bills: one
with an adjustment, one with a tax group, one with a document, one waiting for approval in Zoho, and a
vendor credit as its credit memo with its settlement. The console is built by `make_app` (the factory
`zbsn-tui` uses) on a database connected to `zbsn sandbox` running as a separate process (80 bills, seed 7:
the same company is generated here to know which bill carries what).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from rich.console import Console
from sqlmodel import Session, select
from textual.pilot import Pilot
from textual.widgets import DataTable, Input, Static

from tests.tui.conftest import ConnectedDatabase
from zbsn.core.db.engine import make_engine
from zbsn.core.db.models import AuditRecord
from zbsn.core.domain import AuditStatus, RecordKind
from zbsn.sandbox.company import Bill, Company
from zbsn.sandbox.company_generator import generate_company, line_taxes
from zbsn.tui.app import make_app
from zbsn.tui.widgets.bill_rows import GROUP_KEY

SIZES = ((120, 40), (160, 50))


def seeded() -> Company:
    """The company `zbsn sandbox --bills 80 --seed 7` serves (tests/conftest.py)."""
    return generate_company(7, 80)


def good(company: Company) -> list[Bill]:
    return [
        b for b in company.bills if b.defect is None and b.status not in ("void", "draft", "pending_approval")
    ]


async def settled(pilot: Pilot[Any]) -> None:
    for _ in range(4):
        await pilot.pause()
        await pilot.app.workers.wait_for_complete()
    await pilot.pause()


def pane_text(app: Any, selector: str) -> str:
    """The detail pane's text as the operator reads it (wide enough that nothing wraps mid-word)."""
    body = app.screen.query_one(selector, Static)
    console = Console(width=200, record=True, color_system=None)
    console.print(body.content)
    return console.export_text()


async def highlight(pilot: Pilot[Any], table_id: str, key: str) -> None:
    table = pilot.app.screen.query_one(table_id, DataTable)
    table.move_cursor(row=table.get_row_index(key))
    await settled(pilot)


async def show_record(pilot: Pilot[Any], number: str, audit_id: Any) -> None:
    """Search the audit log for `number` as an operator does, then highlight the record."""
    pilot.app.screen.query_one("#filter-text", Input).value = number
    await settled(pilot)
    await highlight(pilot, "#audit-table", str(audit_id))


def money(value: Decimal) -> str:
    return f"{value:,.2f}"


async def test_the_preview_shows_each_bill_as_the_invoice_it_would_become(
    connected_db: ConnectedDatabase,
) -> None:
    company = seeded()
    bills = good(company)
    adjusted = next(b for b in bills if b.adjustment and not b.documents)
    grouped = next(b for b in bills if any(line.tax_components for line in b.lines))
    documented = next(b for b in bills if b.documents)
    waiting = next(b for b in company.bills if b.status in ("draft", "pending_approval"))
    credit = next(c for c in company.vendor_credits if c.applications)
    vendors = {v.contact_id: v for v in company.vendors}
    for size in SIZES:
        app = make_app(connected_db.url, connected_db.settings, screen="preview", serve=False)
        async with app.run_test(size=size) as pilot:
            await settled(pilot)
            app.screen.query_one("#preview-tabs").active = "tab-bills"
            await settled(pilot)
            table = app.screen.query_one("#bill-table", DataTable)
            keys = [str(k.value) for k in table.rows]
            # waiting bills are a group of their own, after the bills a run would send
            assert f"{GROUP_KEY}waiting" in keys
            assert keys.index(f"{GROUP_KEY}waiting") > keys.index(f"{GROUP_KEY}ready")
            assert keys.index(waiting.bill_id) > keys.index(f"{GROUP_KEY}waiting")

            await highlight(pilot, "#bill-table", adjusted.bill_id)
            text = pane_text(app, "#bill-detail-body")
            vendor = vendors[adjusted.vendor_id]
            assert adjusted.bill_number in text
            assert f"Other charges {money(adjusted.adjustment)}" in " ".join(text.split())
            assert adjusted.adjustment_description in text
            assert adjusted.due_date.isoformat() in text
            assert vendor.payment_terms_label
            assert vendor.payment_terms_label in text
            assert vendor.city in text  # the remit-to address
            assert "Sub-total" in text

            await highlight(pilot, "#bill-table", grouped.bill_id)
            text = " ".join(pane_text(app, "#bill-detail-body").split())
            for line in grouped.lines:
                for _id, name, _pct, amount in line_taxes(line):
                    assert f"{name}" in text
                    assert money(amount) in text

            await highlight(pilot, "#bill-table", documented.bill_id)
            text = pane_text(app, "#bill-detail-body")
            assert documented.documents[0].file_name in text
            assert "kB" in text

            await highlight(pilot, "#bill-table", waiting.bill_id)
            text = pane_text(app, "#bill-detail-body")
            assert "staged once approved in Zoho Books" in text

            await highlight(pilot, "#bill-table", f"credit:{credit.vendor_credit_id}")
            text = " ".join(pane_text(app, "#bill-detail-body").split())
            assert credit.vendor_credit_number in text
            assert "Credit memo" in text
            numbers = {b.bill_id: b.bill_number for b in company.bills}
            for application in credit.applications:
                assert f"bill {numbers[application.bill_id]} {money(application.amount)}" in text


async def test_the_audit_detail_shows_a_staged_invoice_and_its_document(
    connected_db: ConnectedDatabase,
) -> None:
    company = seeded()
    documented = {b.bill_id: b for b in good(company) if b.documents}
    app = make_app(connected_db.url, connected_db.settings, screen="run", serve=False)
    async with app.run_test(size=(160, 50)) as pilot:
        await settled(pilot)
        await pilot.press("s")
        for _ in range(600):
            await settled(pilot)
            if not app.screen.running:
                break
            await pilot.pause(0.1)
        assert not app.screen.running
    with Session(make_engine(connected_db.url)) as session:
        staged = session.exec(
            select(AuditRecord).where(
                AuditRecord.kind == RecordKind.BILL,
                AuditRecord.status == AuditStatus.STAGED,
            )
        ).all()
        record = next(r for r in staged if r.zoho_id in documented)
        adjusted_record = next(
            r for r in staged if next(b for b in company.bills if b.bill_id == r.zoho_id).adjustment
        )
    bill = documented[record.zoho_id]
    adjusted = next(b for b in company.bills if b.bill_id == adjusted_record.zoho_id)
    vendors = {v.contact_id: v for v in company.vendors}
    for size in SIZES:
        app = make_app(connected_db.url, connected_db.settings, screen="audit", serve=False)
        async with app.run_test(size=size) as pilot:
            await settled(pilot)
            await show_record(pilot, bill.bill_number, record.id)
            text = " ".join(pane_text(app, "#detail-body").split())
            assert bill.documents[0].file_name in text
            assert "attached" in text
            assert bill.bill_number in text
            assert "Sub-total" in text
            assert vendors[bill.vendor_id].city in text  # remit-to, from the Zoho record
            await show_record(pilot, adjusted.bill_number, adjusted_record.id)
            text = " ".join(pane_text(app, "#detail-body").split())
            assert f"Other charges {money(adjusted.adjustment)}" in text
