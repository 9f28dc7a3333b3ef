"""The job queue on PostgreSQL: queued syncs, one job per profile at a time, schedules, webhooks through
`zbsn serve` into a worker. Workers run in the test's loop against `zbsn sandbox` in its own process."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from datetime import timedelta

import httpx
import pytest
import sqlalchemy as sa
from sqlmodel import col, select

from tests.conftest import POSTGRES_URL, _fresh_postgres_database
from tests.external_sandbox import ExternalSandbox
from zbsn.core.db.engine import session_scope
from zbsn.core.db.models import Schedule, SyncRun, WebhookEvent
from zbsn.core.domain import InboxStatus, RunStatus, RunTrigger
from zbsn.core.jobs.queue import JobQueue, profile_lock, with_queue
from zbsn.core.jobs.worker import run_worker
from zbsn.core.services import Services, open_services
from zbsn.core.settings import Settings
from zbsn.core.webhooks import SIGNATURE_HEADER, compute_signature
from zbsn.sandbox.company_generator import generate_company

pytestmark = pytest.mark.postgres
SECRET = "jobs-webhook-secret-0123456789"
DONE = (RunStatus.SUCCEEDED, RunStatus.COMPLETED_WITH_FAILURES)


@dataclass
class Deployment:
    services: Services
    profile_id: int
    sandbox: ExternalSandbox


@pytest.fixture
def deployment(external_sandbox: ExternalSandbox) -> Iterator[Deployment]:
    if not POSTGRES_URL:
        pytest.skip("no PostgreSQL server: set ZBSN_TEST_POSTGRES_URL")
    external_sandbox.reset()
    window = float(external_sandbox.info["window_seconds"])
    settings = Settings(
        zoho={"window_seconds": window},  # type: ignore[arg-type]
        jobs={"tick_seconds": 1, "heartbeat_seconds": 1, "stalled_after_seconds": 5},  # type: ignore[arg-type]
        webhook={"secret": SECRET, "port": 0},  # type: ignore[arg-type]
    )
    for url in _fresh_postgres_database():
        profile_id = external_sandbox.connect_profile(url)
        services = open_services(settings, url)
        assert services.jobs_enabled
        yield Deployment(services, profile_id, external_sandbox)
        services.close()


@pytest.fixture
async def workers(deployment: Deployment) -> AsyncIterator[int]:
    """Two workers (as two hosts would run them), stopped gracefully after the test."""
    stop = asyncio.Event()
    tasks = [asyncio.create_task(run_worker(deployment.services, stop)) for _ in range(2)]
    yield len(tasks)
    stop.set()
    await asyncio.wait_for(asyncio.gather(*tasks), 60)


def runs(db: sa.Engine) -> list[SyncRun]:
    with session_scope(db) as session:
        return list(session.exec(select(SyncRun).order_by(col(SyncRun.id))))


async def wait_for_runs(db: sa.Engine, count: int, timeout_s: float = 120.0) -> list[SyncRun]:
    for _ in range(int(timeout_s * 10)):
        done = [r for r in runs(db) if r.status != RunStatus.RUNNING]
        if len(done) >= count:
            return done
        await asyncio.sleep(0.1)
    raise AssertionError(f"{count} run(s) expected, found {runs(db)}")


async def test_a_sync_is_queued_once_and_run_by_one_worker(deployment: Deployment) -> None:
    """Enqueued before the workers start, so the first job is surely still waiting when the second comes
    (a worker may take a job at once: then a second may wait beside the one running, by design)."""
    services, profile = deployment.services, deployment.profile_id

    async def enqueue(queue: JobQueue) -> list[int | None]:
        return [await queue.sync(profile), await queue.sync(profile)]

    first, second = await with_queue(services.job_app(), enqueue)
    assert first is not None
    assert second is None  # already waiting: its queueing lock
    stop = asyncio.Event()
    tasks = [asyncio.create_task(run_worker(services, stop)) for _ in range(2)]  # two hosts' workers
    try:
        [run] = await wait_for_runs(services.db, 1)
        assert run.status in DONE, run.message
        assert run.trigger == RunTrigger.MANUAL
        await asyncio.sleep(1.5)  # nothing else was queued: still one run
        assert len(runs(services.db)) == 1
    finally:
        stop.set()
        await asyncio.wait_for(asyncio.gather(*tasks), 60)


async def test_the_jobs_of_one_profile_never_overlap(deployment: Deployment, workers: int) -> None:
    services, profile = deployment.services, deployment.profile_id

    async def enqueue(queue: JobQueue) -> list[int | None]:
        return [await queue.sync(profile, "full"), await queue.replay(profile)]

    ids = await with_queue(services.job_app(), enqueue)
    with services.db.connect() as conn:
        locks = conn.execute(
            sa.text("SELECT lock FROM procrastinate_jobs WHERE id = ANY(:ids)"), {"ids": ids}
        ).scalars()
        assert set(locks) == {profile_lock(profile)}
    sync, replay = await wait_for_runs(services.db, 2)
    assert (sync.trigger, replay.trigger) == (RunTrigger.MANUAL, RunTrigger.REPLAY)
    assert sync.status in DONE, sync.message
    assert replay.status in DONE, replay.message
    assert sync.finished_at is not None
    assert replay.started_at >= sync.finished_at  # two idle workers, yet one after the other


async def test_a_due_schedule_becomes_a_job(deployment: Deployment, workers: int) -> None:
    services, profile = deployment.services, deployment.profile_id
    view = services.schedules.add(profile, "0 6 * * *")
    with session_scope(services.db) as session:
        row = session.get(Schedule, view.id)
        assert row is not None
        row.next_run_at = services.workspace.clock.now() - timedelta(seconds=1)  # due now
    [run] = await wait_for_runs(services.db, 1)
    assert run.trigger == RunTrigger.SCHEDULE
    assert run.status in DONE, run.message
    assert services.schedules.get(view.id).next_run_at > services.workspace.clock.now()  # moved on, once


async def test_serve_only_enqueues_and_a_worker_processes_the_event(
    deployment: Deployment, workers: int
) -> None:
    services, profile = deployment.services, deployment.profile_id
    runtime = services.serve_runtime(port=0)
    assert runtime.job_app is not None
    assert runtime.scheduler is None  # the workers run the schedules
    serving = asyncio.create_task(runtime.serve())
    await runtime.wait_started()
    bill_id = generate_company(7, 80).bills[0].bill_id  # the external sandbox's company (80 bills, seed 7)
    body = json.dumps({"bill": {"bill_id": bill_id}}).encode()
    params = [("event", "bill.edited")]
    async with httpx.AsyncClient() as http:
        response = await http.post(
            f"{runtime.url}/zoho/webhook/{profile}",
            params=params,
            content=body,
            headers={SIGNATURE_HEADER: compute_signature(SECRET, params, body)},
        )
    assert response.status_code == 200, response.text
    event_id = response.json()["event_id"]
    for _ in range(600):
        with session_scope(services.db) as session:
            event = session.get(WebhookEvent, event_id)
            assert event is not None
            if event.status != InboxStatus.NEW:
                break
        await asyncio.sleep(0.1)
    assert event.status == InboxStatus.PROCESSED, event.error
    [run] = await wait_for_runs(services.db, 1)
    assert run.trigger == RunTrigger.WEBHOOK
    runtime.request_stop()
    await asyncio.wait_for(serving, 30)
