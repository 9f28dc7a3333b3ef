"""Pre-flight against the sandbox over real sockets: what an instance lacks is named before any staging."""

from __future__ import annotations

import json
from collections.abc import Callable

import httpx
import pytest

from zbsn.core.servicenow.errors import ServiceNowPreflightError, ServiceNowStagingTimeout
from zbsn.core.servicenow.models import StagingRow, StagingStatus
from zbsn.sandbox.servicenow import DEMO_USER

from .conftest import INVOICE, LINE, Harness

Rows = Callable[..., list[StagingRow]]


async def test_a_complete_instance_passes_in_one_request(harness: Harness) -> None:
    async with harness.client() as client:
        await client.list_legal_entities()  # the token first, so the count below is the pre-flight alone
        before = client.request_count
        report = await client.preflight()
        spent = client.request_count - before
    assert spent == 1  # five metadata reads in one Batch API request
    assert report.ok, report.problems
    assert report.problems == []
    assert report.warnings == []
    assert report.roles == ["import_transformer", "sn_ap_apm.reader", "sn_spend_intg.procurement_integrator"]
    invoice = report.tables[INVOICE]
    assert invoice.transform_maps == ["Invoice import"]
    assert invoice.coalesce == ["u_erp_source", "u_external_invoice_number"]
    assert invoice.columns["u_external_invoice_number"] == "External invoice number"
    assert report.tables[LINE].coalesce == ["u_erp_line_number", "u_external_invoice_number"]
    assert report.summary().endswith("ready (0 warning(s))")


async def test_a_missing_required_column_refuses_the_run(harness: Harness) -> None:
    harness.sandbox.remove_column(INVOICE, "u_supplier")
    async with harness.client() as client:
        report = await client.preflight()
        with pytest.raises(ServiceNowPreflightError) as refused:
            client.apply_preflight(report)
    assert not report.ok
    assert report.problems == [f"{INVOICE} lacks column(s) zbsn needs: u_supplier"]
    assert "u_supplier" in str(refused.value)
    assert refused.value.report is report


async def test_a_missing_transform_map_refuses_instead_of_polling(
    harness: Harness, invoice_rows: Rows
) -> None:
    harness.sandbox.remove_transform_map(LINE)
    async with harness.client(poll_timeout_s=120, clock=harness.clock) as client:
        report = await client.preflight()
        assert report.problems == [
            f"no active transform map reads {LINE}: staged rows would stay pending "
            "(create or activate its map)"
        ]
        # what the pre-flight spares: without it the rows are polled for the whole timeout, then given up
        with pytest.raises(ServiceNowStagingTimeout):
            await client.stage(invoice_rows(1, lines=True))
    assert sum(harness.sleeps) >= 120


async def test_a_map_without_coalesce_refuses_the_run(harness: Harness) -> None:
    harness.sandbox.set_coalesce(INVOICE, ())
    async with harness.client() as client:
        report = await client.preflight()
    (problem,) = report.problems
    assert "'Invoice import'" in problem
    assert "coalesces on no field" in problem


async def test_missing_roles_are_named(harness: Harness) -> None:
    harness.sandbox.set_roles(DEMO_USER, {"sn_spend_intg.procurement_integrator"})
    async with harness.client() as client:
        report = await client.preflight()
    assert report.roles == ["sn_spend_intg.procurement_integrator"]
    assert report.problems == [
        "the OAuth application user has no role to stage rows through the Import Set API: needs one of "
        "import_transformer, admin"
    ]
    assert any("read invoice exceptions" in warning for warning in report.warnings)  # not blocking
    harness.sandbox.set_roles(DEMO_USER, {"admin"})
    async with harness.client() as client:
        assert (await client.preflight()).ok


async def test_a_missing_optional_column_is_not_written(harness: Harness, invoice_rows: Rows) -> None:
    harness.sandbox.remove_column(INVOICE, "u_supplier_tax_id")
    posted: list[dict[str, object]] = []

    async def record(request: httpx.Request) -> None:
        if request.url.path.endswith("/insertMultiple"):
            posted.append(json.loads(request.content))

    rows = [
        StagingRow(table=r.table, source_ref=r.source_ref, values={**r.values, "u_supplier_tax_id": "GB125"})
        for r in invoice_rows(2)
    ]
    async with (
        httpx.AsyncClient(event_hooks={"request": [record]}) as http,
        harness.client(http=http) as client,
    ):
        report = await client.preflight()
        assert report.ok
        assert report.warnings == [f"{INVOICE} lacks column(s) u_supplier_tax_id: zbsn will not write them"]
        client.apply_preflight(report)
        outcomes = await client.stage(rows)
    assert {o.status for o in outcomes} == {StagingStatus.INSERTED}
    (body,) = posted
    assert all("Supplier tax id" not in record for record in body["records"])  # type: ignore[union-attr]
    assert all("External invoice number" in record for record in body["records"])  # type: ignore[union-attr]


async def test_column_keyed_insert_multiple_is_followed_once_applied(
    harness: Harness, invoice_rows: Rows
) -> None:
    harness.sandbox.set_import_mode(INVOICE, mode="async", column_mapping="name")
    async with harness.client() as client:
        report = await client.preflight()
        assert report.ok
        assert report.tables[INVOICE].insert_multiple.keyed_by == "column"
        assert report.warnings == [
            f"insertMultiple keys {INVOICE} by column (sys_rest_insert_multiple); zbsn keys that table so"
        ]
        (skipped,) = await client.stage(invoice_rows(1, prefix="LBL"))  # labels: the instance drops them
        client.apply_preflight(report)
        (inserted,) = await client.stage(invoice_rows(1, prefix="COL"))
    assert skipped.status is StagingStatus.SKIPPED
    assert inserted.status is StagingStatus.INSERTED


async def test_unreadable_metadata_is_a_warning_not_a_guess(harness: Harness) -> None:
    harness.sandbox.set_acl("sys_dictionary", {"read"})
    harness.sandbox.set_acl("sys_user_has_role", {"read"})
    async with harness.client() as client:
        report = await client.preflight()
    assert report.ok  # the maps were read; the columns could not be
    assert report.roles is None
    assert report.unreadable == {
        "sys_dictionary": "HTTP 403 Insufficient rights to query records",
        "sys_user_has_role": "HTTP 403 Insufficient rights to query records",
    }
    assert report.warnings[:2] == [
        "could not read sys_dictionary: HTTP 403 Insufficient rights to query records",
        "could not read sys_user_has_role: HTTP 403 Insufficient rights to query records",
    ]
    assert report.columns() == {}  # nothing known: staging is not restricted


async def test_labels_follow_the_instance_once_applied(harness: Harness, invoice_rows: Rows) -> None:
    wrong = {INVOICE: {"u_subtotal": "Sub-total", "u_supplier": "Vendor"}}  # what an old label map might say
    async with harness.client(labels=wrong) as client:
        report = await client.preflight()
        assert report.ok
        assert report.tables[INVOICE].label_mismatches == {
            "u_subtotal": ("Sub-total", "Subtotal"),
            "u_supplier": ("Vendor", "Supplier"),
        }
        assert any("labelled 'Supplier' on the instance (zbsn knew 'Vendor')" in w for w in report.warnings)
        (dropped,) = await client.stage(invoice_rows(1, prefix="OLD"))
        client.apply_preflight(report)
        (staged,) = await client.stage(invoice_rows(1, prefix="NEW"))
    assert dropped.status is StagingStatus.ERROR  # keyed "Vendor": the instance never saw a supplier
    assert dropped.message == "Mandatory field 'Supplier' is empty"
    assert staged.status is StagingStatus.INSERTED
