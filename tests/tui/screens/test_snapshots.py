"""What each console screen looks like in its main states (pytest-textual-snapshot, 160x48 unless named).

Every app is built by `zbsn.tui.app.make_app`, the factory `zbsn-tui` uses: on the seeded audit database,
on a fresh one, or on a database connected to `zbsn sandbox` running as a separate process. Only the token
countdown ("next refresh in 54m"), which moves with the clock, is left out of the status bar.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
import sqlalchemy as sa
from textual.pilot import Pilot

from tests.tui.conftest import ConnectedDatabase
from tests.tui.screens.conftest import NARROW, WIDE
from tests.tui.screens.events import FIXED_NOW, run_events
from zbsn.core.engine.events import TokenStatusChanged
from zbsn.tui import app as tui_app
from zbsn.tui.app import ZbsnApp, make_app
from zbsn.tui.screens.services import ConsoleContext


async def settled(pilot: Pilot[Any]) -> None:
    """Let every worker finish and every resulting message be handled."""
    for _ in range(4):  # a result handler may start the next worker (page → highlighted row → detail)
        await pilot.pause()
        await pilot.app.workers.wait_for_complete()
    await pilot.pause()


@pytest.fixture(autouse=True)
def steady_token_states(monkeypatch: pytest.MonkeyPatch) -> None:
    """The status bar shows each token's state without the countdown to its next refresh (it moves), and
    the event log stamps it with a fixed time."""

    def without_countdown(context: ConsoleContext) -> None:
        if context.profile_id is None:
            return
        for status in context.workspace.token_statuses(context.profile_id):
            context.bus(
                TokenStatusChanged(at=FIXED_NOW, system=status.system, state=status.state, expires_in_s=None)
            )

    monkeypatch.setattr(tui_app, "seed_token_states", without_countdown)


def on_sandbox(connected: ConnectedDatabase, screen: str, **options: Any) -> ZbsnApp:
    """The console on the connected database, opened on `screen`."""
    app = make_app(connected.url, connected.settings, screen=screen, serve=False, **options)
    app.theme = "textual-dark"
    return app


class TestAudit:
    def test_populated(
        self, snap_compare: Any, make_app_on: Callable[..., ZbsnApp], seeded_db: sa.Engine
    ) -> None:
        assert snap_compare(make_app_on("audit", db=seeded_db), terminal_size=WIDE, run_before=settled)

    def test_failed_filter(
        self, snap_compare: Any, make_app_on: Callable[..., ZbsnApp], seeded_db: sa.Engine
    ) -> None:
        async def failed_only(pilot: Pilot[Any]) -> None:
            await settled(pilot)
            await pilot.press("f")
            await settled(pilot)
            await pilot.press("down", "space", "down", "space")
            await settled(pilot)

        assert snap_compare(make_app_on("audit", db=seeded_db), terminal_size=WIDE, run_before=failed_only)

    def test_servicenow_exceptions(
        self, snap_compare: Any, make_app_on: Callable[..., ZbsnApp], seeded_db: sa.Engine
    ) -> None:
        """Filtered by ServiceNow status: each invoice's exception text and status history in the detail."""

        async def exceptions(pilot: Pilot[Any]) -> None:
            await settled(pilot)
            pilot.app.screen.query_one("#filter-sn").value = "exceptions_found"
            await settled(pilot)

        assert snap_compare(make_app_on("audit", db=seeded_db), terminal_size=WIDE, run_before=exceptions)

    def test_empty(
        self, snap_compare: Any, make_app_on: Callable[..., ZbsnApp], sqlite_engine: sa.Engine
    ) -> None:
        assert snap_compare(make_app_on("audit", db=sqlite_engine), terminal_size=WIDE, run_before=settled)

    def test_narrow(
        self, snap_compare: Any, make_app_on: Callable[..., ZbsnApp], seeded_db: sa.Engine
    ) -> None:
        assert snap_compare(make_app_on("audit", db=seeded_db), terminal_size=NARROW, run_before=settled)

    def test_reconciliation(self, snap_compare: Any, connected_db: ConnectedDatabase) -> None:
        async def reconcile(pilot: Pilot[Any]) -> None:
            await settled(pilot)
            await pilot.press("e")
            await settled(pilot)
            pilot.app.screen.query_one("#reconcile-period").value = "2026-09"
            await pilot.click("#reconcile-build")
            await settled(pilot)

        app = on_sandbox(connected_db, "audit")
        assert snap_compare(app, terminal_size=WIDE, run_before=reconcile)


