"""Every profile at a glance (`zbsn.core.profile_status`, `zbsn status`): last run, failures, token states,
ServiceNow status counts."""

from __future__ import annotations

import asyncio
import json

import sqlalchemy as sa
from typer.testing import CliRunner

from tests.core.audit_seed import T0, _table, seed_audit, seed_servicenow_statuses
from zbsn.core.budget_store import DbBudgetStore
from zbsn.core.cli.main import app
from zbsn.core.db.models import AuditRecord, RunLock, SyncProfile
from zbsn.core.profile_activity import PROFILE_LOCK_PREFIX, QUEUE, queued_jobs
from zbsn.core.profile_status import profile_statuses
from zbsn.core.services import open_services
from zbsn.core.settings import Settings

runner = CliRunner()


def test_statuses_group_every_profile_in_two_queries(engine: sa.Engine) -> None:
    seeded = seed_audit(engine, records=50, runs=3, failed_every=5)
    services = open_services(Settings(), engine)
    statements: list[str] = []

    def record(_conn: object, _cursor: object, statement: str, *_: object) -> None:
        statements.append(statement)

    sa.event.listen(engine, "before_cursor_execute", record)
    try:
        [status] = profile_statuses(services.workspace)
    finally:
        sa.event.remove(engine, "before_cursor_execute", record)
    assert status.profile.id == seeded.profile_id
    assert status.last_run is not None
    assert status.last_run.run_id == max(seeded.run_ids)
    assert status.failed_records == 10  # every 5th of 50
    assert sum(status.records.values()) == 50
    # the seed marks both connections connected, but its Zoho row holds no refresh token
    assert status.tokens == {"zoho": "not connected", "servicenow": "ok"}
    assert status.needs_attention
    audit_reads = [s for s in statements if "audit_record" in s]
    assert len(audit_reads) == 1  # grouped, not one query per profile


def second_profile(engine: sa.Engine, first_id: int, sn_statuses: list[str | None]) -> int:
    """Another profile on the first one's connections, with one staged bill per ServiceNow status given."""
    profiles, records = _table(SyncProfile), _table(AuditRecord)
    with engine.begin() as conn:
        first = conn.execute(sa.select(profiles).where(profiles.c.id == first_id)).mappings().one()
        values = {k: v for k, v in first.items() if k != "id"} | {"name": "Northwind EU"}
        profile_id = int(conn.execute(sa.insert(profiles).values(**values)).inserted_primary_key[0])
        conn.execute(
            sa.insert(records),
            [
                {
                    "profile_id": profile_id,
                    "kind": "bill",
                    "zoho_id": f"77{n:05d}",
                    "external_key": f"ZB-20061234-bill-77{n:05d}",
                    "status": "staged",
                    "sn_status": sn_status,
                    "created_at": T0,
                    "updated_at": T0,
                }
                for n, sn_status in enumerate(sn_statuses)
            ],
        )
    return profile_id


def test_servicenow_status_counts_per_profile_in_the_same_grouped_query(engine: sa.Engine) -> None:
    seeded = seed_audit(engine, records=50, runs=2, failed_every=5)
    assert (
        seed_servicenow_statuses(engine, seeded.profile_id) == 20
    )  # the staged bills, through the lifecycle
    eu = second_profile(engine, seeded.profile_id, ["paid", "paid", "posting_failed", None, "canceled"])
    services = open_services(Settings(), engine)
    statements: list[str] = []

    def record(_conn: object, _cursor: object, statement: str, *_: object) -> None:
        statements.append(statement)

    sa.event.listen(engine, "before_cursor_execute", record)
    try:
        first, second = profile_statuses(services.workspace)
    finally:
        sa.event.remove(engine, "before_cursor_execute", record)
    assert len([s for s in statements if "audit_record" in s]) == 1  # both counts, all profiles, one query
    assert first.profile.id == seeded.profile_id
    assert second.profile.id == eu
    assert first.servicenow == {
        "pending_approval": 4,
        "exceptions_found": 4,
        "posted": 3,
        "paid": 3,
        "approved": 3,
        "draft": 3,
    }
    assert [name for name, _n in first.servicenow_counts] == [
        "draft",
        "exceptions_found",
        "pending_approval",
        "approved",
        "posted",
        "paid",
    ]  # the lifecycle's order
    assert first.servicenow_waiting == 4
    assert first.failed_records == 10  # the staging counts as before
    assert sum(first.records.values()) == 50
    assert second.servicenow_counts == [("posting_failed", 1), ("paid", 2), ("canceled", 1)]
    assert second.servicenow_waiting == 1
    assert second.records == {"staged": 5}
    assert second.failed_records == 0


