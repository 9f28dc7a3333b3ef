"""The client against the ServiceNow sandbox over real sockets (nothing of the client is mocked)."""

from __future__ import annotations

from collections.abc import Callable

import httpx
import pytest

from zbsn.core.servicenow.errors import ServiceNowProtocolError, ServiceNowReauthorize
from zbsn.core.servicenow.models import StagingRow, StagingStatus
from zbsn.core.servicenow.query import EncodedQuery
from zbsn.sandbox.company import Company
from zbsn.sandbox.servicenow import FaultConfig, RateLimitRule, ServiceNowSandbox

from .conftest import ERP_SOURCE, INVOICE, LINE, PAYMENT, TAX_LINE, Harness

Rows = Callable[..., list[StagingRow]]


def unknown_cost_center_line(number: str) -> StagingRow:
    """A line whose cost center ServiceNow does not know."""
    return StagingRow(
        table=LINE,
        source_ref=f"line:{number}:2",
        values={
            "u_external_invoice_number": number,
            "u_erp_source": ERP_SOURCE,
            "u_erp_line_number": "2",
            "u_line_description": "Travel",
            "u_subtotal": "5.00",
            "u_cost_center": "CC-NOWHERE-999",
        },
    )


# --- OAuth ---------------------------------------------------------------------------------------------


async def test_token_then_masters(harness: Harness, company: Company) -> None:
    async with harness.client() as client:
        centers = await client.list_cost_centers()
        suppliers = await client.list_suppliers()
        entities = await client.list_legal_entities()
        accounts = await client.list_gl_accounts()
    assert {c.account_number for c in centers} == {
        c.account_number for c in company.cost_centers if c.exists_in_servicenow
    }
    assert {s.supplier_code for s in suppliers} == {
        v.supplier_code for v in company.vendors if v.exists_in_servicenow
    }
    assert [e.company_code for e in entities] == [company.legal_entity.company_code]
    assert entities[0].currency  # a sys_id: references come back flat
    assert {a.number for a in accounts} >= {"6100", "6110"}
    assert client.request_count == 5  # one token, four reads
    assert harness.store.tokens is not None
    assert client.auth.expires_in() == pytest.approx(1799, abs=5)


async def test_token_is_refreshed_before_it_expires(harness: Harness) -> None:
    async with harness.client() as client:
        await client.list_cost_centers()
        first = harness.store.tokens
        harness.advance(1799 - 60)  # inside the 120 s margin on both clocks
        await client.list_cost_centers()
        second = harness.store.tokens
        harness.advance(1799 - 60)
        await client.list_cost_centers()
    assert first is not None
    assert second is not None
    assert first.access_token != second.access_token
    assert client.auth.token_requests == 3
    statuses = harness.sandbox.counters_snapshot()["responses_by_status"]
    assert "401" not in statuses  # refreshed ahead of time, never after a refusal


async def test_expired_token_mid_run_is_replaced_after_one_401(harness: Harness) -> None:
    async with harness.client() as client:
        await client.list_cost_centers()
        harness.sandbox.advance_clock(1800)  # the instance expires the token; the client's clock lags
        await client.list_cost_centers()
    assert harness.sandbox.counters_snapshot()["responses_by_status"]["401"] == 1
    assert client.auth.token_requests == 2
    assert client.auth.state == "ok"


async def test_grant_switched_off_asks_to_reauthorise(harness: Harness) -> None:
    harness.sandbox.set_client_credentials(False)
    async with harness.client() as client:
        with pytest.raises(ServiceNowReauthorize) as caught:
            await client.list_suppliers()
    assert "glide.oauth.inbound.client.credential.grant_type.enabled" in str(caught.value)
    assert "access_denied" in str(caught.value)
    assert client.auth.state == "reauthorise"


async def test_grant_switched_off_mid_run_asks_to_reauthorise(harness: Harness) -> None:
    async with harness.client() as client:
        await client.list_suppliers()
        harness.sandbox.set_client_credentials(False)
        harness.sandbox.advance_clock(1800)
        with pytest.raises(ServiceNowReauthorize, match="OAuth Application User"):
            await client.list_suppliers()
    assert client.auth.state == "reauthorise"


# --- staging -------------------------------------------------------------------------------------------


async def test_mixed_batch_maps_each_outcome_to_its_row(harness: Harness, invoice_rows: Rows) -> None:
    rows = invoice_rows(3, lines=True)
    rows.insert(4, unknown_cost_center_line("INV-00001"))
    async with harness.client() as client:
        outcomes = await client.stage(rows)
    assert [o.source_ref for o in outcomes] == [r.source_ref for r in rows]
    by_ref = {o.source_ref: o for o in outcomes}
    bad = by_ref["line:INV-00001:2"]
    assert bad.status is StagingStatus.ERROR
    assert bad.message is not None
    assert "CC-NOWHERE-999" in bad.message
    assert bad.target_sys_id is None
    good = [o for o in outcomes if o is not bad]
    assert {o.status for o in good} == {StagingStatus.INSERTED}
    invoices = {r["sys_id"]: r for r in harness.sandbox.table("sn_shop_invoice")}
    header = by_ref["bill:INV-00002"]
    assert header.target_table == "sn_shop_invoice"
    assert invoices[header.target_sys_id or ""]["external_invoice_number"] == "INV-00002"
    lines = {r["sys_id"]: r for r in harness.sandbox.table("sn_shop_invoice_line")}
    assert lines[by_ref["line:INV-00002:1"].target_sys_id or ""]["invoice"] == header.target_sys_id


