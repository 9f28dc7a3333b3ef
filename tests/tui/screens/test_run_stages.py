"""The Run screen during a real sync against `zbsn sandbox` (a separate process), in the console `make_app`
builds: a progress row for every stage the engine runs (resend pending, documents, vendor credits included),
each finished with its counts, and the Zoho budget gauge saying the budget is the deployment's, shared by
every process, and how much of the window this console used."""

from __future__ import annotations

from typing import Any

from textual.pilot import Pilot
from textual.widgets import Label, Static

from tests.tui.conftest import ConnectedDatabase
from zbsn.core.engine.events import STAGES
from zbsn.sandbox.company_generator import generate_company
from zbsn.tui.app import make_app
from zbsn.tui.widgets.budget_gauge import BudgetGauge
from zbsn.tui.widgets.stage_progress import StageProgress


async def settled(pilot: Pilot[Any]) -> None:
    for _ in range(4):
        await pilot.pause()
        await pilot.app.workers.wait_for_complete()
    await pilot.pause()


def counts(app: Any, stage: str) -> str:
    return str(app.screen.query_one(StageProgress).row(stage).query_one(".stage-counts", Label).content)


async def test_every_stage_has_a_row_and_the_gauge_says_the_budget_is_shared(
    connected_db: ConnectedDatabase,
) -> None:
    company = generate_company(7, 80)  # the company `zbsn sandbox --bills 80 --seed 7` serves
    staged_credits = [c for c in company.vendor_credits if c.status not in ("void", "draft")]
    assert staged_credits
    assert any(b.documents for b in company.bills)
    app = make_app(connected_db.url, connected_db.settings, screen="run", serve=False)
    async with app.run_test(size=(120, 40)) as pilot:
        await settled(pilot)
        stages = app.screen.query_one(StageProgress)
        assert [row.stage for row in stages.query("StageRow")] == list(STAGES)
        assert {"pending", "attachments", "vendor_credits", "statuses"} <= set(STAGES)
        gauge = app.screen.query_one(BudgetGauge)
        assert "shared by all processes" in str(gauge.border_title)
        await pilot.press("s")
        for _ in range(600):
            await settled(pilot)
            if not app.screen.running:
                break
            await pilot.pause(0.1)
        assert not app.screen.running
        await settled(pilot)
        for stage in STAGES:
            assert stages.row(stage).has_class("-done"), stage
        assert counts(app, "pending") == "nothing left pending"
        assert " attached · " in counts(app, "attachments")
        assert not counts(app, "attachments").startswith("0 attached")  # the seeded documents went
        assert "memos staged" in counts(app, "vendor_credits")
        assert not counts(app, "vendor_credits").startswith("0 memos")
        assert "followed" in counts(app, "statuses")
        assert "shared by all processes" in str(gauge.border_title)
        who = str(gauge.query_one("#budget-who", Static).content)
        assert "this console" in who
        assert "other processes" in who