class TestRun:
    def test_idle(self, snap_compare: Any, make_app_on: Callable[..., ZbsnApp], seeded_db: sa.Engine) -> None:
        assert snap_compare(make_app_on("run", db=seeded_db), terminal_size=WIDE, run_before=settled)

    def test_in_progress(
        self, snap_compare: Any, make_app_on: Callable[..., ZbsnApp], seeded_db: sa.Engine
    ) -> None:
        app = make_app_on("run", db=seeded_db)
        for event in run_events()[:12]:
            app.context.bus(event)
        assert snap_compare(app, terminal_size=WIDE, run_before=settled)

    def test_finished(
        self, snap_compare: Any, make_app_on: Callable[..., ZbsnApp], seeded_db: sa.Engine
    ) -> None:
        app = make_app_on("run", db=seeded_db)
        for event in run_events():
            app.context.bus(event)
        assert snap_compare(app, terminal_size=WIDE, run_before=settled)

    def test_schedule_modal(
        self, snap_compare: Any, make_app_on: Callable[..., ZbsnApp], seeded_db: sa.Engine
    ) -> None:
        async def add(pilot: Pilot[Any]) -> None:
            await settled(pilot)
            pilot.app.screen.preview_now = FIXED_NOW
            await pilot.press("a")
            await settled(pilot)
            pilot.app.screen.query_one("#schedule-cron").value = "*/30 8-18 * * 1-5"
            await settled(pilot)

        assert snap_compare(make_app_on("run", db=seeded_db), terminal_size=WIDE, run_before=add)

    def test_narrow(
        self, snap_compare: Any, make_app_on: Callable[..., ZbsnApp], seeded_db: sa.Engine
    ) -> None:
        app = make_app_on("run", db=seeded_db)
        for event in run_events():
            app.context.bus(event)
        assert snap_compare(app, terminal_size=NARROW, run_before=settled)


class TestPreview:
    def test_mappings(self, snap_compare: Any, connected_db: ConnectedDatabase) -> None:
        assert snap_compare(on_sandbox(connected_db, "preview"), terminal_size=WIDE, run_before=settled)

    def test_bills(self, snap_compare: Any, connected_db: ConnectedDatabase) -> None:
        async def bills(pilot: Pilot[Any]) -> None:
            await settled(pilot)
            pilot.app.screen.query_one("#preview-tabs").active = "tab-bills"
            await settled(pilot)
            pilot.app.screen.query_one("#bill-table").focus()
            await settled(pilot)

        assert snap_compare(on_sandbox(connected_db, "preview"), terminal_size=WIDE, run_before=bills)

    def test_override_modal(self, snap_compare: Any, connected_db: ConnectedDatabase) -> None:
        async def override(pilot: Pilot[Any]) -> None:
            await settled(pilot)
            await pilot.press("m", "o")
            await settled(pilot)

        assert snap_compare(on_sandbox(connected_db, "preview"), terminal_size=WIDE, run_before=override)

    def test_zoho_refuses_the_token(self, snap_compare: Any, connected_db: ConnectedDatabase) -> None:
        connected_db.sandbox.revoke_zoho_refresh_tokens()
        assert snap_compare(on_sandbox(connected_db, "preview"), terminal_size=WIDE, run_before=settled)

    def test_no_profile_yet(
        self, snap_compare: Any, make_app_on: Callable[..., ZbsnApp], sqlite_engine: sa.Engine
    ) -> None:
        assert snap_compare(make_app_on("preview", db=sqlite_engine), terminal_size=WIDE, run_before=settled)


class TestConnect:
    def test_first_time(
        self, snap_compare: Any, make_app_on: Callable[..., ZbsnApp], sqlite_engine: sa.Engine
    ) -> None:
        assert snap_compare(make_app_on("connect", db=sqlite_engine), terminal_size=WIDE, run_before=settled)

    def test_narrow(
        self, snap_compare: Any, make_app_on: Callable[..., ZbsnApp], sqlite_engine: sa.Engine
    ) -> None:
        assert snap_compare(
            make_app_on("connect", db=sqlite_engine), terminal_size=NARROW, run_before=settled
        )


class TestProfiles:
    def test_first_profile_form(
        self, snap_compare: Any, make_app_on: Callable[..., ZbsnApp], sqlite_engine: sa.Engine
    ) -> None:
        assert snap_compare(make_app_on("profiles", db=sqlite_engine), terminal_size=WIDE, run_before=settled)

    def test_one_profile(self, snap_compare: Any, connected_db: ConnectedDatabase) -> None:
        assert snap_compare(on_sandbox(connected_db, "profiles"), terminal_size=WIDE, run_before=settled)


class TestOverview:
    def test_all_profiles(
        self, snap_compare: Any, make_app_on: Callable[..., ZbsnApp], seeded_db: sa.Engine
    ) -> None:
        assert snap_compare(make_app_on("overview", db=seeded_db), terminal_size=WIDE, run_before=settled)


class TestHelp:
    def test_help_from_audit(
        self, snap_compare: Any, make_app_on: Callable[..., ZbsnApp], seeded_db: sa.Engine
    ) -> None:
        async def help_screen(pilot: Pilot[Any]) -> None:
            await settled(pilot)
            await pilot.press("f1")
            await settled(pilot)

        assert snap_compare(make_app_on("audit", db=seeded_db), terminal_size=WIDE, run_before=help_screen)