async def test_async_outcomes_come_from_import_set_rows(harness: Harness, invoice_rows: Rows) -> None:
    rows = invoice_rows(5)
    async with harness.client(batch_size=2) as client:
        outcomes = await client.stage(rows)
    staged = {r["sys_id"]: r for r in harness.sandbox.table(INVOICE)}
    for row, outcome in zip(rows, outcomes, strict=True):
        record = staged[outcome.staging_sys_id or ""]
        assert record["u_external_invoice_number"] == row.values["u_external_invoice_number"]
        assert record["sys_import_state"] == outcome.status.value == "inserted"
        assert record["sys_import_set"] == outcome.import_set
    assert len({o.import_set for o in outcomes}) == 3  # three insertMultiple batches
    paths = harness.sandbox.counters_snapshot()["requests_by_path"]
    assert paths["/api/now/import/sn_spend_intg_imp_invoice/insertMultiple"] == 3
    assert paths["/api/now/table/sys_import_set_row"] >= 1


async def test_resending_a_batch_duplicates_nothing(harness: Harness, invoice_rows: Rows) -> None:
    rows = invoice_rows(4, lines=True)
    async with harness.client() as client:
        first = await client.stage(rows)
        again = await client.stage(rows)
        changed = [
            StagingRow(table=r.table, source_ref=r.source_ref, values={**r.values, "u_subtotal": "90.00"})
            for r in rows[:1]
        ]
        updated = await client.stage(changed)
    assert {o.status for o in first} == {StagingStatus.INSERTED}
    assert {o.status for o in again} == {StagingStatus.IGNORED}
    assert updated[0].status is StagingStatus.UPDATED
    assert [o.target_sys_id for o in again] == [o.target_sys_id for o in first]
    assert len(harness.sandbox.table("sn_shop_invoice")) == 4
    assert len(harness.sandbox.table("sn_shop_invoice_line")) == 4


@pytest.mark.parametrize("mode", ["single", "sync_multiple"])
async def test_an_error_row_inside_a_201_is_reported_failed(
    harness: Harness, invoice_rows: Rows, mode: str
) -> None:
    if mode == "sync_multiple":
        harness.sandbox.set_import_mode(INVOICE, mode="sync")
        harness.sandbox.set_import_mode(LINE, mode="sync")
    rows = [*invoice_rows(1), unknown_cost_center_line("INV-00000")]
    async with harness.client(stage_mode=mode) as client:
        outcomes = await client.stage(rows)
    assert outcomes[0].status is StagingStatus.INSERTED
    assert outcomes[1].status is StagingStatus.ERROR
    assert outcomes[1].message == "Cost center 'CC-NOWHERE-999' not found"
    statuses = harness.sandbox.counters_snapshot()["responses_by_status"]
    assert set(statuses) <= {"200", "201"}  # no HTTP error: the failure lives in the body
    assert (
        harness.sandbox.counters_snapshot()["requests_by_path"].get("/api/now/table/sys_import_set_row")
        is None
    )


async def test_label_and_column_keying(harness: Harness, invoice_rows: Rows) -> None:
    rows = invoice_rows(2)
    async with harness.client(key_by="label") as client:
        by_label = await client.stage(rows[:1])
    harness.sandbox.set_import_mode(INVOICE, mode="async", column_mapping="name")
    async with harness.client(key_by="column") as client:
        by_column = await client.stage(rows[1:])
    assert by_label[0].status is StagingStatus.INSERTED
    assert by_column[0].status is StagingStatus.INSERTED
    # Keys of the wrong kind are dropped by the instance: the coalesce column is empty, the row skipped.
    async with harness.client(key_by="label") as client:
        mismatched = await client.stage(invoice_rows(1, prefix="MIS"))
    assert mismatched[0].status is StagingStatus.SKIPPED
    assert len(harness.sandbox.table("sn_shop_invoice")) == 2


