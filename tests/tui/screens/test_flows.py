"""Behaviour of the console screens: posted messages, calls into core and database state (not pixels)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from textual.message import Message
from textual.pilot import Pilot
from textual.widgets import DataTable, Input

from tests.tui.screens.fakes import FakeEngineService, FakeWorkspace
from zbsn.core import audit_query
from zbsn.core.audit_query import AuditFilter
from zbsn.core.engine.events import StageProgressed
from zbsn.tui import messages as m
from zbsn.tui.navigation import COMMANDS, DEMO_COMMANDS, ConsoleCommands, help_sections
from zbsn.tui.screens.audit import AuditScreen
from zbsn.tui.screens.base import ConsoleScreen
from zbsn.tui.screens.help import HelpScreen


async def settled(pilot: Pilot[Any]) -> None:
    for _ in range(3):  # a result handler may start the next worker (page → highlighted row → detail)
        await pilot.pause()
        await pilot.app.workers.wait_for_complete()
    await pilot.pause()


def of_type(posted: list[Message], kind: type[Message]) -> list[Any]:
    """Messages of `kind`, each once (the hook sees a bubbling message at every node it reaches)."""
    unique = {id(message): message for message in posted if isinstance(message, kind)}
    return list(unique.values())


def failed_count(db: sa.Engine) -> int:
    return audit_query.count(db, AuditFilter(status="failed")).value


async def test_audit_pages_through_the_log(make_app: Callable[..., Any], seeded_db: sa.Engine) -> None:
    posted: list[Message] = []
    app = make_app("audit", db=seeded_db)
    async with app.run_test(size=(160, 48), message_hook=posted.append) as pilot:
        await settled(pilot)
        table = app.screen.query_one("#audit-table", DataTable)
        assert table.row_count == 100
        await pilot.press("right_square_bracket")
        await settled(pilot)
        assert table.row_count == 20
        await pilot.press("left_square_bracket")
        await settled(pilot)
        pages = [p for p in of_type(posted, m.AuditPageLoaded) if p.page_number]
    assert [p.page_number for p in pages] == [1, 2, 1]
    assert pages[1].page.is_last
    assert pages[2].page.is_first


async def test_audit_filters_by_status_and_text(make_app: Callable[..., Any], seeded_db: sa.Engine) -> None:
    posted: list[Message] = []
    app = make_app("audit", db=seeded_db)
    async with app.run_test(size=(160, 48), message_hook=posted.append) as pilot:
        await settled(pilot)
        await pilot.press("f")
        await settled(pilot)
        await pilot.press("slash", *"acme")
        await settled(pilot)
        last = [p for p in of_type(posted, m.AuditPageLoaded) if p.page_number][-1]
    assert last.page.filter.status == "failed"
    assert last.page.filter.text == "acme"
    assert last.page.rows
    assert {row.vendor_name for row in last.page.rows} == {"Acme Office Supply"}


async def test_select_and_replay_failed_records(
    make_app: Callable[..., Any], seeded_db: sa.Engine, fake_engine: FakeEngineService
) -> None:
    posted: list[Message] = []
    before = failed_count(seeded_db)
    app = make_app("audit", db=seeded_db, engine_service=fake_engine)
    async with app.run_test(size=(160, 48), message_hook=posted.append) as pilot:
        await settled(pilot)
        await pilot.press("f")
        await settled(pilot)
        app.screen.query_one("#audit-table").focus()
        await pilot.press("space", "down", "space", "x")
        await settled(pilot)
        await pilot.press("enter")  # confirm
        await settled(pilot)
        finished = of_type(posted, m.ReplayFinished)
    assert len(finished) == 1
    assert len(finished[0].ids) == 2
    assert fake_engine.calls[-1] == ("replay", finished[0].ids)
    assert failed_count(seeded_db) == before - 2
    assert of_type(posted, m.ReplayStarted)[0].ids == finished[0].ids


async def test_replay_all_failed_in_filter(
    make_app: Callable[..., Any], seeded_db: sa.Engine, fake_engine: FakeEngineService
) -> None:
    app = make_app("audit", db=seeded_db, engine_service=fake_engine)
    async with app.run_test(size=(160, 48)) as pilot:
        await settled(pilot)
        await pilot.press("X")
        await settled(pilot)
        await pilot.press("enter")
        await settled(pilot)
    assert failed_count(seeded_db) == 0


async def test_replay_cancelled_sends_nothing(
    make_app: Callable[..., Any], seeded_db: sa.Engine, fake_engine: FakeEngineService
) -> None:
    app = make_app("audit", db=seeded_db, engine_service=fake_engine)
    async with app.run_test(size=(160, 48)) as pilot:
        await settled(pilot)
        await pilot.press("X")
        await settled(pilot)
        await pilot.press("escape")
        await settled(pilot)
        assert isinstance(app.screen, AuditScreen)
    assert not [call for call in fake_engine.calls if call[0] == "replay"]


async def test_run_streams_events_into_the_screen(
    make_app: Callable[..., Any], seeded_db: sa.Engine, fake_engine: FakeEngineService
) -> None:
    posted: list[Message] = []
    app = make_app("run", db=seeded_db, engine_service=fake_engine)
    async with app.run_test(size=(160, 48), message_hook=posted.append) as pilot:
        await settled(pilot)
        await pilot.press("s")
        await settled(pilot)
        screen = app.screen
        assert screen.counts == {"staged": 58, "failed": 2, "skipped": 0}
        assert screen.query_one("#stage-bills").has_class("-failures")
        assert not screen.running
    assert fake_engine.calls[0] == ("run", (1, "changed", "manual"))
    assert len(of_type(posted, m.RunCompleted)) == 1


async def test_run_can_be_cancelled(make_app: Callable[..., Any], seeded_db: sa.Engine) -> None:
    engine = FakeEngineService(seeded_db, hold_run=True)
    app = make_app("run", db=seeded_db, engine_service=engine)
    async with app.run_test(size=(160, 48)) as pilot:
        await pilot.pause()
        await pilot.press("S")
        await pilot.pause()
        assert app.screen.running
        await pilot.press("k")
        engine.release.set()
        await settled(pilot)
        assert not app.screen.running
        assert app.screen.counts["staged"] == 0
    assert engine.calls[0] == ("run", (1, "full", "manual"))


async def test_event_floods_arrive_as_few_batches(make_app: Callable[..., Any], seeded_db: sa.Engine) -> None:
    posted: list[Message] = []
    app = make_app("run", db=seeded_db)
    async with app.run_test(size=(160, 48), message_hook=posted.append) as pilot:
        await settled(pilot)
        for done in range(200):
            app.context.bus(StageProgressed(run_id=1, stage="bills", done=done, total=200))
        await settled(pilot)
        await pilot.pause(0.3)  # one flush interval of the run screen
        bar = app.screen.query_one("#bar-bills")
        batches = of_type(posted, m.EngineEventsArrived)
    assert bar.progress == 199
    assert len(batches) < 10


async def test_schedule_add_and_disable(make_app: Callable[..., Any], seeded_db: sa.Engine) -> None:
    app = make_app("run", db=seeded_db)
    async with app.run_test(size=(160, 48)) as pilot:
        await settled(pilot)
        await pilot.press("a")
        await settled(pilot)
        app.screen.query_one("#schedule-cron", Input).value = "*/15 * * * *"
        await pilot.click("#schedule-save")
        await settled(pilot)
        run_screen = app.screen
        assert len(run_screen.schedules) == 3
        run_screen.query_one("#schedule-table").focus()
        await pilot.press("t")
        await settled(pilot)
        assert [s.enabled for s in run_screen.schedules] == [False, False, True]


async def test_preview_override_and_csv(
    make_app: Callable[..., Any], seeded_db: sa.Engine, fake_engine: FakeEngineService, tmp_path: Path
) -> None:
    posted: list[Message] = []
    app = make_app("preview", db=seeded_db, engine_service=fake_engine, export_dir=str(tmp_path))
    async with app.run_test(size=(160, 48), message_hook=posted.append) as pilot:
        await settled(pilot)
        await pilot.press("m", "o")
        await settled(pilot)
        await pilot.press(*"CC-210", "enter")
        await settled(pilot)
        await pilot.press("w")
        await settled(pilot)
    assert ("set_override", ("cost_center", "cc2", "CC-210")) in fake_engine.calls
    saved = of_type(posted, m.OverrideSaved)
    assert saved[0].value == "CC-210"
    exported = of_type(posted, m.PreviewExported)[0]
    assert exported.rows == 3
    assert exported.path.endswith(".csv")
    assert (tmp_path / Path(exported.path).name).name.startswith("zbsn-preview-")
    assert Path(exported.path).parent == tmp_path


async def test_preview_error_is_shown(make_app: Callable[..., Any], seeded_db: sa.Engine) -> None:
    posted: list[Message] = []
    app = make_app("preview", db=seeded_db, engine_service=FakeEngineService(seeded_db, fail="boom"))
    async with app.run_test(size=(160, 48), message_hook=posted.append) as pilot:
        await settled(pilot)
        hint = str(app.screen.query_one("#screen-hint").content)
    assert {f.action for f in of_type(posted, m.CoreCallFailed)} == {"read the mappings", "build the preview"}
    assert "Press r" in hint


async def test_connect_zoho_self_client_then_choose_org(
    make_app: Callable[..., Any], fake_workspace: FakeWorkspace
) -> None:
    posted: list[Message] = []
    app = make_app("connect", workspace=fake_workspace)
    async with app.run_test(size=(160, 48), message_hook=posted.append) as pilot:
        await settled(pilot)
        screen = app.screen
        screen.query_one("#zoho-client-id", Input).value = "1000.ABC"
        screen.query_one("#zoho-client-secret", Input).value = "s3cret"
        screen.query_one("#zoho-code", Input).value = "1000.code"
        await pilot.press("ctrl+k")
        await settled(pilot)
        assert screen.query_one("#zoho-client-secret", Input).value == ""
        assert screen.has_class("-choose-org")
        screen.query_one("#zoho-org").value = "20100"
        await pilot.click("#zoho-use-org")
        await settled(pilot)
        assert screen.query_one("#zoho-client-secret", Input).password
    assert fake_workspace.calls[0] == (
        "self_client",
        ("1000.code", "1000.ABC", "s3cret", "https://accounts.zoho.com"),
    )
    assert ("choose", "20100") in fake_workspace.calls
    assert len(of_type(posted, m.ZohoAuthorised)) == 1


async def test_connect_servicenow_and_failed_test(
    make_app: Callable[..., Any], fake_workspace: FakeWorkspace
) -> None:
    posted: list[Message] = []
    app = make_app("connect", workspace=fake_workspace)
    async with app.run_test(size=(160, 48), message_hook=posted.append) as pilot:
        await settled(pilot)
        screen = app.screen
        screen.query_one("#sn-instance", Input).value = "https://dev1.service-now.com"
        screen.query_one("#sn-client-id", Input).value = "cid"
        screen.query_one("#sn-client-secret", Input).value = "csecret"
        await pilot.press("ctrl+s")
        await settled(pilot)
        await pilot.click("#sn-test")
        await settled(pilot)
        outcome = str(screen.query_one("#sn-outcome").content)
    results = [t.result for t in of_type(posted, m.ServiceNowTested)]
    assert [r.ok for r in results] == [True, False]
    assert "refused" in outcome
    assert ("servicenow", ("https://dev1.service-now.com", "cid", "csecret")) in fake_workspace.calls


async def test_function_keys_switch_screens_and_escape_goes_home(
    make_app: Callable[..., Any], seeded_db: sa.Engine
) -> None:
    app = make_app(None, db=seeded_db)
    async with app.run_test(size=(160, 48)) as pilot:
        visited = []
        for key in ("f2", "f3", "f4", "f5"):
            await pilot.press(key)
            await pilot.pause()
            visited.append(app.screen.name)
        await pilot.press("f1")
        await pilot.pause()
        assert isinstance(app.screen, HelpScreen)
        await pilot.press("escape", "escape")
        await pilot.pause()
        assert not isinstance(app.screen, ConsoleScreen)
    assert visited == ["connect", "preview", "run", "audit"]


async def test_palette_lists_every_action(make_app: Callable[..., Any], seeded_db: sa.Engine) -> None:
    app = make_app("audit", db=seeded_db)
    async with app.run_test(size=(160, 48)) as pilot:
        await settled(pilot)
        provider = ConsoleCommands(app.screen)
        titles = [hit.text async for hit in provider.discover()]
        hits = [hit async for hit in provider.search("replay all")]
        sections = [title for title, _ in help_sections(app)]
    assert len(titles) == len(COMMANDS) + 2
    assert hits
    assert sections[:2] == ["Audit", "Everywhere"]
    assert ConsoleCommands in app.COMMANDS


def _screen_actions() -> list[tuple[str, str]]:
    return [(screen, action) for _, _, screen, action in [*COMMANDS, *DEMO_COMMANDS] if action]


@pytest.mark.parametrize(("screen", "action"), _screen_actions())
def test_every_palette_action_exists(screen: str, action: str) -> None:
    from zbsn.tui.navigation import SCREENS

    assert callable(getattr(SCREENS[screen], f"action_{action}", None))


async def test_demo_action_is_absent_outside_the_demo(
    make_app: Callable[..., Any], seeded_db: sa.Engine, fake_engine: FakeEngineService
) -> None:
    """No demo: no `n` key, no footer entry, no palette command (the walk with a demo: test_demo_walk.py)."""
    app = make_app("preview", db=seeded_db, engine_service=fake_engine)
    async with app.run_test(size=(160, 48)) as pilot:
        await settled(pilot)
        await pilot.press("m", "n")
        await settled(pilot)
        shown = {a.binding.action for a in app.screen.active_bindings.values() if a.enabled}
        titles = [hit.text async for hit in ConsoleCommands(app.screen).discover()]
        help_texts = [text for _, entries in help_sections(app) for _, text in entries]
    assert "demo_create_cost_center" not in shown
    assert not [text for text in help_texts if text.startswith("Demo:")]
    assert not [title for title in titles if title.startswith("Demo:")]
    assert not [call for call in fake_engine.calls if call[0] == "refresh_mappings"]


async def test_override_error_is_told_not_hidden(
    make_app: Callable[..., Any], seeded_db: sa.Engine, fake_engine: FakeEngineService
) -> None:
    """A value that matches no ServiceNow record: the operator reads why, the mappings stay on screen."""

    async def refuse(*_: Any) -> None:
        raise LookupError("no ServiceNow cost center has the account number, name or sys_id 'CC-NOPE'")

    fake_engine.set_override = refuse  # type: ignore[method-assign]
    posted: list[Message] = []
    app = make_app("preview", db=seeded_db, engine_service=fake_engine)
    async with app.run_test(size=(160, 48), message_hook=posted.append) as pilot:
        await settled(pilot)
        await pilot.press("m", "o")
        await settled(pilot)
        await pilot.press(*"CC-NOPE", "enter")
        await settled(pilot)
        rows = app.screen.query_one("#map-cost_center", DataTable).row_count
        shown = [str(n.message) for n in app._notifications]
    assert [f.action for f in of_type(posted, m.CoreCallFailed)] == ["save the override"]
    assert not of_type(posted, m.OverrideSaved)
    assert rows > 0
    assert any("CC-NOPE" in text for text in shown)


def test_month_bounds() -> None:
    from datetime import date

    from zbsn.tui.screens.reconcile import month_bounds

    assert month_bounds("2024-02") == (date(2024, 2, 1), date(2024, 2, 29))
    assert month_bounds("2025-12") == (date(2025, 12, 1), date(2025, 12, 31))
