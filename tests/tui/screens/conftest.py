"""Fixtures for the console screens: a populated SQLite audit log, and the console built by the real factory.

Every app here comes from `zbsn.tui.app.make_app`, the factory `zbsn-tui` itself uses, on a real database;
screens that talk to Zoho and ServiceNow get a profile connected to `zbsn sandbox` running as a separate
process (see tests/tui/sandbox_fixtures.py).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest
import sqlalchemy as sa

from tests.conftest import url_of
from tests.core.audit_seed import seed_audit, seed_servicenow_statuses
from zbsn.core.db.models import Schedule
from zbsn.core.settings import Settings
from zbsn.tui.app import ZbsnApp, make_app

WIDE = (160, 48)
NARROW = (80, 24)


def add_schedules(engine: sa.Engine, profile_id: int) -> None:
    """Two schedules with fixed next-run times (snapshots must not depend on today's date)."""
    table = sa.inspect(Schedule).local_table
    created = datetime(2025, 3, 1, tzinfo=UTC)
    with engine.begin() as conn:
        conn.execute(
            sa.insert(table),
            [
                {
                    "profile_id": profile_id,
                    "name": "Weekday mornings",
                    "cron": "0 6 * * 1-5",
                    "mode": "changed",
                    "enabled": True,
                    "next_run_at": datetime(2025, 4, 1, 6, tzinfo=UTC),
                    "created_at": created,
                },
                {
                    "profile_id": profile_id,
                    "name": "Month-end full sweep",
                    "cron": "0 22 28-31 * *",
                    "mode": "full",
                    "enabled": False,
                    "next_run_at": None,
                    "created_at": created,
                },
            ],
        )


@pytest.fixture
def seeded_db(sqlite_engine: sa.Engine) -> sa.Engine:
    """120 audit records (every 5th failed) over 2 runs, the staged bills' ServiceNow statuses (one of each
    through the lifecycle), plus two schedules."""
    seeded = seed_audit(sqlite_engine, records=120, runs=2)
    seed_servicenow_statuses(sqlite_engine, seeded.profile_id)
    add_schedules(sqlite_engine, seeded.profile_id)
    return sqlite_engine


@pytest.fixture
def make_app_on() -> Callable[..., ZbsnApp]:
    """The real console on a database, opened on a screen: `make_app_on("audit", db=engine)`."""

    def build(start: str | None = None, *, db: sa.Engine | str, **options: Any) -> ZbsnApp:
        url = db if isinstance(db, str) else url_of(db)
        app = make_app(url, Settings(), screen=start, serve=False, **options)
        app.theme = "textual-dark"
        return app

    return build