async def test_headers_lines_tax_lines_and_payments_in_one_call(harness: Harness, invoice_rows: Rows) -> None:
    rows = invoice_rows(2, lines=True)
    # a payment names its invoice by the ERP number the header carries (strict matching, sn-ref §7.6)
    rows[0] = StagingRow(
        table=rows[0].table,
        source_ref=rows[0].source_ref,
        values={**rows[0].values, "u_erp_number": "INV-00000"},
    )
    tax = StagingRow(
        table=TAX_LINE,
        source_ref="tax:INV-00000:1",
        values={
            "u_external_invoice_number": "INV-00000",
            "u_erp_source": ERP_SOURCE,
            "u_erp_line_number": "1",
            "u_tax_type": "VAT",
            "u_tax_amount": "20.00",
            "u_taxable_amount": "100.00",
        },
    )
    payment = StagingRow(
        table=PAYMENT,
        source_ref="pay:1",
        values={
            "u_erp_invoice_number": "INV-00000",
            "u_erp_source": ERP_SOURCE,
            "u_payment_reference_id": "PAY-1",
            "u_payment_amount": "50.00",
            "u_payment_date": "2026-10-20",
            "u_payment_method": "bank_transfer",
        },
    )
    ordered = [rows[0], rows[2], tax, payment, rows[1], rows[3]]  # headers first by first appearance
    async with harness.client() as client:
        outcomes = await client.stage(ordered)
    assert [o.status for o in outcomes] == [StagingStatus.INSERTED] * 6
    assert [o.target_table for o in outcomes] == [
        "sn_shop_invoice",
        "sn_shop_invoice_line",
        "sn_shop_invoice_tax_line",
        "sn_shop_invoice_payment_detail",
        "sn_shop_invoice",
        "sn_shop_invoice_line",
    ]


# --- queries -------------------------------------------------------------------------------------------


async def test_an_injected_name_never_widens_the_query(harness: Harness) -> None:
    harness.sandbox.create_supplier("SUP-INJ", "Acme^ORactive=false")
    harness.sandbox.create_supplier("SUP-OTHER", "Acme")
    harness.sandbox.create_supplier("SUP-DORMANT", "Dormant Ltd", active="false")
    async with harness.client() as client:
        found = await client.find_suppliers(name="Acme^ORactive=false")
        # The same value concatenated unescaped, sent on the client's own authenticated connection:
        async with httpx.AsyncClient(auth=client.auth) as raw:
            answer = await raw.get(
                f"{harness.sandbox.url}/api/now/table/sn_fin_supplier",
                params={"sysparm_query": "name=Acme^ORactive=false", "sysparm_fields": "erp_supplier_code"},
            )
    assert [s.supplier_code for s in found] == ["SUP-INJ"]
    # Unescaped it reads "name=Acme OR active=false": the wrong suppliers, and more than one.
    widened = sorted(r["erp_supplier_code"] for r in answer.json()["result"])
    assert widened == ["SUP-DORMANT", "SUP-OTHER"]


async def test_get_records_with_the_builder(harness: Harness) -> None:
    async with harness.client(page_size=3) as client:
        records = await client.get_records(
            "cmn_cost_center", EncodedQuery().starts_with("account_number", "CC-LON"), ["account_number"]
        )
        limited = await client.get_records("cmn_cost_center", EncodedQuery(), ["sys_id"], limit=4)
    assert sorted(r["account_number"] for r in records) == ["CC-LON-100", "CC-LON-200"]
    assert len(limited) == 4


# --- limits and faults ---------------------------------------------------------------------------------


async def test_429_waits_the_retry_after_and_goes_on(harness: Harness) -> None:
    harness.sandbox.set_rate_limits([RateLimitRule(limit=2, window_seconds=30, api="table")])
    async with harness.client() as client:
        for _ in range(3):
            await client.list_cost_centers()
    assert harness.sandbox.counters_snapshot()["rate_limited"] == 1
    assert len(harness.sleeps) == 1
    assert 1 <= harness.sleeps[0] <= 30  # the instance's Retry-After: the rest of its 30 s window
    assert client.rate_limit_waits == harness.sleeps


async def test_hibernating_instance_is_a_protocol_error(harness: Harness) -> None:
    harness.sandbox.set_faults(FaultConfig(hibernating=True))
    async with harness.client() as client:
        with pytest.raises(ServiceNowProtocolError, match="hibernating"):
            await client.list_cost_centers()


async def test_hibernation_after_the_token_is_a_protocol_error(harness: Harness) -> None:
    async with harness.client() as client:
        await client.list_cost_centers()
        harness.sandbox.set_faults(FaultConfig(hibernating=True))
        with pytest.raises(ServiceNowProtocolError, match="HTML"):
            await client.stage(
                [StagingRow(table=INVOICE, source_ref="x", values={"u_supplier": "SUP-01001"})]
            )


async def test_5xx_and_dropped_connections_are_survived(harness: Harness, invoice_rows: Rows) -> None:
    harness.sandbox.set_faults(FaultConfig(fault_rate=0.3, kinds=("500", "503", "drop"), seed=3))
    rows = invoice_rows(30, lines=True)
    async with harness.client(batch_size=7) as client:
        outcomes = await client.stage(rows)
        again = await client.stage(rows)
    assert {o.status for o in outcomes} <= {
        StagingStatus.INSERTED,
        StagingStatus.UPDATED,
        StagingStatus.IGNORED,
    }
    assert {o.status for o in again} == {StagingStatus.IGNORED}
    injected = harness.sandbox.counters_snapshot()["faults_injected"]
    assert injected.get("drop", 0) > 0
    assert injected.get("500", 0) + injected.get("503", 0) > 0
    assert len(harness.sandbox.table("sn_shop_invoice")) == 30
    assert len(harness.sandbox.table("sn_shop_invoice_line")) == 30


def test_sandbox_fixture_is_isolated(sandbox: ServiceNowSandbox) -> None:
    assert sandbox.table("sn_shop_invoice") == []
