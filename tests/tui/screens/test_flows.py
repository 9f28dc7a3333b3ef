"""Behaviour of the console screens: posted messages, calls into core and database state (not pixels).

Every app comes from `zbsn.tui.app.make_app` (the factory `zbsn-tui` uses). Screens that need Zoho and
ServiceNow work on a database connected to `zbsn sandbox` in a separate process; the audit log's paging and
filters run on the seeded audit database.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from rich.console import Console
from sqlmodel import Session, select
from textual.message import Message
from textual.pilot import Pilot
from textual.widgets import DataTable, Input, Static

from tests.conftest import url_of
from tests.tui.conftest import ConnectedDatabase
from zbsn.core import audit_query
from zbsn.core.audit_query import AuditFilter
from zbsn.core.db.engine import make_engine
from zbsn.core.db.models import AuditRecord, SyncRun
from zbsn.core.domain import AuditStatus
from zbsn.core.engine.events import StageProgressed
from zbsn.tui import messages as m
from zbsn.tui.app import ZbsnApp, make_app
from zbsn.tui.navigation import COMMANDS, DEMO_COMMANDS, ConsoleCommands, help_sections
from zbsn.tui.screens.audit import AuditScreen
from zbsn.tui.screens.base import ConsoleScreen
from zbsn.tui.screens.help import HelpScreen

WIDE = (160, 48)


async def settled(pilot: Pilot[Any]) -> None:
    for _ in range(4):  # a result handler may start the next worker (page → highlighted row → detail)
        await pilot.pause()
        await pilot.app.workers.wait_for_complete()
    await pilot.pause()


def of_type(posted: list[Message], kind: type[Message]) -> list[Any]:
    """Messages of `kind`, each once (the hook sees a bubbling message at every node it reaches)."""
    unique = {id(message): message for message in posted if isinstance(message, kind)}
    return list(unique.values())


def failed_count(db: sa.Engine | str) -> int:
    engine = make_engine(db) if isinstance(db, str) else db
    return audit_query.count(engine, AuditFilter(status="failed")).value


def failed_codes(url: str) -> dict[str, str]:
    """Zoho id -> error code of every failed record."""
    with Session(make_engine(url)) as session:
        rows = session.exec(select(AuditRecord).where(AuditRecord.status == AuditStatus.FAILED)).all()
    return {f"{row.kind}:{row.zoho_id}": str(row.error_code) for row in rows}


# The seeded company's bills that fail for reasons no cost center fixes: an unreadable amount, a GL account
# ServiceNow lacks, a vendor that is not a Zoho contact.
UNFIXED_BY_COST_CENTERS = {"MALFORMED_RECORD", "UNMAPPED_GL_ACCOUNT", "UNMAPPED_SUPPLIER"}


def on_sandbox(connected: ConnectedDatabase, screen: str, **options: Any) -> ZbsnApp:
    return make_app(connected.url, connected.settings, screen=screen, serve=False, **options)


async def run_a_sync(pilot: Pilot[Any], app: ZbsnApp) -> None:
    """Press s on the Run screen and wait for the run to end."""
    app.action_console_go("run")  # type: ignore[attr-defined]
    await settled(pilot)
    await pilot.press("s")
    await settled(pilot)
    for _ in range(600):
        if not app.screen.running:  # type: ignore[attr-defined]
            return
        await pilot.pause(0.1)
        await settled(pilot)
    raise AssertionError("the run never ended")


def _text(widget: Static) -> str:
    """What a Static shows, as plain text (its content may be a Rich renderable)."""
    content = widget.content
    if isinstance(content, str):
        return content
    console = Console(width=200, record=True, file=io.StringIO())
    console.print(content)
    return console.export_text()


# ---- audit log on the seeded database ------------------------------------------------------------------
async def test_audit_pages_through_the_log(make_app_on: Callable[..., ZbsnApp], seeded_db: sa.Engine) -> None:
    posted: list[Message] = []
    app = make_app_on("audit", db=seeded_db)
    async with app.run_test(size=WIDE, message_hook=posted.append) as pilot:
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


async def test_audit_filters_by_status_and_text(
    make_app_on: Callable[..., ZbsnApp], seeded_db: sa.Engine
) -> None:
    posted: list[Message] = []
    app = make_app_on("audit", db=seeded_db)
    async with app.run_test(size=WIDE, message_hook=posted.append) as pilot:
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


# ---- run, audit and replay against the sandbox ---------------------------------------------------------
async def test_run_then_select_and_replay_failed_records(connected_db: ConnectedDatabase) -> None:
    posted: list[Message] = []
    app = on_sandbox(connected_db, "audit")
    async with app.run_test(size=WIDE, message_hook=posted.append) as pilot:
        await run_a_sync(pilot, app)
        with Session(make_engine(connected_db.url)) as session:
            run = session.exec(select(SyncRun)).one()
        screen = app.screen
        assert screen.counts == {"staged": run.staged, "failed": run.failed, "skipped": run.skipped}
        assert run.failed > 2  # the bills the two missing cost centers block
        assert screen.query_one("#stage-bills").has_class("-failures")
        assert len(of_type(posted, m.RunCompleted)) == 1

        before = failed_count(connected_db.url)
        for missing in connected_db.sandbox.info["missing_cost_centers"]:
            connected_db.sandbox.create_cost_center(missing["account_number"])
        await pilot.press("f5")
        await settled(pilot)
        await pilot.press("f")
        await settled(pilot)
        audit = app.screen
        assert isinstance(audit, AuditScreen)
        assert audit.page_data is not None
        # two records the missing cost centers blocked (the others would fail again)
        rows = audit.page_data.rows
        targets = [i for i, row in enumerate(rows) if row.error_code == "UNMAPPED_COST_CENTER"]
        table = audit.query_one("#audit-table", DataTable)
        table.focus()
        for index in targets[:2]:
            table.move_cursor(row=index)
            await pilot.press("space")
        await pilot.press("x")
        await settled(pilot)
        await pilot.press("enter")  # confirm
        await settled(pilot)
        finished = of_type(posted, m.ReplayFinished)
    assert len(finished) == 1
    assert len(finished[0].ids) == 2
    assert of_type(posted, m.ReplayStarted)[0].ids == finished[0].ids
    assert failed_count(connected_db.url) == before - 2


async def test_replay_all_failed_in_filter_and_cancel(connected_db: ConnectedDatabase) -> None:
    app = on_sandbox(connected_db, "run")
    async with app.run_test(size=WIDE) as pilot:
        await run_a_sync(pilot, app)
        failed = failed_count(connected_db.url)
        assert failed > 0
        await pilot.press("f5")
        await settled(pilot)
        await pilot.press("X")
        await settled(pilot)
        await pilot.press("escape")  # the operator thinks again: nothing is sent
        await settled(pilot)
        assert isinstance(app.screen, AuditScreen)
        assert failed_count(connected_db.url) == failed
        for missing in connected_db.sandbox.info["missing_cost_centers"]:
            connected_db.sandbox.create_cost_center(missing["account_number"])
        await pilot.press("X")
        await settled(pilot)
        await pilot.press("enter")
        await settled(pilot)
    left = failed_codes(connected_db.url)
    assert len(left) < failed
    assert set(left.values()) <= UNFIXED_BY_COST_CENTERS  # every cost-center failure and its payment staged
    staged = {
        row["external_invoice_number"] for row in connected_db.sandbox.servicenow_rows("sn_shop_invoice")
    }
    assert len(staged) >= failed


async def test_event_floods_arrive_as_few_batches(
    make_app_on: Callable[..., ZbsnApp], seeded_db: sa.Engine
) -> None:
    posted: list[Message] = []
    app = make_app_on("run", db=seeded_db)
    async with app.run_test(size=WIDE, message_hook=posted.append) as pilot:
        await settled(pilot)
        for done in range(200):
            app.context.bus(StageProgressed(run_id=1, stage="bills", done=done, total=200))
        await settled(pilot)
        await pilot.pause(0.3)  # one flush interval of the run screen
        bar = app.screen.query_one("#bar-bills")
        batches = of_type(posted, m.EngineEventsArrived)
    assert bar.progress == 199
    assert len(batches) < 10


def test_an_event_batch_stays_with_its_subscriber() -> None:
    """A widget's batch message does not bubble: its screen would drain the widget's events too (the Run
    screen applied its status bar's budget and token events twice, out of order)."""
    assert m.EngineEventsArrived.bubble is False


async def test_schedule_add_and_disable(make_app_on: Callable[..., ZbsnApp], seeded_db: sa.Engine) -> None:
    app = make_app_on("run", db=seeded_db)
    async with app.run_test(size=WIDE) as pilot:
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


# ---- preview against the sandbox ------------------------------------------------------------------------
async def test_preview_override_and_csv(connected_db: ConnectedDatabase, tmp_path: Path) -> None:
    posted: list[Message] = []
    existing = connected_db.sandbox.servicenow_rows("cmn_cost_center")[0]["account_number"]
    app = on_sandbox(connected_db, "preview", export_dir=str(tmp_path))
    async with app.run_test(size=WIDE, message_hook=posted.append) as pilot:
        await settled(pilot)
        missing_before = [line for line in app.screen.mappings["cost_center"] if line.missing]
        assert len(missing_before) == 2
        await pilot.press("m", "o")
        await settled(pilot)
        await pilot.press(*existing, "enter")
        await settled(pilot)
        missing_after = [line for line in app.screen.mappings["cost_center"] if line.missing]
        await pilot.press("w")
        await settled(pilot)
        bills = len(app.screen.bills)
    saved = of_type(posted, m.OverrideSaved)
    assert saved[0].value.startswith(existing)
    assert len(missing_after) == 1
    exported = of_type(posted, m.PreviewExported)[0]
    assert exported.rows == bills == 80
    assert Path(exported.path).parent == tmp_path
    assert Path(exported.path).name.startswith("zbsn-preview-")
    with open(exported.path, encoding="utf-8") as csv_file:  # noqa: ASYNC230 - a test reading its result
        assert csv_file.readline().startswith("bill_number,")


async def test_override_error_is_told_not_hidden(connected_db: ConnectedDatabase) -> None:
    """A value that matches no ServiceNow record: the operator reads why, the mappings stay on screen."""
    posted: list[Message] = []
    app = on_sandbox(connected_db, "preview")
    async with app.run_test(size=WIDE, message_hook=posted.append) as pilot:
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


async def test_preview_error_is_shown(connected_db: ConnectedDatabase) -> None:
    connected_db.sandbox.revoke_zoho_refresh_tokens()
    posted: list[Message] = []
    app = on_sandbox(connected_db, "preview")
    async with app.run_test(size=WIDE, message_hook=posted.append) as pilot:
        await settled(pilot)
        hint = str(app.screen.query_one("#screen-hint").content)
    assert "build the preview" in {f.action for f in of_type(posted, m.CoreCallFailed)}
    assert "Press r" in hint


async def test_demo_action_is_absent_outside_the_demo(connected_db: ConnectedDatabase) -> None:
    """No demo: no `n` key, no footer entry, no palette command (the walk with a demo: test_demo_walk.py)."""
    app = on_sandbox(connected_db, "preview")
    async with app.run_test(size=WIDE) as pilot:
        await settled(pilot)
        await pilot.press("m", "n")
        await settled(pilot)
        shown = {a.binding.action for a in app.screen.active_bindings.values() if a.enabled}
        titles = [hit.text async for hit in ConsoleCommands(app.screen).discover()]
        help_texts = [text for _, entries in help_sections(app) for _, text in entries]
        still_missing = [line for line in app.screen.mappings["cost_center"] if line.missing]
    assert "demo_create_cost_center" not in shown
    assert not [text for text in help_texts if text.startswith("Demo:")]
    assert not [title for title in titles if title.startswith("Demo:")]
    assert len(still_missing) == 2  # nothing was created in ServiceNow


# ---- connect against the sandbox ------------------------------------------------------------------------
async def test_connect_zoho_self_client_and_servicenow_then_refused(
    sandbox: Any, make_app_on: Callable[..., ZbsnApp], sqlite_engine: sa.Engine
) -> None:
    posted: list[Message] = []
    info = sandbox.info
    app = make_app(url_of(sqlite_engine), sandbox.settings(), screen="connect", serve=False)
    async with app.run_test(size=WIDE, message_hook=posted.append) as pilot:
        await settled(pilot)
        screen = app.screen
        await pilot.click("#method-self")
        screen.query_one("#zoho-client-id", Input).value = info["zoho_client_id"]
        screen.query_one("#zoho-client-secret", Input).value = info["zoho_client_secret"]
        screen.query_one("#zoho-accounts", Input).value = info["zoho_accounts_url"]
        screen.query_one("#zoho-code", Input).value = sandbox.self_client_code()
        await pilot.press("ctrl+k")
        await settled(pilot)
        authorised = of_type(posted, m.ZohoAuthorised)
        assert len(authorised) == 1
        result = authorised[0].result
        assert screen.query_one("#zoho-client-secret", Input).value == ""
        if result.chosen is None:  # several organizations: the operator picks the sandbox's
            assert screen.has_class("-choose-org")
            screen.query_one("#zoho-org").value = info["zoho_organization_id"]
            await pilot.click("#zoho-use-org")
            await settled(pilot)
        zoho = app.context.workspace.get_connection(result.connection_id)
        assert zoho.organization_id == info["zoho_organization_id"]
        assert zoho.api_domain == info["zoho_api_domain"]

        screen.query_one("#sn-instance", Input).value = info["servicenow_url"]
        screen.query_one("#sn-client-id", Input).value = info["servicenow_client_id"]
        screen.query_one("#sn-client-secret", Input).value = info["servicenow_client_secret"]
        await pilot.press("ctrl+s")
        await settled(pilot)
        ready = _text(screen.query_one("#sn-preflight", Static))
        sandbox.set_servicenow_transform_map("sn_spend_intg_imp_invoice", False)
        try:  # an instance without the invoice transform map: the pre-flight says runs are refused, and why
            await pilot.click("#sn-test")
            await settled(pilot)
            blocked = _text(screen.query_one("#sn-preflight", Static))
        finally:
            sandbox.set_servicenow_transform_map("sn_spend_intg_imp_invoice", True)
        sandbox.set_servicenow_client_credentials(False)
        await pilot.click("#sn-test")
        await settled(pilot)
        outcome = str(screen.query_one("#sn-outcome").content)
        refused = _text(screen.query_one("#sn-preflight", Static))
        hint = str(screen.query_one("#screen-hint").content)
    checks = [c.check for c in of_type(posted, m.PreflightChecked)]
    assert [c.ok for c in checks] == [True, False]  # no pre-flight once the credentials are refused
    assert "ready for staging" in ready
    assert "runs are refused" in blocked
    assert any("sn_spend_intg_imp_invoice" in problem for problem in checks[1].problems)
    assert "sn_spend_intg_imp_invoice" in blocked
    assert refused == ""
    results = [t.result for t in of_type(posted, m.ServiceNowTested)]
    assert [r.ok for r in results] == [True, True, False]
    assert "Could not" not in outcome
    assert results[-1].message in outcome
    assert "Step 3" in hint  # ServiceNow needs the operator again


# ---- navigation -----------------------------------------------------------------------------------------
async def test_function_keys_switch_screens_and_escape_goes_home(
    make_app_on: Callable[..., ZbsnApp], seeded_db: sa.Engine
) -> None:
    app = make_app_on(None, db=seeded_db)
    async with app.run_test(size=WIDE) as pilot:
        visited = []
        for key in ("f2", "f3", "f4", "f5", "f6"):
            await pilot.press(key)
            await pilot.pause()
            visited.append(app.screen.name)
        await pilot.press("f1")
        await pilot.pause()
        assert isinstance(app.screen, HelpScreen)
        await pilot.press("escape", "escape")
        await pilot.pause()
        assert not isinstance(app.screen, ConsoleScreen)
    assert visited == ["connect", "preview", "run", "audit", "profiles"]


async def test_palette_lists_every_action(make_app_on: Callable[..., ZbsnApp], seeded_db: sa.Engine) -> None:
    app = make_app_on("audit", db=seeded_db)
    async with app.run_test(size=WIDE) as pilot:
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


def test_month_bounds() -> None:
    from datetime import date

    from zbsn.tui.screens.reconcile import month_bounds

    assert month_bounds("2024-02") == (date(2024, 2, 1), date(2024, 2, 29))
    assert month_bounds("2025-12") == (date(2025, 12, 1), date(2025, 12, 31))
