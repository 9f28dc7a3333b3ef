"""After staging, over real sockets: follow invoices in batched reads, post outbound invoices, pay them."""

from __future__ import annotations

import math
from collections.abc import Callable
from datetime import date

import pytest

from zbsn.core.servicenow.invoice_models import IntegrationStatus, InvoiceState
from zbsn.core.servicenow.models import StagingRow, StagingStatus
from zbsn.sandbox.company import Company

from .conftest import ERP_SOURCE, INVOICE, LINE, PAYMENT, Harness

Rows = Callable[..., list[StagingRow]]


def typed(rows: list[StagingRow], **extra: str) -> list[StagingRow]:
    """Headers get an invoice type and an ERP number (bill id), as the engine sends them; lines unchanged."""
    out = []
    for row in rows:
        if row.table == INVOICE:
            number = row.values["u_external_invoice_number"]
            values = {**row.values, "u_invoice_type": "non_po_invoice", "u_erp_number": f"B{number}", **extra}
            row = StagingRow(table=row.table, source_ref=row.source_ref, values=values)
        out.append(row)
    return out


def without(row: StagingRow, column: str) -> StagingRow:
    """`row` with `column` emptied."""
    return StagingRow(table=row.table, source_ref=row.source_ref, values={**row.values, column: ""})


async def test_a_refresh_reads_everything_in_at_most_one_request_per_100_invoices(
    harness: Harness, invoice_rows: Rows, company: Company
) -> None:
    count = 450
    rows = typed(invoice_rows(count, lines=True))
    lines = {r.values["u_external_invoice_number"]: i for i, r in enumerate(rows) if r.table == LINE}
    rows[lines["INV-00002"]] = without(rows[lines["INV-00002"]], "u_gl_account")
    bad_line = StagingRow(
        table=LINE,
        source_ref="line:INV-00001:2",
        values={
            "u_external_invoice_number": "INV-00001",
            "u_erp_source": ERP_SOURCE,
            "u_erp_line_number": "2",
            "u_subtotal": "0",
            "u_cost_center": "CC-NOWHERE-999",
        },
    )
    sandbox = harness.sandbox
    vendors = [v for v in company.vendors if v.exists_in_servicenow]
    sandbox.set_supplier_detail(vendors[3].supplier_code, hold_posting=True)  # INV-00003's supplier
    async with harness.client() as client:
        outcomes = await client.stage([*rows, bad_line])
        ids = {
            o.source_ref.removeprefix("bill:"): o.target_sys_id or ""
            for o in outcomes
            if o.source_ref.startswith("bill:")
        }
        assert outcomes[-1].status is StagingStatus.ERROR
        sandbox.run_job("invoice_processing")
        sandbox.approve_invoice(ids["INV-00004"])
        before = client.request_count
        batches = sandbox.counters_snapshot()["requests_by_path"].get("/api/now/v1/batch", 0)
        followed = await client.follow_invoices(ids.values())
        spent = client.request_count - before
    assert spent <= math.ceil(count / 100)
    assert spent == 1  # 3 chunks x 5 reads fit one Batch API request
    assert sandbox.counters_snapshot()["requests_by_path"]["/api/now/v1/batch"] == batches + 1
    assert set(followed) == set(ids.values())

    clean = followed[ids["INV-00000"]]
    assert clean.status is not None
    assert (clean.status.state, clean.status.amount, clean.status.currency) == (
        InvoiceState.PENDING_APPROVAL,
        100,
        vendors[0].currency_code,
    )
    assert (clean.exceptions, clean.import_errors, clean.outbound) == ([], [], [])

    errored = followed[ids["INV-00001"]]
    assert [e.error_message for e in errored.import_errors] == ["Cost center 'CC-NOWHERE-999' not found"]
    assert errored.import_errors[0].supplier_invoice_line_number == "2"

    uncoded = followed[ids["INV-00002"]]
    assert uncoded.status is not None
    assert uncoded.status.state == InvoiceState.EXCEPTIONS_FOUND
    (line_exception,) = uncoded.exceptions
    assert (line_exception.level, line_exception.definition, line_exception.line_number) == (
        "line",
        "Valid coding required",
        "1",
    )
    assert line_exception.description == "Line 1 has no ledger account."

    held = followed[ids["INV-00003"]]
    assert [(e.level, e.definition) for e in held.exceptions] == [("header", "Invalid or blocked supplier")]
    assert held.exceptions[0].description is not None
    assert "Hold posting" in held.exceptions[0].description

    approved = followed[ids["INV-00004"]]
    assert approved.status is not None
    assert approved.status.state == InvoiceState.APPROVED
    assert approved.outbound_to_post is not None
    assert approved.outbound_to_post.integration_status == IntegrationStatus.NEW


