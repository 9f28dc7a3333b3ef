"""The operator's whole story in plain `zbsn-tui` (no --demo), against `zbsn sandbox` in its own process.

The console is built by `zbsn.tui.app.make_app` on a fresh database, exactly as `zbsn-tui --db URL` builds
it. Everything is typed into the screens as an operator would: the Zoho Books client and a self-client code,
the ServiceNow instance and its OAuth client, a sync profile; then preview (the two missing cost centers
are listed), a run (the bills they block fail), the AP team creates the cost centers in ServiceNow (the
sandbox's admin endpoint), replay of every failure, reconciliation, a schedule. Then the console quits and a
new one opens on the same database: connections, profile, tokens, schedule and audit log are all there.
"""

from __future__ import annotations

from typing import Any

from sqlmodel import Session, select
from textual.pilot import Pilot
from textual.widgets import Input, Select, Static

from tests.external_sandbox import ExternalSandbox
from zbsn.core.db.engine import make_engine
from zbsn.core.db.models import AuditRecord, SyncRun
from zbsn.core.domain import AuditStatus, RecordKind
from zbsn.tui.app import make_app
from zbsn.tui.screens.audit import AuditScreen
from zbsn.tui.screens.preview import PreviewScreen
from zbsn.tui.screens.run import RunScreen

WIDE = (160, 48)


async def settled(pilot: Pilot[Any]) -> None:
    for _ in range(4):
        await pilot.pause()
        await pilot.app.workers.wait_for_complete()
    await pilot.pause()


async def until(pilot: Pilot[Any], condition: Any, rounds: int = 1200) -> None:
    """Let the console work until `condition()` holds; bounded, so a hang fails."""
    for _ in range(rounds):
        await settled(pilot)
        if condition():
            return
        await pilot.pause(0.1)
    raise AssertionError("the console never got there")


def bill_audits(url: str) -> list[AuditRecord]:
    with Session(make_engine(url)) as session:
        return list(session.exec(select(AuditRecord).where(AuditRecord.kind == RecordKind.BILL)).all())


