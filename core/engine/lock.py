"""One run per profile at a time: the `run_lock` row is the lock, kept alive by a heartbeat.

A lock whose holder is dead (same host, process gone) or whose heartbeat is older than `stale_after_s` is
taken over; the run that held it is marked `interrupted`. Taking a lock is a compare-and-swap on the row, so
two runs racing for it cannot both win.

A run that ends while the database is unreachable cannot delete its lock row: `release` then remembers, in
this process, that the run gave the lock up (with the outcome the run could not record). The next run of
this process takes such a lock over at once, without waiting for it to go stale, and records that outcome
on the old run's row.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlmodel import col, update

from zbsn.core.db.engine import session_scope
from zbsn.core.db.models import RunLock, SyncRun
from zbsn.core.db.transient import retried, with_retries
from zbsn.core.domain import RunStatus
from zbsn.core.holders import holder_id, holder_is_dead

DEFAULT_STALE_AFTER_S = 90.0

# (profile_id, run_id) -> (status, message): locks this process gave up but could not delete (database down)
_given_up: dict[tuple[int, int], tuple[str, str]] = {}
_given_up_guard = threading.Lock()


class RunLocked(Exception):
    """Another run holds the profile's lock."""

    def __init__(self, profile_id: int, holder: str, run_id: int | None) -> None:
        super().__init__(f"profile {profile_id} is already running (run {run_id} held by {holder})")
        self.profile_id = profile_id
        self.holder = holder
        self.run_id = run_id


@dataclass(frozen=True, slots=True)
class Lease:
    """A held lock: release it, or beat it to keep it."""

    profile_id: int
    run_id: int
    holder: str
    taken_over_run: int | None = None


def acquire(
    engine: sa.Engine,
    profile_id: int,
    run: SyncRun,
    now: datetime,
    stale_after_s: float = DEFAULT_STALE_AFTER_S,
) -> Lease:
    """Insert `run` (a copy of it) and take the profile's lock in one transaction; raise RunLocked when it
    is held. The transaction is run again after a transient database error (`db.transient`)."""
    holder = holder_id()
    fields = run.model_dump(exclude={"id"})
    try:
        lease = with_retries(engine, _acquire_once, engine, profile_id, fields, now, stale_after_s, holder)
    except IntegrityError as exc:  # another run inserted the lock row first
        raise RunLocked(profile_id, "another process", None) from exc
    if lease.taken_over_run is not None:
        with _given_up_guard:
            _given_up.pop((profile_id, lease.taken_over_run), None)
    return lease


def _acquire_once(
    engine: sa.Engine,
    profile_id: int,
    fields: dict[str, object],
    now: datetime,
    stale_after_s: float,
    holder: str,
) -> Lease:
    with session_scope(engine) as session:
        current = session.get(RunLock, profile_id)
        taken_over: int | None = None
        run = SyncRun.model_validate(fields)
        session.add(run)
        session.flush()
        assert run.id is not None
        if current is None:
            session.add(
                RunLock(
                    profile_id=profile_id, run_id=run.id, holder=holder, acquired_at=now, heartbeat_at=now
                )
            )
        else:
            old_holder, old_run = current.holder, current.run_id  # the update below refreshes `current`
            stale = current.heartbeat_at < now - timedelta(seconds=stale_after_s)
            with _given_up_guard:
                given_up = current.holder == holder and current.run_id is not None
                outcome = _given_up.get((profile_id, current.run_id or 0)) if given_up else None
            if not (stale or outcome is not None or holder_is_dead(current.holder)):
                raise RunLocked(profile_id, current.holder, current.run_id)
            swapped = session.execute(
                update(RunLock)
                .where(
                    col(RunLock.profile_id) == profile_id,
                    col(RunLock.holder) == current.holder,
                    col(RunLock.run_id) == current.run_id,
                )
                .values(run_id=run.id, holder=holder, acquired_at=now, heartbeat_at=now)
            )
            if swapped.rowcount != 1:  # type: ignore[attr-defined]
                raise RunLocked(profile_id, current.holder, current.run_id)
            taken_over = old_run
            if taken_over is not None:
                old = session.get(SyncRun, taken_over)
                if old is not None and old.status == RunStatus.RUNNING:
                    old.status, old.finished_at = RunStatus.INTERRUPTED, now
                    old.message = f"interrupted: its process ({old_holder}) stopped without finishing"
                    if outcome is not None:  # this process ended it but could not record how
                        old.status, old.message = outcome
                    session.add(old)
        return Lease(profile_id, run.id, holder, taken_over)


@retried
def heartbeat(engine: sa.Engine, lease: Lease, now: datetime) -> bool:
    """Refresh the lock's heartbeat (and the run's); False when the lock was lost to another run."""
    with session_scope(engine) as session:
        result = session.execute(
            update(RunLock)
            .where(col(RunLock.profile_id) == lease.profile_id, col(RunLock.run_id) == lease.run_id)
            .values(heartbeat_at=now)
        )
        session.execute(update(SyncRun).where(col(SyncRun.id) == lease.run_id).values(heartbeat_at=now))
        return bool(result.rowcount == 1)  # type: ignore[attr-defined]


def release(engine: sa.Engine, lease: Lease, outcome: tuple[str, str] | None = None) -> bool:
    """Drop the lock if this run still holds it; False when the database could not be reached.

    Then the lock is given up in this process only: the next run here takes it over at once and records
    `outcome` (status, message) on this run's row, which the run could not write itself.
    """
    try:
        with_retries(engine, _delete_lock, engine, lease)
    except DBAPIError:
        with _given_up_guard:
            _given_up[(lease.profile_id, lease.run_id)] = outcome or (
                RunStatus.INTERRUPTED,
                "interrupted: the database was unreachable when the run ended",
            )
        return False
    return True


def _delete_lock(engine: sa.Engine, lease: Lease) -> None:
    with session_scope(engine) as session:
        session.execute(
            sa.delete(RunLock).where(
                col(RunLock.profile_id) == lease.profile_id, col(RunLock.run_id) == lease.run_id
            )
        )
