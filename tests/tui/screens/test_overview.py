"""All profiles (F7): a firm's orgs at a glance, live; filter by name or state, attention only, Enter jumps.

Three org profiles on one database; one org's shared Zoho budget is in use by "other processes" (rows of the
database's budget, as workers on other hosts leave them), one profile has a run holding its lock and two have
staged bills in several ServiceNow statuses. The console comes from the real factory.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import sqlalchemy as sa
from rich.text import Text
from textual.widgets import DataTable

from tests.tui.screens.test_profiles import ORGS, WIDE, settled, three_orgs_one_instance
from zbsn.core.budget_store import DbBudgetStore, OrgUse
from zbsn.core.db.engine import make_engine
from zbsn.core.db.models import AuditRecord, RunLock
from zbsn.core.profile_status import ProfileStatus
from zbsn.core.profiles import ProfileView
from zbsn.core.settings import Settings
from zbsn.tui.app import make_app
from zbsn.tui.screens.overview import OverviewScreen, budget_cell, matches, servicenow_cell


def row_texts(table: DataTable[object]) -> dict[str, list[str]]:
    return {
        str(key.value): [str(cell) for cell in table.get_row(key)]  # Text cells render as their plain text
        for key in table.rows
    }


def other_processes_use(url: str, org: str, requests: int, in_flight: int) -> None:
    """Requests of the org sent by other processes of the deployment (completed, and still in flight)."""
    engine = make_engine(url)
    store = DbBudgetStore(engine)
    for n in range(requests + in_flight):
        admission = store.admit_sync(org, limit=100, concurrency=10, window_s=60.0)
        assert admission.lease is not None
        if n < requests:
            store.complete_sync(org, admission.lease, 1, 60.0, None)
    engine.dispose()


def hold_run_lock(url: str, profile_id: int) -> None:
    engine = make_engine(url)
    now = datetime.now(UTC)
    with engine.begin() as conn:
        conn.execute(
            sa.insert(RunLock.__table__).values(  # type: ignore[attr-defined]
                profile_id=profile_id,
                run_id=None,
                holder="worker-host:4242",
                acquired_at=now,
                heartbeat_at=now,
            )
        )
    engine.dispose()


def followed_bills(url: str, profile_id: int, sn_statuses: dict[str, int]) -> None:
    """Staged bills of the profile in these ServiceNow statuses (as a status refresh leaves them)."""
    engine = make_engine(url)
    now = datetime.now(UTC)
    statuses = [name for name, count in sn_statuses.items() for _ in range(count)]
    with engine.begin() as conn:
        conn.execute(
            sa.insert(AuditRecord.__table__),  # type: ignore[attr-defined]
            [
                {
                    "profile_id": profile_id,
                    "kind": "bill",
                    "zoho_id": f"{profile_id}{n:05d}",
                    "external_key": f"ZB-{profile_id}-bill-{n:05d}",
                    "status": "staged",
                    "sn_status": sn_status,
                    "created_at": now,
                    "updated_at": now,
                }
                for n, sn_status in enumerate(statuses)
            ],
        )
    engine.dispose()


async def test_all_profiles_shows_state_and_shared_budget_filters_and_jumps(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'firm.db'}"
    app = make_app(url, Settings(), serve=False)
    zoho, servicenow = three_orgs_one_instance(url)
    async with app.run_test(size=WIDE) as pilot:
        await settled(pilot)
        workspace = app.context.workspace
        ids = {
            dc: workspace.create_profile(f"Northwind {dc.upper()}", zoho_id, servicenow).id
            for (dc, _org, _name), zoho_id in zip(ORGS, zoho, strict=True)
        }
        other_processes_use(url, ORGS[1][1], requests=93, in_flight=2)  # the EU org, near its limit
        await pilot.press("f7")
        await settled(pilot)
        screen = app.screen
        assert isinstance(screen, OverviewScreen)
        table = screen.query_one("#overview-table", DataTable)
        rows = row_texts(table)
        assert set(rows) == {str(i) for i in ids.values()}
        eu = rows[str(ids["eu"])]
        assert "95/100 · 2 in flight" in eu  # every process's requests, in flight ones included
        assert "no requests yet" in rows[str(ids["us"])]
        assert all("idle" in row for row in rows.values())
        assert all(row[6] == "—" for row in rows.values())  # nothing followed in ServiceNow yet

        # staged bills of two orgs, followed in ServiceNow: the column counts them per status, in order
        followed_bills(url, ids["us"], {"paid": 40, "exceptions_found": 3, "approved": 12})
        followed_bills(url, ids["eu"], {"posting_failed": 1, "draft": 2})
        await pilot.press("r")
        await settled(pilot)
        rows = row_texts(table)
        assert rows[str(ids["us"])][6] == "3 exc·12 appr·40 paid"
        assert rows[str(ids["eu"])][6] == "2 draft·1 post err"
        assert rows[str(ids["in"])][6] == "—"
        us_cell = table.get_row(str(ids["us"]))[6]
        assert isinstance(us_cell, Text)
        assert [
            (us_cell.plain[span.start : span.end], span.style) for span in us_cell.spans if span.style
        ] == [
            ("3 exc", "bold red"),
            ("·", "dim"),
            ("·", "dim"),
        ]

        # a worker elsewhere starts a run of the IN profile: the next refresh shows it
        hold_run_lock(url, ids["in"])
        await pilot.press("r")
        await settled(pilot)
        assert "running" in row_texts(table)[str(ids["in"])]
        assert "1 running" in str(screen.query_one("#screen-hint").content)

        # filter by state, then by organization
        await pilot.press("slash", *"running")
        await settled(pilot)
        assert list(row_texts(table)) == [str(ids["in"])]
        screen.query_one("#overview-filter").value = "gmbh"  # type: ignore[attr-defined]
        await settled(pilot)
        assert list(row_texts(table)) == [str(ids["eu"])]

        # Enter works on it and opens its Run screen
        await pilot.press("enter")  # leaves the filter for the table
        await settled(pilot)
        await pilot.press("enter")
        await settled(pilot)
        assert app.context.profile_id == ids["eu"]
        assert app.screen is app.get_screen("run")

        # back on F7 the filter is kept, and the profile worked on is marked
        await pilot.press("f7")
        await settled(pilot)
        assert row_texts(table)[str(ids["eu"])][0] == "▶"


def a_status(
    name: str,
    *,
    failed: int = 0,
    tokens_ok: bool = True,
    running: bool = False,
    servicenow: dict[str, int] | None = None,
) -> ProfileStatus:
    view = ProfileView(
        1, name, 1, 2, "70010001", "Northwind Inc.", None, "reporting_tag", "CC", False, None, True
    )
    state = "ok" if tokens_ok else "reauthorise"
    return ProfileStatus(
        view,
        None,
        {"failed": failed} if failed else {},
        {"zoho": state, "servicenow": "ok"},
        running=running,
        servicenow=servicenow or {},
    )


def test_the_filter_matches_words_and_attention_only_keeps_what_needs_the_operator() -> None:
    fine, failing, reauth = a_status("US"), a_status("EU", failed=3), a_status("IN", tokens_ok=False)
    assert [s.profile.name for s in (fine, failing, reauth) if matches(s, "", attention_only=True)] == [
        "EU",
        "IN",
    ]
    assert matches(fine, "", attention_only=False)
    assert matches(fine, "northwind idle", attention_only=False)  # every word, anywhere
    assert not matches(fine, "northwind running", attention_only=False)
    assert matches(a_status("X", running=True), "RUNNING", attention_only=False)


def test_invoices_servicenow_holds_back_make_a_profile_need_attention() -> None:
    moving = a_status("US", servicenow={"paid": 40, "approved": 12, "pending_approval": 5, "draft": 1})
    exceptions = a_status("EU", servicenow={"paid": 40, "exceptions_found": 3})
    posting = a_status("IN", servicenow={"posting_failed": 1})
    assert [s.profile.name for s in (moving, exceptions, posting) if matches(s, "", attention_only=True)] == [
        "EU",
        "IN",
    ]
    assert (moving.servicenow_waiting, exceptions.servicenow_waiting, posting.servicenow_waiting) == (0, 3, 1)
    assert str(servicenow_cell(moving)) == "1 draft·5 pend·12 appr·40 paid"
    assert (
        str(servicenow_cell(a_status("X", servicenow={"weird_state": 2, "paid": 1})))
        == "1 paid·2 weird_state"
    )
    assert str(servicenow_cell(a_status("Y"))) == "—"


def test_the_budget_cell_warns_near_the_limit_and_says_a_pause_and_why() -> None:
    def use(used: int, paused_for: float = 0.0) -> OrgUse:
        return OrgUse("1", used, 0, 60.0, paused_for, "code 44" if paused_for else None, used, None, None)

    assert str(budget_cell(use(40), 100)) == "40/100"
    styles = [budget_cell(use(n), 100).style for n in (40, 75, 95)]
    assert styles == ["green", "yellow", "red"]
    paused = budget_cell(use(100, paused_for=42.4), 100)
    assert isinstance(paused, Text)
    assert str(paused) == "paused 42 s (code 44)"
