"""Paging, filtering, bounded counts, detail and failed ids over the audit log, on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from zbsn.core import audit_query as aq
from zbsn.core.audit_query import AuditFilter

from .audit_seed import seed_audit


@pytest.fixture
def seeded(engine: sa.Engine) -> aq.AuditFilter:
    seed_audit(engine, records=30, runs=2, failed_every=5)
    return AuditFilter()


def _walk(engine: sa.Engine, flt: AuditFilter, limit: int) -> list[aq.AuditRow]:
    rows: list[aq.AuditRow] = []
    cursor = None
    while True:
        current = aq.page(engine, flt, limit=limit, after=cursor)
        rows.extend(current.rows)
        if current.next_cursor is None:
            return rows
        cursor = current.next_cursor


def test_first_page_is_newest_first_with_a_next_cursor(engine: sa.Engine, seeded: AuditFilter) -> None:
    first = aq.page(engine, seeded, limit=10)
    assert [r.zoho_number for r in first.rows][:2] == ["BILL-00000", "BILL-00001"]
    assert first.is_first
    assert not first.is_last
    assert [r.cursor for r in first.rows] == sorted((r.cursor for r in first.rows), reverse=True)


def test_walking_forward_visits_every_row_once(engine: sa.Engine, seeded: AuditFilter) -> None:
    rows = _walk(engine, seeded, limit=7)
    assert len(rows) == 30
    assert len({r.id for r in rows}) == 30


def test_previous_page_returns_the_page_before(engine: sa.Engine, seeded: AuditFilter) -> None:
    first = aq.page(engine, seeded, limit=10)
    second = aq.page(engine, seeded, limit=10, after=first.next_cursor)
    back = aq.page(engine, seeded, limit=10, before=second.prev_cursor)
    assert [r.id for r in back.rows] == [r.id for r in first.rows]
    assert back.is_first


def test_last_page_has_no_next_cursor(engine: sa.Engine, seeded: AuditFilter) -> None:
    first = aq.page(engine, seeded, limit=20)
    last = aq.page(engine, seeded, limit=20, after=first.next_cursor)
    assert len(last.rows) == 10
    assert last.is_last
    assert not last.is_first


def test_status_filter_merges_kinds_in_page_order(engine: sa.Engine, seeded: AuditFilter) -> None:
    rows = _walk(engine, AuditFilter(status="failed"), limit=4)
    assert len(rows) == 6
    assert {r.status for r in rows} == {"failed"}
    assert {r.kind for r in rows} == {"bill", "payment", "supplier"}
    assert [r.cursor for r in rows] == sorted((r.cursor for r in rows), reverse=True)


def test_kind_filter_spreads_over_statuses(engine: sa.Engine, seeded: AuditFilter) -> None:
    rows = _walk(engine, AuditFilter(kind="payment"), limit=3)
    assert len(rows) == 7
    assert {r.kind for r in rows} == {"payment"}


def test_run_and_period_filters(engine: sa.Engine, seeded: AuditFilter) -> None:
    run_ids = sorted({r.run_id for r in _walk(engine, seeded, 100)})
    in_run = _walk(engine, AuditFilter(run_id=run_ids[0]), 100)
    assert len(in_run) == 15
    assert {r.run_id for r in in_run} == {run_ids[0]}
    march = _walk(engine, AuditFilter(period_from="2025-03-20", period_to="2025-03-28"), 100)
    assert sorted(r.doc_date or "" for r in march) == [f"2025-03-{d:02d}" for d in range(20, 29)]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("BILL-0001", 4),  # number prefix: 00010, 00015, 00020 … only bills
        ("bill-0001", 4),  # typed in lower case
        ("acme", 6),  # vendor name, any case
        ("ZB-20099-payment", 7),  # external key
        ("46000000000002", 1),  # Zoho id
        ("nothing-like-this", 0),
    ],
)
def test_free_text_is_a_case_tolerant_prefix_match(
    engine: sa.Engine, seeded: AuditFilter, text: str, expected: int
) -> None:
    rows = _walk(engine, AuditFilter(text=text), 100)
    assert len(rows) == expected
    assert aq.count(engine, AuditFilter(text=text)).value == expected


def test_count_is_bounded(engine: sa.Engine, seeded: AuditFilter) -> None:
    assert aq.count(engine, seeded) == aq.BoundedCount(30, exact=True)
    capped = aq.count(engine, seeded, cap=10)
    assert capped == aq.BoundedCount(10, exact=False)
    assert str(capped) == "10+"
    assert str(aq.count(engine, AuditFilter(status="failed"))) == "6"
    assert aq.status_counts(engine, seeded)["staged"].value == 24


def test_failed_ids_ignore_the_filters_status(engine: sa.Engine, seeded: AuditFilter) -> None:
    ids = aq.failed_ids(engine, AuditFilter(status="staged", kind="bill"))
    rows = aq.rows_by_ids(engine, ids)
    assert len(ids) == 4
    assert {r.status for r in rows.values()} == {"failed"}
    assert (
        aq.failed_ids(engine, AuditFilter(), limit=2)
        == [r.id for r in _walk(engine, AuditFilter(status="failed"), 2)][:2]
    )


def test_detail_has_payloads_and_attempts(engine: sa.Engine, seeded: AuditFilter) -> None:
    failed = aq.page(engine, AuditFilter(status="failed"), limit=1).rows[0]
    found = aq.detail(engine, failed.id)
    assert found is not None
    assert found.source_payload["bill_number"] == failed.zoho_number
    assert [a.attempt_no for a in found.attempts] == [1, 2]
    assert found.row.error_code == "UNMAPPED_COST_CENTER"
    assert aq.detail(engine, 10**9) is None


def test_recent_runs_newest_first(engine: sa.Engine, seeded: AuditFilter) -> None:
    runs = aq.recent_runs(engine)
    assert len(runs) == 2
    assert runs[0].started_at > runs[1].started_at


def test_empty_log_gives_an_empty_first_and_last_page(engine: sa.Engine) -> None:
    empty = aq.page(engine, AuditFilter())
    assert empty.rows == ()
    assert empty.is_first
    assert empty.is_last


def test_filter_describes_itself() -> None:
    flt = AuditFilter(status="failed", kind="bill", run_id=3, text="acme")
    assert flt.describe() == "failed bills in run 3 containing “acme”"
    assert AuditFilter(text="ac").describe().endswith("starting with “ac”")


def test_prefix_upper_bound() -> None:
    assert aq._prefix_upper_bound("ab") == "ac"
    assert aq._prefix_upper_bound("") is None
