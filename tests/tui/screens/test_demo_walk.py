"""The demo story, walked through the console like an operator would (issue 7, "Demo" and "Done means").

connect → preview (two unmapped cost centers, each with its blocked bills) → run (the rest staged, the blocked
bills failed) → audit (failed: the blocked bills, UNMAPPED_COST_CENTER) → the demo action creates the cost
centers in the ServiceNow sandbox → replay all failed in the filter → they are staged (DB and ServiceNow).
Then one invoice's life in ServiceNow, each step read by a status refresh (R): draft → exceptions found
(the supplier zbsn created has no legal-entity mapping) → the AP team maps it → replay (X) → pending
approval → the AP team approves → posted by zbsn as the ERP → paid in Zoho, the payment matched by the ERP
number → paid.

Both sandboxes run in-process (`start_demo`), the app comes from `tui.main.demo_app` (what `--demo` runs),
and every wait is on workers and messages, never on the clock.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from rich.console import Console
from sqlmodel import Session, select
from textual.message import Message
from textual.pilot import Pilot
from textual.widgets import DataTable, Select, Static

from tests.tui.screens.conftest import WIDE
from zbsn.core.audit_servicenow import ServiceNowDetail
from zbsn.core.db.models import AuditRecord, SyncRun
from zbsn.core.domain import AuditStatus, RecordKind
from zbsn.core.engine.events import TokenStatusChanged
from zbsn.sandbox.demo import DemoHandle, start_demo
from zbsn.tui import app as tui_app
from zbsn.tui import messages as m
from zbsn.tui.main import demo_app
from zbsn.tui.navigation import ConsoleCommands
from zbsn.tui.screens.connect import ConnectionsRead
from zbsn.tui.screens.preview import DemoCostCenterCreated
from zbsn.tui.screens.services import ConsoleContext
from zbsn.tui.widgets.audit_detail import AuditDetailPane

DASH = "\u2013"  # the demo company names its cost centers "Team, en dash, City"
MISSING = {f"Technology {DASH} London": "CC-LON-300", f"Tax {DASH} Edinburgh": "CC-EDI-200"}
UNMAPPED_CC = "UNMAPPED_COST_CENTER"


@pytest.fixture
def demo(tmp_path: Path) -> Iterator[DemoHandle]:
    """The seeded company with 80 bills, a temp database, Zoho's 100-request window shortened to 2 s."""
    handle = start_demo(
        f"sqlite:///{tmp_path / 'demo.db'}", seed=7, bills=80, rate_window_s=2.0, webhooks=False
    )
    yield handle
    handle.stop()


async def settled(pilot: Pilot[Any], until: Callable[[], bool] = lambda: True, rounds: int = 40) -> None:
    """Let workers finish and their messages be handled, until `until()` holds (bounded; no sleeping)."""
    for _ in range(rounds):
        await pilot.pause()
        await pilot.app.workers.wait_for_complete()
        await pilot.pause()
        if until() and not any(w.is_running for w in pilot.app.workers):
            return
    raise AssertionError("the console did not settle")


def of_type(posted: list[Message], kind: type[Message]) -> list[Any]:
    unique = {id(message): message for message in posted if isinstance(message, kind)}
    return list(unique.values())


def bill_audits(db: sa.Engine) -> list[AuditRecord]:
    with Session(db) as session:
        return list(session.exec(select(AuditRecord).where(AuditRecord.kind == RecordKind.BILL)).all())


def cells(table: DataTable[Any]) -> list[list[str]]:
    return [[str(cell) for cell in table.get_row_at(row)] for row in range(table.row_count)]


async def refresh(pilot: Pilot[Any], posted: list[Message], nth: int) -> None:
    """R on the Audit screen: read every followed invoice in ServiceNow; wait for the `nth` refresh."""
    if pilot.app.screen.name != "audit":
        await pilot.press("f5")
        await settled(pilot)
    await pilot.press("R")
    await settled(pilot, lambda: len(of_type(posted, m.StatusesRefreshDone)) == nth)
    result = of_type(posted, m.StatusesRefreshDone)[-1].result
    assert result.status in ("succeeded", "completed_with_failures"), result.message


