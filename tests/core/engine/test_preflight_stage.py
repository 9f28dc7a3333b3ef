"""The pre-flight before every run, over real sockets: an instance missing a column or a transform map refuses
the run with one line naming it, before anything is staged (no polling); a missing optional column is simply
not written."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import sqlalchemy as sa

from zbsn.core.db.models import SyncProfile
from zbsn.core.domain import RunStatus
from zbsn.core.engine.service import EngineService
from zbsn.core.servicenow.client import ServiceNowClient

from .conftest import Sandboxes
from .harness import ClientFactories

INVOICE = "sn_spend_intg_imp_invoice"
LINE = "sn_spend_intg_imp_invoice_line"


@pytest.fixture
def instance(live: Sandboxes) -> Iterator[Sandboxes]:
    """The sandboxes; the instance's metadata is restored afterwards (the module's sandbox keeps config)."""
    yield live
    for table, columns in list(live.servicenow.config.removed_columns.items()):
        for column in list(columns):
            live.servicenow.restore_column(table, column)
    for table in list(live.servicenow.config.removed_transform_maps):
        live.servicenow.restore_transform_map(table)


def staging_requests(live: Sandboxes) -> int:
    paths = live.servicenow.counters_snapshot()["requests_by_path"]
    return sum(n for path, n in paths.items() if "/import/" in path or path.endswith("sys_import_set_row"))


@pytest.mark.parametrize(
    ("remove", "named"),
    [
        (("column", INVOICE, "u_supplier"), f"{INVOICE} lacks column(s) zbsn needs: u_supplier"),
        (
            ("map", LINE, None),
            f"no active transform map reads {LINE}: staged rows would stay pending "
            "(create or activate its map)",
        ),
    ],
)
async def test_a_blocked_instance_fails_the_run_with_one_line_before_staging(
    sqlite_engine: sa.Engine,
    instance: Sandboxes,
    factories: ClientFactories,
    profile_id: int,
    remove: tuple[str, str, str | None],
    named: str,
) -> None:
    what, table, column = remove
    if what == "column":
        instance.servicenow.remove_column(table, column or "")
    else:
        instance.servicenow.remove_transform_map(table)
    before = staging_requests(instance)

    summary = await EngineService(sqlite_engine, factories.zoho, factories.servicenow).run(profile_id)

    assert summary.status == RunStatus.FAILED
    assert summary.message == f"ServiceNow is not ready for staging: {named}"
    assert "\n" not in summary.message
    assert summary.staged == summary.failed == 0
    assert staging_requests(instance) == before  # nothing staged, nothing polled
    assert instance.servicenow.table("sn_shop_invoice") == []
    assert summary.servicenow_requests <= 2  # a token and the one pre-flight request


async def test_a_missing_optional_column_is_not_written(
    sqlite_engine: sa.Engine, instance: Sandboxes, factories: ClientFactories, profile_id: int
) -> None:
    instance.servicenow.remove_column(INVOICE, "u_supplier_tax_id")
    sent: list[dict[str, Any]] = []

    async def capture(request: httpx.Request) -> None:
        if request.method == "POST" and f"/api/now/import/{INVOICE}/" in request.url.path:
            sent.extend(json.loads(request.content).get("records", []))

    def servicenow(profile: SyncProfile) -> ServiceNowClient:
        client = factories.servicenow(profile)
        client._http.event_hooks["request"].append(capture)
        return client

    summary = await EngineService(sqlite_engine, factories.zoho, servicenow).run(profile_id)

    assert summary.status == RunStatus.COMPLETED_WITH_FAILURES
    assert summary.staged > 0
    assert len(sent) >= summary.staged // 2  # the headers, keyed by label
    assert all("Supplier invoice number" in record for record in sent)
    assert not any("Supplier tax id" in record or "u_supplier_tax_id" in record for record in sent)
