"""The mapping screen's blocked-bill counts (`EngineService.mappings`, from the failed bills' stored problems)
and the preview's (`PreviewReport.blocked_by`, from bills re-validated now) count the same (code, subject)
pairs, so after a run both say the same number for every missing mapping."""

from __future__ import annotations

from datetime import date

import sqlalchemy as sa

from zbsn.core.engine.service import EngineService

from .conftest import Sandboxes
from .harness import ClientFactories

CODES = {
    "cost_center": "UNMAPPED_COST_CENTER",
    "gl_account": "UNMAPPED_GL_ACCOUNT",
    "supplier": "UNMAPPED_SUPPLIER",
}


async def test_mappings_and_preview_count_the_same_blocked_bills(
    sqlite_engine: sa.Engine, live: Sandboxes, factories: ClientFactories, profile_id: int
) -> None:
    engine_service = EngineService(sqlite_engine, factories.zoho, factories.servicenow)
    await engine_service.run(profile_id)

    mappings = engine_service.mappings(profile_id)
    report = await engine_service.preview(profile_id, date_start=date(2000, 1, 1))  # every bill, re-validated

    compared = 0
    for kind, rows in (
        ("cost_center", mappings.cost_centers),
        ("gl_account", mappings.gl_accounts),
        ("supplier", mappings.suppliers),
    ):
        for row in rows:
            previewed = report.blocked_by.get((CODES[kind], row.zoho_name), 0)
            if row.status == "missing":
                assert row.blocked_bills == previewed, (kind, row.zoho_name)
                compared += row.blocked_bills
            else:
                assert (row.blocked_bills, previewed) == (0, 0), (kind, row.zoho_name)
    assert compared > 0
    assert {m.zoho_name for m in mappings.cost_centers if m.blocked_bills} == {
        subject for (code, subject) in report.blocked_by if code == "UNMAPPED_COST_CENTER"
    }
