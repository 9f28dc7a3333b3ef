"""The runtime CLI commands against the demo: exit codes, JSON output without secrets, re-authorisation."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

import zbsn.core.cli.cmd_audit
import zbsn.core.cli.cmd_connect
import zbsn.core.cli.cmd_preview
import zbsn.core.cli.cmd_reconcile
import zbsn.core.cli.cmd_replay
import zbsn.core.cli.cmd_serve
import zbsn.core.cli.cmd_sync  # noqa: F401 - registers the commands on the app
from tests.core.conftest import NO_WAIT_RETRY
from zbsn.core import clients
from zbsn.core.cli.app import app
from zbsn.sandbox.demo import DemoHandle, start_demo
from zbsn.sandbox.servicenow import DEMO_CLIENT_SECRET as SN_SECRET
from zbsn.sandbox.zoho import DEMO_CLIENT_SECRET as ZOHO_SECRET

runner = CliRunner()


@pytest.fixture
def demo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[DemoHandle, str]]:
    # Rate limits are the Zoho client's own tests' business: here the sandbox admits everything and the
    # CLI's budget allows 1,000 requests a minute, so no run waits for a window.
    monkeypatch.setenv("ZBSN_ZOHO__PER_MINUTE_LIMIT", "1000")
    url = f"sqlite:///{tmp_path / 'cli-demo.db'}"
    handle = start_demo(url, seed=7, bills=50, webhooks=False)
    handle.zoho.set_limits(enabled=False)
    yield handle, url
    handle.stop()


def _secrets(handle: DemoHandle) -> list[str]:
    values = [ZOHO_SECRET, SN_SECRET]
    for view in handle.workspace.list_connections():
        tokens = handle.workspace.token_store(view.id).load_sync()
        if tokens is not None:
            values += [t for t in (tokens.access_token, tokens.refresh_token) if t]
    return values


def test_sync_json_summary_and_exit_code(demo: tuple[DemoHandle, str]) -> None:
    handle, url = demo
    result = runner.invoke(app, ["--db", url, "sync", "--full", "--json"])
    summary = json.loads(result.stdout)
    assert summary["status"] in ("succeeded", "completed_with_failures"), summary
    assert result.exit_code == (0 if summary["status"] == "succeeded" else 1)
    assert summary["exit_code"] == result.exit_code
    assert summary["staged"] > 0
    assert summary["profile"] == handle.workspace.get_profile(handle.profile_id).name
    for secret in _secrets(handle):
        assert secret not in result.stdout

    again = runner.invoke(app, ["--db", url, "sync", "--changed", "--json"])
    second = json.loads(again.stdout)
    assert second["staged"] == 0, second  # nothing new since the first run


def test_audit_json_pages_and_filters(demo: tuple[DemoHandle, str]) -> None:
    _handle, url = demo
    assert runner.invoke(app, ["--db", url, "sync", "--full", "--json"]).exit_code in (0, 1)
    first = runner.invoke(app, ["--db", url, "audit", "--kind", "bill", "--limit", "5", "--json"])
    assert first.exit_code == 0, first.output
    page = json.loads(first.stdout)
    assert len(page["rows"]) == 5
    assert {row["kind"] for row in page["rows"]} == {"bill"}
    assert page["next_cursor"]
    args = ["--db", url, "audit", "--kind", "bill", "--limit", "5", "--after", page["next_cursor"]]
    second = runner.invoke(app, [*args, "--json"])
    next_page = json.loads(second.stdout)
    assert {r["id"] for r in page["rows"]}.isdisjoint({r["id"] for r in next_page["rows"]})
    bad = runner.invoke(app, ["--db", url, "audit", "--status", "exploded"])
    assert bad.exit_code == 2


def test_revoked_zoho_token_exits_3(demo: tuple[DemoHandle, str]) -> None:
    handle, url = demo
    assert handle.revoke_zoho() >= 1
    result = runner.invoke(app, ["--db", url, "sync", "--json"])
    summary = json.loads(result.stdout)
    assert summary["status"] == "reauth", summary
    assert result.exit_code == 3
    zoho_id = handle.workspace.get_profile(handle.profile_id).zoho_connection_id
    assert handle.workspace.get_connection(zoho_id).state == "reauth"


def test_preview_fix_replay_reconcile(demo: tuple[DemoHandle, str], tmp_path: Path) -> None:
    handle, url = demo
    preview = runner.invoke(app, ["--db", url, "preview", "--from", "2000-01-01", "--json"])
    assert preview.exit_code == 0, preview.output
    report = json.loads(preview.stdout)
    assert report["counts"]["blocked"] > 0
    missing_names = {m.name for m in handle.missing_cost_centers()}
    blocked_cost_centers = {
        entry["missing"] for entry in report["blocked_by"] if entry["error_code"] == "UNMAPPED_COST_CENTER"
    }
    assert blocked_cost_centers == missing_names
    csv_file = tmp_path / "preview.csv"
    assert runner.invoke(app, ["--db", url, "preview", "--changed", "--csv", str(csv_file)]).exit_code == 0
    assert csv_file.read_text().startswith("bill_number,")

    first = json.loads(runner.invoke(app, ["--db", url, "sync", "--full", "--json"]).stdout)
    assert first["failed"] > 0
    handle.create_all_missing_cost_centers()
    replayed = runner.invoke(app, ["--db", url, "replay", "--all-failed", "--kind", "bill", "--json"])
    outcome = json.loads(replayed.stdout)
    assert outcome["staged"] > 0, outcome
    assert replayed.exit_code == (0 if outcome["failed"] == 0 else 1)

    reconciled = runner.invoke(app, ["--db", url, "reconcile", "--from", "2000-01-01", "--json"])
    result = json.loads(reconciled.stdout)
    assert result["zoho"]["count"] > 0
    assert reconciled.exit_code == (0 if result["balanced"] else 1)
    assert runner.invoke(app, ["--db", url, "replay"]).exit_code == 2
    assert runner.invoke(app, ["--db", url, "preview", "--from", "31/01/2025"]).exit_code == 2


def test_locked_profile_exits_4(demo: tuple[DemoHandle, str]) -> None:
    from datetime import UTC, datetime

    from zbsn.core.db.models import SyncRun
    from zbsn.core.engine import lock

    handle, url = demo
    now = datetime.now(UTC)
    lease = lock.acquire(handle.db_engine, handle.profile_id, SyncRun(profile_id=handle.profile_id), now)
    try:
        result = runner.invoke(app, ["--db", url, "sync", "--json"])
        assert result.exit_code == 4, result.output
        assert "already running" in result.stderr
    finally:
        lock.release(handle.db_engine, lease)
    assert runner.invoke(app, ["--db", url, "sync", "--json"]).exit_code in (0, 1)


def test_unreachable_servicenow_exits_5(
    demo: tuple[DemoHandle, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # The CLI builds its own workspace: its clients get the no-wait policy as their default, so the
    # ServiceNow client still makes every attempt, without ~28 s of backoff between them.
    monkeypatch.setattr(clients, "DEFAULT_SERVICENOW_RETRY", NO_WAIT_RETRY)
    handle, url = demo
    handle.servicenow.stop()
    result = runner.invoke(app, ["--db", url, "sync", "--json"])
    assert result.exit_code == 5, result.output


def test_replay_one_record_by_id(demo: tuple[DemoHandle, str]) -> None:
    handle, url = demo
    runner.invoke(app, ["--db", url, "sync", "--full", "--json"])
    failed = json.loads(
        runner.invoke(app, ["--db", url, "audit", "--status", "failed", "--kind", "bill", "--json"]).stdout
    )
    blocked = [r for r in failed["rows"] if r["error_code"] == "UNMAPPED_COST_CENTER"]
    assert blocked
    handle.create_all_missing_cost_centers()
    result = runner.invoke(app, ["--db", url, "replay", str(blocked[0]["id"]), "--json"])
    summary = json.loads(result.stdout)
    assert (summary["staged"], summary["failed"]) == (1, 0), summary
    assert result.exit_code == 0
    after = json.loads(
        runner.invoke(app, ["--db", url, "audit", "--text", blocked[0]["zoho_number"], "--json"]).stdout
    )
    assert [r["status"] for r in after["rows"] if r["id"] == blocked[0]["id"]] == ["staged"]
