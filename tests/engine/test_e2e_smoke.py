"""Smoke: a first run over both sandboxes."""

from __future__ import annotations

import sqlalchemy as sa
from sqlmodel import select

from zbsn.core.db.engine import session_scope
from zbsn.core.db.models import AuditRecord

from .conftest import Sandboxes
from .harness import ClientFactories, make_runner


async def test_first_run(
    sqlite_engine: sa.Engine, live: Sandboxes, factories: ClientFactories, profile_id: int
) -> None:
    events: list[object] = []
    summary = await make_runner(sqlite_engine, factories).run(profile_id, events=events.append)
    print(summary)
    with session_scope(sqlite_engine) as session:
        rows = session.exec(select(AuditRecord)).all()
        fails = [(r.kind, r.error_code, r.error_message) for r in rows if r.status == "failed"]
    print(fails[:20])
    print(live.zoho.counters()["api"])
    assert summary.staged > 0