def test_zbsn_status_json_and_exit_code(sqlite_engine: sa.Engine) -> None:
    seeded = seed_audit(sqlite_engine, records=20, runs=1)
    seed_servicenow_statuses(sqlite_engine, seeded.profile_id)
    url = sqlite_engine.url.render_as_string(hide_password=False)
    result = runner.invoke(app, ["--db", url, "status", "--json"])
    assert result.exit_code == 1, result.output  # failed records: needs attention
    [profile] = json.loads(result.stdout)
    assert profile["failed_records"] == 4
    assert profile["last_run"]["status"] == "completed_with_failures"
    assert profile["needs_attention"] is True
    assert "secret" not in result.stdout.lower()
    assert list(profile["servicenow_statuses"].items()) == [
        ("draft", 1),
        ("exceptions_found", 2),
        ("pending_approval", 2),
        ("approved", 1),
        ("posted", 1),
        ("paid", 1),
    ]
    assert profile["servicenow_waiting"] == 2

    text = runner.invoke(app, ["--db", url, "status"])
    assert text.exit_code == 1
    assert (
        "4 failed records; ServiceNow 1 draft, 2 exceptions found, 2 pending approval, 1 approved, 1 posted, "
        "1 paid; zoho not connected" in text.stdout
    )


def test_a_profile_at_work_shows_its_state_queued_jobs_and_the_orgs_shared_budget(engine: sa.Engine) -> None:
    """The all-profiles view's live columns: a run holding the lock, jobs waiting (PostgreSQL), and the Zoho
    requests every process of the deployment sent in the org's window."""
    seeded = seed_audit(engine, records=5, runs=1)
    services = open_services(Settings(), engine)
    [idle] = profile_statuses(services.workspace)
    assert (idle.state, idle.queued, idle.budget) == ("idle", 0, None)
    org = idle.profile.organization_id
    assert org is not None

    store = DbBudgetStore(engine)
    for _ in range(7):  # seven requests of some process of the deployment, two of them still in flight
        admission = store.admit_sync(org, limit=100, concurrency=10, window_s=60.0)
        assert admission.lease is not None
        if _ < 5:
            store.complete_sync(org, admission.lease, 1, 60.0, None)
    with engine.begin() as conn:
        conn.execute(
            sa.insert(_table(RunLock)).values(
                profile_id=seeded.profile_id,
                run_id=max(seeded.run_ids),
                holder="elsewhere:1",
                acquired_at=T0,
                heartbeat_at=T0,
            )
        )
    queued = 0
    if engine.dialect.name == "postgresql":
        from zbsn.core.jobs.queue import JobQueue, with_queue

        async def body(queue: JobQueue) -> None:
            assert await queue.sync(seeded.profile_id) is not None
            assert await queue.replay(seeded.profile_id) is not None

        asyncio.run(with_queue(services.job_app(), body))
        queued = 2

    [busy] = profile_statuses(services.workspace)
    assert busy.state == "running"
    assert busy.queued == queued
    assert busy.budget is not None
    assert (busy.budget.used, busy.budget.in_flight) == (7, 2)  # in flight counts against the window
    assert busy.budget.day_count == 5

    url = engine.url.render_as_string(hide_password=False)
    result = runner.invoke(app, ["--db", url, "status", "--json"])
    [profile] = json.loads(result.stdout)
    assert profile["state"] == "running"
    assert profile["queued_jobs"] == queued
    assert profile["zoho_budget"]["used"] == 7
    assert profile["zoho_budget"]["limit"] == 100
    assert profile["zoho_budget"]["in_flight"] == 2
    text = runner.invoke(app, ["--db", url, "status"])
    assert "running" in text.stdout
    assert "Zoho 7/100 per min" in text.stdout


def test_queued_jobs_count_only_where_there_is_a_job_queue(sqlite_engine: sa.Engine) -> None:
    seed_audit(sqlite_engine, records=1, runs=1)
    assert queued_jobs(sqlite_engine) == {}


def test_the_activity_module_names_what_the_job_queue_uses() -> None:
    """`profile_activity` repeats `jobs.queue`'s names (it must not import procrastinate): they agree."""
    from zbsn.core.jobs import queue

    assert queue.QUEUE == QUEUE
    assert queue.profile_lock(42) == f"{PROFILE_LOCK_PREFIX}42"