async def test_without_the_batch_api_the_reads_are_plain_gets(harness: Harness, invoice_rows: Rows) -> None:
    rows = typed(invoice_rows(210))
    async with harness.client() as client:
        outcomes = await client.stage(rows)
        ids = [o.target_sys_id or "" for o in outcomes]
        batched = await client.follow_invoices(ids)
        harness.sandbox.set_lifecycle(batch_api_enabled=False)
        before = client.request_count
        plain = await client.follow_invoices(ids)
        spent = client.request_count - before
    assert plain == batched
    assert spent == 1 + 2 * 5  # the refused batch, then five GETs for each chunk of 200
    assert {f.status.state for f in plain.values() if f.status} == {InvoiceState.DRAFT}


async def test_an_invoice_that_is_gone_has_no_status(harness: Harness) -> None:
    async with harness.client() as client:
        followed = await client.follow_invoices(["0123456789abcdef0123456789abcdef"])
        assert await client.invoice_statuses([]) == {}
    (only,) = followed.values()
    assert (only.status, only.exceptions, only.outbound) == (None, [], [])


async def test_posting_the_outbound_invoice_then_paying_it_by_erp_number(
    harness: Harness, invoice_rows: Rows, company: Company
) -> None:
    sandbox = harness.sandbox
    sandbox.set_lifecycle(auto_approve=True)
    rows = typed(invoice_rows(2, lines=True))
    async with harness.client() as client:
        outcomes = await client.stage(rows)
        first, second = (o.target_sys_id or "" for o in outcomes[:2])
        harness.advance(1800)  # the scheduled job approves both (no exceptions)
        to_post = await client.outbound_invoices_to_post(ERP_SOURCE)
        assert {o.invoice_sys_id for o in to_post} == {first, second}
        outbound = (await client.outbound_invoices([first]))[first][-1]
        before = client.request_count
        posted = await client.mark_outbound_processed(outbound.sys_id, "BINV-00000", date(2026, 10, 2))
        assert client.request_count - before == 1
        assert (posted.integration_status, posted.erp_number, posted.erp_posting_date) == (
            IntegrationStatus.PROCESSED,
            "BINV-00000",
            "2026-10-02",
        )
        failed = await client.update_outbound_invoice(
            (await client.outbound_invoices([second]))[second][-1].sys_id,
            integration_status=IntegrationStatus.ERROR,
            processing_message="Zoho refused the bill",
        )
        assert failed.processing_message == "Zoho refused the bill"
        with pytest.raises(ValueError, match="ERP number"):
            await client.mark_outbound_processed(outbound.sys_id, " ", date(2026, 10, 2))
        vendor = next(v for v in company.vendors if v.exists_in_servicenow)
        payment = StagingRow(
            table=PAYMENT,
            source_ref="pay:1",
            values={
                "u_erp_invoice_number": "BINV-00000",
                "u_erp_supplier_code": vendor.supplier_code,
                "u_erp_source": ERP_SOURCE,
                "u_currency": vendor.currency_code,
                "u_payment_amount": "100.00",
                "u_payment_date": "2026-10-20",
                "u_payment_method": "bank_transfer",
                "u_payment_reference_id": "PAY-1",
            },
        )
        (paid,) = await client.stage([payment])
        statuses = await client.invoice_statuses([first, second])
    assert paid.status is StagingStatus.INSERTED
    assert statuses[first].state == InvoiceState.PAID
    assert statuses[first].erp_number == "BINV-00000"
    assert statuses[second].state == InvoiceState.APPROVED


async def test_outbound_updates_refuse_what_is_not_a_sys_id(harness: Harness) -> None:
    async with harness.client() as client:
        with pytest.raises(ValueError, match="sys_id"):
            await client.mark_outbound_processed("../sys_user/x", "B1", date(2026, 1, 1))
        with pytest.raises(ValueError, match="integration status"):
            await client.update_outbound_invoice("0" * 32, integration_status="done")
    assert client.request_count == 0