async def shown_detail(pilot: Pilot[Any], posted: list[Message], audit_id: int | None) -> ServiceNowDetail:
    """Highlight the record on the Audit screen; the ServiceNow part of the detail the pane was given."""
    screen = pilot.app.screen
    table = screen.query_one("#audit-table", DataTable)
    await settled(pilot, lambda: str(audit_id) in {str(k.value) for k in table.rows})
    table.focus()
    table.move_cursor(row=[str(k.value) for k in table.rows].index(str(audit_id)))
    await settled(
        pilot,
        lambda: any(d.audit_id == audit_id and d.detail for d in of_type(posted, m.AuditDetailLoaded)),
    )
    loaded = [d for d in of_type(posted, m.AuditDetailLoaded) if d.audit_id == audit_id and d.detail]
    servicenow = loaded[-1].detail.servicenow
    assert servicenow is not None
    return servicenow


def status_of(demo: DemoHandle, audit_id: int | None) -> str | None:
    with Session(demo.db_engine) as session:
        record = session.get(AuditRecord, audit_id)
        return record.sn_status if record else None


def pane_text(pane: AuditDetailPane) -> str:
    console = Console(width=120, record=True, file=io.StringIO())
    for static in pane.query(Static):
        console.print(static.content)
    return console.export_text()


