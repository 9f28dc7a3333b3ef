"""An error row's message is its readable reason, never the sys_id its `sys_row_error` references."""

from __future__ import annotations

from collections.abc import Callable

import httpx
import pytest

from zbsn.core.servicenow.models import StagingRow, StagingStatus
from zbsn.core.servicenow.row_errors import NO_REASON, display_reason, is_sys_id, readable_reason

from .conftest import ERP_SOURCE, LINE, Harness

Rows = Callable[..., list[StagingRow]]
ROW_READS = "/api/now/table/sys_import_set_row"


def bad_line(number: str) -> StagingRow:
    """A line whose cost center the instance does not know."""
    return StagingRow(
        table=LINE,
        source_ref=f"line:{number}:9",
        values={
            "u_external_invoice_number": number,
            "u_erp_source": ERP_SOURCE,
            "u_erp_line_number": "9",
            "u_subtotal": "1.00",
            "u_cost_center": "CC-NOWHERE-999",
        },
    )


@pytest.mark.parametrize("comment", [True, False])
async def test_async_errors_read_as_their_reason(harness: Harness, invoice_rows: Rows, comment: bool) -> None:
    harness.sandbox.set_lifecycle(row_error_comment=comment)
    rows = [*invoice_rows(2), bad_line("INV-00000"), bad_line("INV-00001")]
    sent: list[httpx.Request] = []

    async def record(request: httpx.Request) -> None:
        sent.append(request)

    async with (
        httpx.AsyncClient(event_hooks={"request": [record]}) as http,
        harness.client(http=http) as client,
    ):
        outcomes = await client.stage(rows)
    errors = [o for o in outcomes if o.status is StagingStatus.ERROR]
    assert [o.message for o in errors] == ["Cost center 'CC-NOWHERE-999' not found"] * 2
    assert all(is_sys_id(str(o.raw["sys_row_error"])) for o in errors)  # the reference itself is kept raw
    display_reads = [
        r for r in sent if r.url.path == ROW_READS and r.url.params.get("sysparm_display_value") == "all"
    ]
    # without a comment, one more read asks both rows' reasons together, as display values
    assert len(display_reads) == (0 if comment else 1)
    if display_reads:
        query = display_reads[0].url.params["sysparm_query"]
        assert query.startswith("sys_idIN")
        assert {o.staging_sys_id for o in errors} == set(
            query.removeprefix("sys_idIN").split("^")[0].split(",")
        )


def test_the_reason_of_a_plain_row() -> None:
    reference = "0123456789abcdef0123456789abcdef"
    assert readable_reason({"sys_row_error": reference, "sys_import_state_comment": "No GL"}) == "No GL"
    assert readable_reason({"sys_row_error": reference, "sys_import_state_comment": ""}) is None
    assert readable_reason({"sys_row_error": "Old instance text"}) == "Old instance text"
    shown = {"sys_row_error": {"display_value": "Cost center X", "value": reference}}
    assert display_reason(shown) == "Cost center X"
    assert display_reason({"sys_row_error": {"display_value": reference, "value": reference}}) is None
    assert NO_REASON
    assert not is_sys_id(NO_REASON)
