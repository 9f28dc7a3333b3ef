"""What is happening to each profile now: a run holding its lock, jobs of it waiting in the queue.

Read for the all-profiles view and `zbsn status` in two grouped queries. Queued jobs exist only where the
deployment runs procrastinate (PostgreSQL with `zbsn worker`); elsewhere nothing is ever queued.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlmodel import select

from zbsn.core.db.engine import session_scope
from zbsn.core.db.models import RunLock

# `jobs.queue`'s names, repeated: that module imports procrastinate, which SQLite deployments lack
JOBS_TABLE = "procrastinate_jobs"
QUEUE = "zbsn"
PROFILE_LOCK_PREFIX = "profile:"


def running_profiles(engine: sa.Engine) -> set[int]:
    """Profiles whose run lock is held now: a sync or replay at work (a dead holder's until taken over)."""
    with session_scope(engine) as session:
        rows = session.exec(select(RunLock.profile_id)).all()
    return set(rows)


def queued_jobs(engine: sa.Engine) -> dict[int, int]:
    """Jobs waiting (not yet started) per profile; empty where the deployment has no job queue."""
    if engine.dialect.name != "postgresql" or not sa.inspect(engine).has_table(JOBS_TABLE):
        return {}
    query = sa.text(
        f"SELECT lock, count(*) FROM {JOBS_TABLE} "  # noqa: S608 - a constant table name
        "WHERE status = 'todo' AND queue_name = :queue AND lock LIKE :prefix GROUP BY lock"
    )
    found: dict[int, int] = {}
    with engine.connect() as conn:
        for lock, count in conn.execute(query, {"queue": QUEUE, "prefix": f"{PROFILE_LOCK_PREFIX}%"}):
            profile = str(lock).removeprefix(PROFILE_LOCK_PREFIX)
            if profile.isdigit():
                found[int(profile)] = int(count)
    return found


__all__ = ["queued_jobs", "running_profiles"]
