"""Preview over real sockets: a bill Zoho cannot serve is that bill's problem, and "changed" means what a run
would read (the same cursor and the same "unchanged" rule)."""

from __future__ import annotations

from typing import Any

import pytest
import sqlalchemy as sa

from zbsn.core.engine.problems import ErrorCode
from zbsn.core.engine.service import EngineService
from zbsn.core.zoho.models import RecordError
from zbsn.sandbox.zoho import render
from zbsn.sandbox.zoho.state import NotFound

from .conftest import Sandboxes, company
from .expectations import Expected
from .harness import ClientFactories


def _detail_refused(victims: dict[str, Exception]) -> Any:
    """The sandbox's bill detail, raising for the chosen bills (NotFound is answered 404 code 1002)."""
    original = render.bill_detail

    def detail(state: Any, bill: Any, **kw: Any) -> dict[str, Any]:
        if bill.bill_id in victims:
            raise victims[bill.bill_id]
        return original(state, bill, **kw)

    return detail


async def test_a_bill_deleted_while_the_preview_reads_it_is_that_bills_problem(
    sqlite_engine: sa.Engine,
    live: Sandboxes,
    factories: ClientFactories,
    profile_id: int,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    expected = Expected(company())
    deleted, failing = expected.good_bills[0].bill_id, expected.good_bills[1].bill_id
    victims = {deleted: NotFound("Bill"), failing: RuntimeError("the sandbox cannot render this bill")}
    monkeypatch.setattr(render, "bill_detail", _detail_refused(victims))

    report = await EngineService(sqlite_engine, factories.zoho, factories.servicenow).preview(profile_id)

    by_id = {item.bill_id: item for item in report.items}
    assert len(by_id) == len(expected.company.bills)  # every bill shown: nothing aborted the preview
    assert by_id[deleted].outcome == "unreadable"
    assert [p.code for p in by_id[deleted].problems] == [ErrorCode.NOT_FOUND]
    assert "deleted" in by_id[deleted].problems[0].message
    assert by_id[failing].outcome == "unreadable"
    assert [p.code for p in by_id[failing].problems] == [ErrorCode.SOURCE_UNAVAILABLE]
    assert report.counts["ready"] == len(expected.good_bills) - 2
    listed = await _listed_ids(factories)
    assert [i.bill_id for i in report.items if i.bill_id in set(listed)] == listed  # in list order


async def _listed_ids(factories: ClientFactories) -> list[str]:
    """The bill ids in the order Zoho lists them (the preview keeps that order)."""
    zoho = factories.zoho(None)  # type: ignore[arg-type]  # the harness's factory ignores the profile
    try:
        return [s.bill_id async for s in zoho.iter_bills() if not isinstance(s, RecordError)]
    finally:
        await zoho.aclose()


async def test_after_a_run_the_changed_preview_shows_nothing_and_counts_the_run_unchanged(
    sqlite_engine: sa.Engine, live: Sandboxes, factories: ClientFactories, profile_id: int
) -> None:
    engine_service = EngineService(sqlite_engine, factories.zoho, factories.servicenow)
    await engine_service.run(profile_id)
    before = live.zoho.counters()["api"]["by_endpoint"].get("GET /bills/{bill_id}", 0)

    report = await engine_service.preview(profile_id)

    after = live.zoho.counters()["api"]["by_endpoint"].get("GET /bills/{bill_id}", 0)
    assert report.items == []
    assert report.unchanged >= 1  # the bills of the overlap window, listed again, as a run would
    assert after == before  # no detail asked for an unchanged bill
