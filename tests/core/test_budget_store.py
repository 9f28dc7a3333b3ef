"""The shared Zoho budget in the database: one window, in-flight count and pause per org, whoever asks.

Two stores on one database stand for two processes (each with its own holder id, as `host:pid`); on SQLite
and on PostgreSQL.
"""

from __future__ import annotations

import subprocess
import sys
import time

import pytest
import sqlalchemy as sa

from zbsn.core.budget_store import DbBudgetStore, window_use
from zbsn.core.holders import holder_id
from zbsn.core.zoho.budget_shared import DailyHeaders

ORG = "20098765432"


def two_processes(engine: sa.Engine) -> tuple[DbBudgetStore, DbBudgetStore]:
    first, second = DbBudgetStore(engine), DbBudgetStore(engine)
    second.holder = "another-host:4242"  # a process elsewhere: its leases are never judged dead from here
    return first, second


def test_two_processes_fill_one_window_together(engine: sa.Engine) -> None:
    a, b = two_processes(engine)
    leases = [a.admit_sync(ORG, 5, 10, 1.0).lease for _ in range(3)]
    leases += [b.admit_sync(ORG, 5, 10, 1.0).lease for _ in range(2)]
    assert None not in leases
    refused = a.admit_sync(ORG, 5, 10, 1.0)
    assert refused.lease is None
    assert refused.figures.used == 5
    assert refused.figures.in_flight == 5
    for lease in leases:
        assert lease is not None
        a.complete_sync(ORG, lease, 1, 1.0, None)  # completed, still in the window
    again = b.admit_sync(ORG, 5, 10, 1.0)
    assert again.lease is None
    assert 0 < again.wait_s <= 1.0  # until the oldest completion leaves the window
    time.sleep(again.wait_s + 0.05)
    assert b.admit_sync(ORG, 5, 10, 1.0).lease is not None
    use = a.uses([ORG])[ORG]
    assert (use.used, use.in_flight, use.day_count) == (1, 1, 5)
    assert window_use(use, 5) == "1/5 per 1 s"


def test_the_in_flight_cap_is_the_deployments(engine: sa.Engine) -> None:
    a, b = two_processes(engine)
    first = a.admit_sync(ORG, 100, 2, 60.0).lease
    second = b.admit_sync(ORG, 100, 2, 60.0).lease
    assert first is not None
    assert second is not None
    third = a.admit_sync(ORG, 100, 2, 60.0)
    assert third.lease is None
    assert third.figures.in_flight == 2
    b.complete_sync(ORG, second, 1, 60.0, None)
    assert a.admit_sync(ORG, 100, 2, 60.0).lease is not None


def test_a_pause_seen_by_one_process_holds_every_process(engine: sa.Engine) -> None:
    a, b = two_processes(engine)
    a.pause_sync(ORG, 0.5, "per-minute limit (code 44)")
    held = b.admit_sync(ORG, 100, 5, 60.0)
    assert held.lease is None
    assert 0 < held.figures.paused_for <= 0.5
    assert held.figures.pause_reason == "per-minute limit (code 44)"
    time.sleep(held.figures.paused_for + 0.05)
    assert b.admit_sync(ORG, 100, 5, 60.0).lease is not None


def test_the_flights_of_a_killed_process_are_freed_and_counted(engine: sa.Engine) -> None:
    gone = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True)
    dead = DbBudgetStore(engine)
    dead.holder = f"{holder_id().rpartition(':')[0]}:{int(gone.stdout)}"  # this host, process gone
    for _ in range(2):
        assert dead.admit_sync(ORG, 100, 2, 60.0).lease is not None
    live = DbBudgetStore(engine)
    admitted = live.admit_sync(ORG, 100, 2, 60.0)
    assert admitted.lease is not None  # the dead process's two flights no longer hold the cap
    assert admitted.figures.in_flight == 1
    assert admitted.figures.used == 3  # ... but they count in the window: they may have reached Zoho


def test_extra_requests_ride_their_lease_and_daily_headers_are_kept(engine: sa.Engine) -> None:
    a, _b = two_processes(engine)
    lease = a.admit_sync(ORG, 3, 1, 60.0).lease
    assert lease is not None
    extra = a.admit_sync(ORG, 3, 1, 60.0, extra_for=lease)  # the in-flight cap does not apply to it
    assert (extra.lease, extra.figures.used, extra.figures.in_flight) == (lease, 2, 1)
    figures = a.complete_sync(ORG, lease, 2, 60.0, DailyHeaders(remaining=4321, limit=5000, reset_s=600))
    assert (figures.used, figures.total, figures.remaining_today, figures.daily_limit) == (2, 2, 4321, 5000)
    a.charge([ORG, "other-org"], 1, 60.0)  # org-less requests (listing organizations), on each org listed
    uses = a.uses()
    assert (uses[ORG].used, uses["other-org"].used) == (3, 1)
    assert uses[ORG].remaining_today == 4321


@pytest.mark.parametrize("limit", [1, 3])
def test_one_window_under_contention_never_admits_more_than_the_limit(engine: sa.Engine, limit: int) -> None:
    """Eight threads ask at once, each as its own store (connection): the row lock makes admissions serial."""
    import threading

    stores = [DbBudgetStore(engine) for _ in range(8)]
    admitted: list[str] = []
    guard = threading.Lock()

    def ask(store: DbBudgetStore) -> None:
        lease = store.admit_sync(ORG, limit, 100, 60.0).lease
        if lease is not None:
            with guard:
                admitted.append(lease)

    threads = [threading.Thread(target=ask, args=(store,)) for store in stores]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert len(admitted) == limit
