"""One run per profile at a time: the `run_lock` row is the lock, kept alive by a heartbeat.

A lock whose holder is dead (same host, process gone) or whose heartbeat is older than `stale_after_s` is
taken over; the run that held it is marked `interrupted`. Taking a lock is a compare-and-swap on the row, so
two runs racing for it cannot both win.
"""

from __future__ import annotations

import os
import socket
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlmodel import col, update

from zbsn.core.db.engine import session_scope
from zbsn.core.db.models import RunLock, RunStatus, SyncRun

DEFAULT_STALE_AFTER_S = 90.0


class RunLocked(Exception):
    """Another run holds the profile's lock."""

    def __init__(self, profile_id: int, holder: str, run_id: int | None) -> None:
        super().__init__(f"profile {profile_id} is already running (run {run_id} held by {holder})")
        self.profile_id = profile_id
        self.holder = holder
        self.run_id = run_id


def holder_id() -> str:
    """This process as a lock holder: `host:pid`."""
    return f"{socket.gethostname()}:{os.getpid()}"


def _holder_is_dead(holder: str) -> bool:
    host, _, pid_text = holder.rpartition(":")
    if host != socket.gethostname() or not pid_text.isdigit():
        return False
    pid = int(pid_text)
    if pid == os.getpid():
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False


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
    """Insert `run` and take the profile's lock in one transaction; raise RunLocked when it is held."""
    holder = holder_id()
    try:
        with session_scope(engine) as session:
            current = session.get(RunLock, profile_id)
            taken_over: int | None = None
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
                if not (stale or _holder_is_dead(current.holder)):
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
                        session.add(old)
            return Lease(profile_id, run.id, holder, taken_over)
    except IntegrityError as exc:  # another run inserted the lock row first
        raise RunLocked(profile_id, "another process", None) from exc


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


def release(engine: sa.Engine, lease: Lease) -> None:
    """Drop the lock if this run still holds it."""
    with session_scope(engine) as session:
        session.execute(
            sa.delete(RunLock).where(
                col(RunLock.profile_id) == lease.profile_id, col(RunLock.run_id) == lease.run_id
            )
        )