async def test_demo_walk_connect_preview_run_audit_fix_replay(demo: DemoHandle) -> None:
    posted: list[Message] = []
    app = demo_app(demo)
    async with app.run_test(size=WIDE, message_hook=posted.append) as pilot:
        # ---- Connect: both systems connected, with the Zoho DC/org and the ServiceNow instance ------------
        await pilot.press("f2")
        await settled(pilot, lambda: bool(of_type(posted, ConnectionsRead)))
        connect = app.screen
        assert connect.name == "connect"
        zoho_token = str(connect.query_one("#zoho-token", Static).content)
        sn_token = str(connect.query_one("#sn-token", Static).content)
        zoho_facts = str(connect.query_one("#zoho-facts", Static).content)
        sn_facts = str(connect.query_one("#sn-facts", Static).content)
        assert "connected" in zoho_token
        assert "not connected" not in zoho_token
        assert "connected" in sn_token
        assert "not connected" not in sn_token
        assert demo.organization_id in zoho_facts
        assert "Data center   eu" in zoho_facts
        assert demo.servicenow_url in sn_facts
        assert "Both systems are connected" in str(connect.query_one("#screen-hint", Static).content)
        for part in ("#status-zoho", "#status-sn"):  # every screen's status bar starts with the token state
            assert "●[/] connected" in str(connect.query_one(part, Static).content)

        # ---- Preview: exactly the two missing cost centers, each with the bills it blocks -------------
        await pilot.press("f3")
        await settled(
            pilot, lambda: app.screen.preview is not None and bool(app.screen.mappings["cost_center"])
        )
        preview = app.screen
        missing = [line for line in preview.mappings["cost_center"] if line.missing]
        assert {line.zoho_name for line in missing} == set(MISSING)
        report = preview.preview
        blocked_ids: dict[str, set[str]] = {name: set() for name in MISSING}
        for item in report.items:
            for problem in item.problems:
                if problem.code == UNMAPPED_CC and problem.subject in blocked_ids:
                    blocked_ids[problem.subject].add(item.bill_id)
        for line in missing:
            assert line.blocked_bills == len(blocked_ids[line.zoho_name]) > 0
        rows = cells(preview.query_one("#map-cost_center", DataTable))
        assert [(r[0], r[1], r[4]) for r in rows[:2]] == [
            ("MISSING", line.zoho_name, str(line.blocked_bills)) for line in missing
        ]
        assert all(r[0] != "MISSING" for r in rows[2:])
        cc_blocked = set().union(*blocked_ids.values())
        assert {cc.account_number for cc in demo.missing_cost_centers()} == set(MISSING.values())

        # ---- Run: the rest is staged, the blocked bills fail; the screen's counts are the DB's ---------
        await pilot.press("f4")
        await settled(pilot)
        await pilot.press("s")
        await settled(pilot, lambda: bool(of_type(posted, m.RunCompleted)) and not app.screen.running)
        summary = of_type(posted, m.RunCompleted)[0].result
        with Session(demo.db_engine) as session:
            run = session.exec(select(SyncRun)).one()
        assert (run.staged, run.failed) == (summary.staged, summary.failed)
        assert run.staged > 0
        assert run.failed >= len(cc_blocked)
        counts = str(app.screen.query_one("#run-counts", Static).content)
        assert f"{run.staged:,} staged" in counts
        assert f"{run.failed:,} failed" in counts
        failed_cc = {a.zoho_id for a in bill_audits(demo.db_engine) if a.error_code == UNMAPPED_CC}
        assert failed_cc == cc_blocked

        # ---- Audit: failed only; the blocked bills are there, with reason UNMAPPED_COST_CENTER ---------
        await pilot.press("f5")
        await settled(pilot, lambda: app.screen.page_data is not None)
        await pilot.press("f")
        await settled(pilot, lambda: app.screen.filter.status == "failed" and app.screen.page_data.rows != ())
        audit = app.screen
        page = audit.page_data.rows
        assert {row.status for row in page} == {"failed"}
        assert len(page) == run.failed
        on_screen_cc = {r.zoho_id for r in page if r.kind == "bill" and r.error_code == UNMAPPED_CC}
        assert on_screen_cc == cc_blocked

        # ---- Fix (demo action): create both cost centers in the ServiceNow sandbox from the Preview ----
        await pilot.press("f3")
        await settled(pilot)
        commands = [hit.text async for hit in ConsoleCommands(app.screen).discover()]
        assert "Demo: create the missing cost center in ServiceNow" in commands
        shown = {active.binding.action for active in app.screen.active_bindings.values() if active.enabled}
        assert "demo_create_cost_center" in shown
        for created in (1, 2):
            await pilot.press("m", "n")
            await settled(pilot, lambda n=created: len(of_type(posted, DemoCostCenterCreated)) == n)
        made = of_type(posted, DemoCostCenterCreated)
        assert {(c.account_number, c.name, c.created) for c in made} == {
            (number, name, True) for name, number in MISSING.items()
        }
        assert demo.missing_cost_centers() == []
        now = {line.zoho_name: line for line in app.screen.mappings["cost_center"]}
        for name, number in MISSING.items():
            assert (now[name].status, now[name].sn_value) == ("matched", number)

        # ---- Replay every failed record in the filter: the blocked bills are staged ------------------
        await pilot.press("f5")
        await settled(pilot)
        assert app.screen.filter.status == "failed"
        await pilot.press("X")
        await settled(pilot)
        await pilot.press("enter")  # confirm
        await settled(pilot, lambda: bool(of_type(posted, m.ReplayFinished)))
        finished = of_type(posted, m.ReplayFinished)[0]
        assert {r.zoho_id for r in page if r.id in set(finished.ids)} >= cc_blocked
        await settled(pilot, lambda: app.screen.page_data is not None)
        still_failed = app.screen.page_data.rows
        assert all(r.error_code != UNMAPPED_CC for r in still_failed)

        # ---- ServiceNow's job checks the imported invoices; R reads where each stands now ---------------
        demo.run_invoice_processing()
        await pilot.press("c")
        await settled(pilot, lambda: app.screen.filter.status is None)
        await refresh(pilot, posted, 1)
        app.screen.query_one("#filter-sn", Select).value = "exceptions_found"
        await settled(pilot, lambda: app.screen.filter.sn_status == "exceptions_found")
        held = [r for r in app.screen.page_data.rows if r.kind == "bill"]
        assert held
        assert {r.sn_status for r in held} == {"exceptions_found"}
        story = held[0]
        assert all(r.vendor_name == story.vendor_name for r in held)  # the supplier zbsn created
        shown = cells(app.screen.query_one("#audit-table", DataTable))
        assert all(row[2] == "exceptions" for row in shown)
        detail = await shown_detail(pilot, posted, story.id)
        definitions = {e["definition"] for e in detail.exceptions}
        assert "Invalid or blocked supplier" in definitions
        assert not detail.replay_fixes  # the AP team acts first
        invoice_sys_id = detail.invoice_sys_id
        pane = pane_text(app.screen.query_one(AuditDetailPane))
        assert "Invalid or blocked supplier" in pane
        assert "ServiceNow history" in pane

        # ---- The AP team maps the supplier in ServiceNow; the job re-checks; re-staging fixes the rest ---
        demo.map_supplier(story.vendor_name or "")
        demo.run_invoice_processing()
        await refresh(pilot, posted, 2)
        detail = await shown_detail(pilot, posted, story.id)
        assert {e["definition"] for e in detail.exceptions} == {"Missing required information"}
        assert detail.replay_fixes
        await pilot.press("X")
        await settled(pilot)
        await pilot.press("enter")  # confirm: replays the records ServiceNow says re-staging fixes
        await settled(pilot, lambda: len(of_type(posted, m.ReplayFinished)) == 2)
        assert story.id in of_type(posted, m.ReplayFinished)[1].ids
        demo.run_invoice_processing()
        await refresh(pilot, posted, 3)
        assert status_of(demo, story.id) == "pending_approval"

        # ---- The AP team approves it; the next refresh posts it as the ERP (Zoho's bill id and date) ----
        demo.approve_invoice(invoice_sys_id)
        await refresh(pilot, posted, 4)
        assert status_of(demo, story.id) == "posted"
        invoice = next(i for i in demo.servicenow.table("sn_shop_invoice") if i["sys_id"] == invoice_sys_id)
        assert invoice["state"] == "pending_payment"
        assert invoice["erp_number"] == story.zoho_id

        # ---- Zoho pays the bill; the next run stages the payment, matched by that ERP number: paid ------
        demo.pay_bill(story.zoho_id)
        await pilot.press("f4")
        await settled(pilot)
        await pilot.press("s")
        await settled(pilot, lambda: len(of_type(posted, m.RunCompleted)) == 2 and not app.screen.running)
        assert status_of(demo, story.id) == "paid"
        await pilot.press("f5")
        await settled(pilot)
        app.screen.query_one("#filter-sn", Select).value = "paid"
        await settled(pilot, lambda: app.screen.filter.sn_status == "paid")
        detail = await shown_detail(pilot, posted, story.id)
        steps = [(c.from_status, c.to_status) for c in detail.history]
        assert steps[0] == (None, "draft")
        assert steps == [
            (None, "draft"),
            ("draft", "exceptions_found"),
            ("exceptions_found", "exceptions_found"),  # the supplier mapped: what re-staging fixes is left
            ("exceptions_found", "pending_approval"),  # replayed, checked again by the job
            ("pending_approval", "approved"),  # approved by the AP team ...
            ("approved", "posted"),  # ... and posted by zbsn as the ERP in the same refresh
            ("posted", "paid"),
        ]

    audits = {a.zoho_id: a for a in bill_audits(demo.db_engine)}
    assert {audits[bill_id].status for bill_id in cc_blocked} == {AuditStatus.STAGED}
    invoices = {row["external_invoice_number"] for row in demo.servicenow.table("sn_shop_invoice")}
    assert {audits[bill_id].external_key for bill_id in cc_blocked} <= invoices
    numbers = {row["sys_id"]: row["account_number"] for row in demo.servicenow.table("cmn_cost_center")}
    used = {numbers.get(line["cost_center"]) for line in demo.servicenow.table("sn_shop_invoice_line")}
    assert set(MISSING.values()) <= used


def test_preview_in_demo_mode_shows_the_two_missing_cost_centers(
    snap_compare: Any, demo: DemoHandle, monkeypatch: pytest.MonkeyPatch
) -> None:
    def fixed_token_states(context: ConsoleContext) -> None:
        """Both connected, without the time-dependent countdown to the next refresh."""
        for status in context.workspace.token_statuses(context.profile_id):
            context.bus(TokenStatusChanged(system=status.system, state=status.state, expires_in_s=None))

    monkeypatch.setattr(tui_app, "seed_token_states", fixed_token_states)

    async def open_preview(pilot: Pilot[Any]) -> None:
        await pilot.press("f3")
        await settled(
            pilot,
            lambda: pilot.app.screen.preview is not None and bool(pilot.app.screen.mappings["cost_center"]),
        )

    assert snap_compare(demo_app(demo), terminal_size=WIDE, run_before=open_preview)
