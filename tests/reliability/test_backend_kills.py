"""A PostgreSQL backend killed in the middle of every kind of statement a sync run issues.

The first time the run is about to execute each kind of statement (its SQL text with the parameters
folded, so an IN list of 20 and one of 200 are the same kind), the connection's backend is terminated as an
administrator or a failover would (`pg_terminate_backend`), and the statement then meets a dead connection.
Each such transaction must be run again from its start on a new connection (`db.transient`); the run must
finish as it would have without the kills, and ServiceNow must hold every good bill exactly once.
"""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import sqlalchemy as sa

from tests.conftest import POSTGRES_URL, _fresh_postgres_database
from tests.core.engine.harness import create_profile
from zbsn.core.db import migrate
from zbsn.core.db.engine import make_engine
from zbsn.core.domain import RunStatus

from .checks import assert_exactly_once
from .conftest import Clients, World

BILLS = 120
WANTED = (  # a few of the kinds a sync run and a full sweep must issue (so the hook did see them)
    "INSERT INTO sync_run",
    "INSERT INTO run_lock",
    "INSERT INTO audit_record",
    "INSERT INTO audit_attempt",
    "UPDATE audit_record",
    "UPDATE audit_attempt",
    "UPDATE run_lock",
    "UPDATE sync_run",
    "DELETE FROM run_lock",
    "INSERT INTO cost_center_map",
    "INSERT INTO sync_cursor",
    "UPDATE sync_cursor",
)
_PARAMS = re.compile(r"%\([^)]*\)s")
_LISTS = re.compile(r"\?(?:\s*,\s*\?)+")


def statement_kind(statement: str) -> str:
    """The statement with its parameters folded: one kind however many values it carries."""
    text = " ".join(statement.split())
    return _LISTS.sub("?…", _PARAMS.sub("?", text))[:300]


class BackendKiller:
    """Terminates the backend of a connection the first time it is about to run each kind of statement."""

    def __init__(self, engine: sa.Engine, admin: sa.Engine) -> None:
        self.engine, self.admin = engine, admin
        self.kinds: list[str] = []
        sa.event.listen(engine, "before_cursor_execute", self._before)

    def _before(self, conn: sa.Connection, _cursor: Any, statement: str, *_args: Any) -> None:
        kind = statement_kind(statement)
        if kind in self.kinds:
            return
        self.kinds.append(kind)
        pid = conn.connection.dbapi_connection.info.backend_pid  # type: ignore[union-attr]
        with self.admin.connect() as other:
            other.execute(sa.text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
            while other.execute(sa.text("SELECT 1 FROM pg_stat_activity WHERE pid = :p"), {"p": pid}).first():
                time.sleep(0.005)

    def stop(self) -> None:
        if sa.event.contains(self.engine, "before_cursor_execute", self._before):
            sa.event.remove(self.engine, "before_cursor_execute", self._before)


@pytest.fixture
def pg_url() -> Iterator[str]:
    if not POSTGRES_URL:
        pytest.skip("no PostgreSQL server: set ZBSN_TEST_POSTGRES_URL")
    yield from _fresh_postgres_database()


@pytest.mark.postgres
def test_every_kind_of_statement_survives_a_killed_backend(
    world: Callable[[int], World], pg_url: str
) -> None:
    w = world(BILLS)
    db = make_engine(pg_url)
    migrate.upgrade(db)
    profile = create_profile(db, w.endpoints)
    admin = sa.create_engine(str(POSTGRES_URL), isolation_level="AUTOCOMMIT")
    killer = BackendKiller(db, admin)
    try:
        summary = asyncio.run(Clients(w.endpoints).runner(db, batch_size=20).run(profile))
        first_kinds = len(killer.kinds)
        edited = w.expected.good_bills[0].bill_id
        w.zoho.edit_bill(edited, {"reference_number": "PO-EDITED"})  # a full sweep rewrites it
        again = asyncio.run(Clients(w.endpoints).runner(db, batch_size=20).run(profile, mode="full"))
        killer.stop()
        print(f"\n{len(killer.kinds)} kinds of statement ({first_kinds} in the first run, the rest in a full")
        print("sweep after an edit), each met a killed backend once:")
        for kind in killer.kinds:
            print(f"  {kind[:100]}")
        assert summary.status == RunStatus.COMPLETED_WITH_FAILURES, summary.message  # the seeded broken bills
        assert again.status == RunStatus.SUCCEEDED, again.message  # the broken bills are unchanged
        assert again.staged >= 1  # the edited bill
        kinds = " | ".join(killer.kinds)
        for wanted in WANTED:
            assert wanted in kinds, f"the run issued no {wanted}"
        assert_exactly_once(w, db)
    finally:
        killer.stop()
        db.dispose()
        admin.dispose()
