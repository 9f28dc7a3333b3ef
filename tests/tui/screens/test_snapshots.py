"""What each console screen looks like in its main states (pytest-textual-snapshot, 160x48 unless named)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import sqlalchemy as sa
from textual.pilot import Pilot

from tests.tui.screens.conftest import NARROW, WIDE
from tests.tui.screens.fakes import AT as FIXED_NOW
from tests.tui.screens.fakes import FakeEngineService, FakeWorkspace, run_events


async def settled(pilot: Pilot[Any]) -> None:
    """Let every worker finish and every resulting message be handled."""
    for _ in range(3):  # a result handler may start the next worker (page → highlighted row → detail)
        await pilot.pause()
        await pilot.app.workers.wait_for_complete()
    await pilot.pause()


class TestAudit:
    def test_populated(self, snap_compare: Any, make_app: Callable[..., Any], seeded_db: sa.Engine) -> None:
        assert snap_compare(make_app("audit", db=seeded_db), terminal_size=WIDE, run_before=settled)

    def test_failed_filter(
        self, snap_compare: Any, make_app: Callable[..., Any], seeded_db: sa.Engine
    ) -> None:
        async def failed_only(pilot: Pilot[Any]) -> None:
            await settled(pilot)
            await pilot.press("f")
            await settled(pilot)
            await pilot.press("down", "space", "down", "space")
            await settled(pilot)

        assert snap_compare(make_app("audit", db=seeded_db), terminal_size=WIDE, run_before=failed_only)

    def test_empty(self, snap_compare: Any, make_app: Callable[..., Any], sqlite_engine: sa.Engine) -> None:
        assert snap_compare(make_app("audit", db=sqlite_engine), terminal_size=WIDE, run_before=settled)

    def test_no_database_error(self, snap_compare: Any, make_app: Callable[..., Any]) -> None:
        assert snap_compare(make_app("audit", db=None), terminal_size=WIDE, run_before=settled)

    def test_narrow(self, snap_compare: Any, make_app: Callable[..., Any], seeded_db: sa.Engine) -> None:
        assert snap_compare(make_app("audit", db=seeded_db), terminal_size=NARROW, run_before=settled)

    def test_reconciliation(
        self, snap_compare: Any, make_app: Callable[..., Any], seeded_db: sa.Engine
    ) -> None:
        async def reconcile(pilot: Pilot[Any]) -> None:
            await settled(pilot)
            await pilot.press("e")
            await settled(pilot)
            pilot.app.screen.query_one("#reconcile-period").value = "2025-03"
            await pilot.click("#reconcile-build")
            await settled(pilot)

        app = make_app("audit", db=seeded_db, engine_service=FakeEngineService(seeded_db))
        assert snap_compare(app, terminal_size=WIDE, run_before=reconcile)


class TestRun:
    def test_idle(self, snap_compare: Any, make_app: Callable[..., Any], seeded_db: sa.Engine) -> None:
        assert snap_compare(make_app("run", db=seeded_db), terminal_size=WIDE, run_before=settled)

    def test_finished_run(
        self, snap_compare: Any, make_app: Callable[..., Any], seeded_db: sa.Engine
    ) -> None:
        async def run(pilot: Pilot[Any]) -> None:
            await settled(pilot)
            await pilot.press("s")
            await settled(pilot)

        app = make_app("run", db=seeded_db, engine_service=FakeEngineService(seeded_db))
        assert snap_compare(app, terminal_size=WIDE, run_before=run)

    def test_in_progress(self, snap_compare: Any, make_app: Callable[..., Any], seeded_db: sa.Engine) -> None:
        app = make_app("run", db=seeded_db)
        for event in run_events()[:12]:
            app.context.bus(event)
        assert snap_compare(app, terminal_size=WIDE, run_before=settled)

    def test_schedule_modal(
        self, snap_compare: Any, make_app: Callable[..., Any], seeded_db: sa.Engine
    ) -> None:
        async def add(pilot: Pilot[Any]) -> None:
            await settled(pilot)
            pilot.app.screen.preview_now = FIXED_NOW
            await pilot.press("a")
            await settled(pilot)
            pilot.app.screen.query_one("#schedule-cron").value = "*/30 8-18 * * 1-5"
            await settled(pilot)

        assert snap_compare(make_app("run", db=seeded_db), terminal_size=WIDE, run_before=add)

    def test_narrow(self, snap_compare: Any, make_app: Callable[..., Any], seeded_db: sa.Engine) -> None:
        app = make_app("run", db=seeded_db)
        for event in run_events():
            app.context.bus(event)
        assert snap_compare(app, terminal_size=NARROW, run_before=settled)


class TestPreview:
    def test_populated(self, snap_compare: Any, make_app: Callable[..., Any], seeded_db: sa.Engine) -> None:
        app = make_app("preview", db=seeded_db, engine_service=FakeEngineService(seeded_db))
        assert snap_compare(app, terminal_size=WIDE, run_before=settled)

    def test_bills(self, snap_compare: Any, make_app: Callable[..., Any], seeded_db: sa.Engine) -> None:
        async def bills(pilot: Pilot[Any]) -> None:
            await settled(pilot)
            pilot.app.screen.query_one("#preview-tabs").active = "tab-bills"
            await settled(pilot)
            pilot.app.screen.query_one("#bill-table").focus()
            await settled(pilot)

        app = make_app("preview", db=seeded_db, engine_service=FakeEngineService(seeded_db))
        assert snap_compare(app, terminal_size=WIDE, run_before=bills)

    def test_override_modal(
        self, snap_compare: Any, make_app: Callable[..., Any], seeded_db: sa.Engine
    ) -> None:
        async def override(pilot: Pilot[Any]) -> None:
            await settled(pilot)
            await pilot.press("m", "o")
            await settled(pilot)

        app = make_app("preview", db=seeded_db, engine_service=FakeEngineService(seeded_db))
        assert snap_compare(app, terminal_size=WIDE, run_before=override)

    def test_error(self, snap_compare: Any, make_app: Callable[..., Any], seeded_db: sa.Engine) -> None:
        engine = FakeEngineService(seeded_db, fail="Zoho answered 401: the token was refused")
        app = make_app("preview", db=seeded_db, engine_service=engine)
        assert snap_compare(app, terminal_size=WIDE, run_before=settled)

    def test_not_configured(self, snap_compare: Any, make_app: Callable[..., Any]) -> None:
        assert snap_compare(make_app("preview"), terminal_size=WIDE, run_before=settled)


class TestConnect:
    def test_first_time(self, snap_compare: Any, make_app: Callable[..., Any]) -> None:
        app = make_app("connect", workspace=FakeWorkspace())
        assert snap_compare(app, terminal_size=WIDE, run_before=settled)

    def test_connected_and_reauth(self, snap_compare: Any, make_app: Callable[..., Any]) -> None:
        app = make_app("connect", workspace=FakeWorkspace(connected=True, sn_reauth=True))
        assert snap_compare(app, terminal_size=WIDE, run_before=settled)

    def test_narrow(self, snap_compare: Any, make_app: Callable[..., Any]) -> None:
        app = make_app("connect", workspace=FakeWorkspace(connected=True))
        assert snap_compare(app, terminal_size=NARROW, run_before=settled)


class TestHelp:
    def test_help_from_audit(
        self, snap_compare: Any, make_app: Callable[..., Any], seeded_db: sa.Engine
    ) -> None:
        async def help_screen(pilot: Pilot[Any]) -> None:
            await settled(pilot)
            await pilot.press("f1")
            await settled(pilot)

        assert snap_compare(make_app("audit", db=seeded_db), terminal_size=WIDE, run_before=help_screen)