async def test_the_operator_story_in_plain_zbsn_tui(sandbox: ExternalSandbox, tmp_path: Any) -> None:
    info = sandbox.info
    url = f"sqlite:///{tmp_path / 'operator.db'}"
    settings = sandbox.settings()
    app = make_app(url, settings, serve=False)
    async with app.run_test(size=WIDE) as pilot:
        await settled(pilot)
        # ---- Connect: Zoho Books with a self-client code, then ServiceNow -----------------------------
        await pilot.press("f2")
        await settled(pilot)
        connect = app.screen
        await pilot.click("#method-self")
        for field, value in (
            ("#zoho-client-id", info["zoho_client_id"]),
            ("#zoho-client-secret", info["zoho_client_secret"]),
            ("#zoho-accounts", info["zoho_accounts_url"]),
            ("#zoho-code", sandbox.self_client_code()),
        ):
            connect.query_one(field, Input).value = value
        await pilot.press("ctrl+k")
        await until(pilot, lambda: "Authorised" in str(connect.query_one("#zoho-outcome", Static).content))
        if connect.has_class("-choose-org"):
            connect.query_one("#zoho-org", Select).value = info["zoho_organization_id"]
            await pilot.click("#zoho-use-org")
            await settled(pilot)
        for field, value in (
            ("#sn-instance", info["servicenow_url"]),
            ("#sn-client-id", info["servicenow_client_id"]),
            ("#sn-client-secret", info["servicenow_client_secret"]),
        ):
            connect.query_one(field, Input).value = value
        await pilot.press("ctrl+s")
        await until(pilot, lambda: "Connected" in str(connect.query_one("#sn-outcome", Static).content))
        await until(
            pilot, lambda: "Both systems are connected" in str(connect.query_one("#screen-hint").content)
        )
        assert "create a sync profile" in str(connect.query_one("#screen-hint").content)

        # ---- Profiles: everything `zbsn profile create` asks ----------------------------------------
        await pilot.press("f6")
        await settled(pilot)
        profiles = app.screen
        profiles.query_one("#profile-name", Input).value = "Northwind EU"
        profiles.query_one("#profile-tag", Input).value = info["cost_center_tag_name"]
        profiles.query_one("#profile-legal-entity", Input).value = info["legal_entity"]
        profiles.query_one("#profile-supplier-create").value = True
        assert profiles.query_one("#profile-zoho", Select).value is not Select.NULL
        assert profiles.query_one("#profile-servicenow", Select).value is not Select.NULL
        await pilot.press("ctrl+s")
        await until(pilot, lambda: app.context.profile_id is not None)
        profile = app.context.workspace.get_profile(app.context.profile_id)
        assert (profile.name, profile.organization_id) == ("Northwind EU", info["zoho_organization_id"])
        assert profile.legal_entity == info["legal_entity"]
        assert profile.allow_supplier_create

        # ---- Preview: the two missing cost centers, with the bills each blocks ----------------------
        await pilot.press("f3")
        preview = app.screen
        assert isinstance(preview, PreviewScreen)
        await until(pilot, lambda: preview.preview is not None and bool(preview.mappings["cost_center"]))
        missing = {
            line.zoho_name: line.blocked_bills for line in preview.mappings["cost_center"] if line.missing
        }
        assert set(missing) == {m["name"] for m in info["missing_cost_centers"]}
        assert all(blocked > 0 for blocked in missing.values())
        assert "n to create" not in str(preview.query_one("#screen-hint").content)  # not the demo

        # ---- Run: the rest staged, the blocked bills failed with the reason -------------------------
        await pilot.press("f4")
        run_screen = app.screen
        assert isinstance(run_screen, RunScreen)
        await pilot.press("s")
        await until(pilot, lambda: not run_screen.running and run_screen.counts["staged"] > 0)
        failed = [a for a in bill_audits(url) if a.status == AuditStatus.FAILED]
        blocked_by_cost_center = [a for a in failed if a.error_code == "UNMAPPED_COST_CENTER"]
        assert len(blocked_by_cost_center) == sum(missing.values())
        # the seeded company also holds bills that fail for other reasons (an unreadable amount, a GL
        # account ServiceNow lacks, a vendor Zoho does not know): they stay failed through the replay
        others = {a.zoho_id for a in failed} - {a.zoho_id for a in blocked_by_cost_center}
        assert others

        # ---- Schedules: a weekday run -----------------------------------------------------------------
        await pilot.press("a")
        await settled(pilot)
        app.screen.query_one("#schedule-cron", Input).value = "0 6 * * 1-5"
        await pilot.click("#schedule-save")
        await settled(pilot)

        # ---- The AP team creates the cost centers in ServiceNow; Audit: replay every failure ---------
        for cost_center in info["missing_cost_centers"]:
            sandbox.create_cost_center(cost_center["account_number"])
        await pilot.press("f5")
        audit = app.screen
        assert isinstance(audit, AuditScreen)
        await settled(pilot)
        await pilot.press("f")
        await settled(pilot)
        await pilot.press("X")
        await settled(pilot)
        await pilot.press("enter")
        await until(
            pilot,
            lambda: (
                not audit.replaying
                and {a.zoho_id for a in bill_audits(url) if a.status == AuditStatus.FAILED} == others
            ),
        )
        replayed = {a.zoho_id for a in blocked_by_cost_center}
        assert {a.zoho_id for a in bill_audits(url) if a.status == AuditStatus.STAGED} >= replayed

        # ---- Reconcile a month ------------------------------------------------------------------------
        await pilot.press("e")
        await settled(pilot)
        app.screen.query_one("#reconcile-period", Input).value = "2026-09"
        await pilot.click("#reconcile-build")
        await until(pilot, lambda: "Building" not in str(app.screen.query_one("#reconcile-result").content))
        report = str(app.screen.query_one("#reconcile-result").content)
        assert "Could not" not in report
        await pilot.press("escape")
        await settled(pilot)
        await pilot.press("q")

    invoices = sandbox.servicenow_rows("sn_shop_invoice")
    staged = [a for a in bill_audits(url) if a.status == AuditStatus.STAGED]
    assert {a.external_key for a in staged} <= {row["external_invoice_number"] for row in invoices}

    # ---- A new console on the same database: everything is still there ----------------------------
    again = make_app(url, settings, serve=False)
    async with again.run_test(size=WIDE) as pilot:
        await settled(pilot)
        workspace = again.context.workspace
        assert [p.name for p in workspace.list_profiles()] == ["Northwind EU"]
        assert again.context.profile_id == workspace.list_profiles()[0].id
        states = {s.system: s.state for s in workspace.token_statuses(again.context.profile_id)}
        assert states == {"zoho": "ok", "servicenow": "ok"}
        assert [s.cron for s in again.context.schedules.list_schedules(again.context.profile_id)] == [
            "0 6 * * 1-5"
        ]
        await pilot.press("f5")
        await settled(pilot)
        table = again.screen.query_one("#audit-table")
        assert table.row_count > 0
        # the tokens still work: a preview from the reopened console reads both systems
        await pilot.press("f3")
        await until(pilot, lambda: again.screen.preview is not None)
        assert not [line for line in again.screen.mappings["cost_center"] if line.missing]
    with Session(make_engine(url)) as session:
        runs = session.exec(select(SyncRun)).all()
    assert len(runs) == 2  # the sync and the replay
