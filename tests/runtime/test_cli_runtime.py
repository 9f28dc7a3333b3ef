"""The runtime CLI commands against the demo: exit codes, JSON output without secrets, re-authorisation."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

import zbsn.core.cli.cmd_audit
import zbsn.core.cli.cmd_connect
import zbsn.core.cli.cmd_serve
import zbsn.core.cli.cmd_sync  # noqa: F401 - registers the commands on the app
from zbsn.core.cli.app import app
from zbsn.core.demo import DemoHandle, start_demo
from zbsn.sandbox.servicenow import DEMO_CLIENT_SECRET as SN_SECRET
from zbsn.sandbox.zoho import DEMO_CLIENT_SECRET as ZOHO_SECRET

runner = CliRunner()


@pytest.fixture
def demo(tmp_path: Path) -> Iterator[tuple[DemoHandle, str]]:
    url = f"sqlite:///{tmp_path / 'cli-demo.db'}"
    handle = start_demo(url, seed=7, bills=50, rate_window_s=2.0, webhooks=False)
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
