"""`zbsn preview` and `zbsn audit --json` show each bill's document (name and size) and what became of it."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

import zbsn.core.cli.cmd_audit
import zbsn.core.cli.cmd_preview
import zbsn.core.cli.cmd_sync  # noqa: F401 - registers the commands on the app
from zbsn.core.cli.app import app
from zbsn.sandbox.demo import DemoHandle, start_demo

runner = CliRunner()


@pytest.fixture
def demo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[DemoHandle, str]]:
    monkeypatch.setenv("ZBSN_ZOHO__PER_MINUTE_LIMIT", "1000")
    url = f"sqlite:///{tmp_path / 'cli-documents.db'}"
    handle = start_demo(url, seed=7, bills=80, webhooks=False)
    handle.zoho.set_limits(enabled=False)
    yield handle, url
    handle.stop()


def test_preview_and_audit_show_documents(demo: tuple[DemoHandle, str]) -> None:
    _handle, url = demo
    preview = runner.invoke(app, ["--db", url, "preview", "--from", "2000-01-01", "--json"])
    assert preview.exit_code == 0, preview.output
    listed = {
        a["document_id"]: (bill["bill_number"], a)
        for bill in json.loads(preview.stdout)["bills"]
        for a in bill["attachments"]
    }
    assert len(listed) >= 5
    for _number, attachment in listed.values():
        assert attachment["file_name"].endswith(".pdf")
        assert attachment["size_bytes"] > 500
        assert attachment["outcome"] == "attach"
    text = runner.invoke(app, ["--db", url, "preview", "--from", "2000-01-01"])
    assert "Vendor invoice documents" in text.stdout
    for _number, attachment in listed.values():
        assert attachment["file_name"] in text.stdout

    assert runner.invoke(app, ["--db", url, "sync", "--full", "--json"]).exit_code in (0, 1)
    audit = runner.invoke(app, ["--db", url, "audit", "--kind", "attachment", "--limit", "1000", "--json"])
    assert audit.exit_code == 0, audit.output
    rows = json.loads(audit.stdout)["rows"]
    attached = {r["zoho_id"]: r for r in rows}
    staged_bills = {
        r["zoho_number"]
        for r in json.loads(
            runner.invoke(
                app,
                ["--db", url, "audit", "--kind", "bill", "--status", "staged", "--limit", "1000", "--json"],
            ).stdout
        )["rows"]
    }
    expected = {d for d, (number, _a) in listed.items() if number in staged_bills}
    assert set(attached) == expected
    for document_id, row in attached.items():
        assert row["status"] == "staged"
        (shown,) = row["documents"]
        assert shown["file_name"] == listed[document_id][1]["file_name"]
        assert shown["size_bytes"] == listed[document_id][1]["size_bytes"]
        assert shown["attachment_sys_id"]
    # a bill's row names the document its invoice carries
    some_number, some = listed[sorted(expected)[0]]
    bill = runner.invoke(app, ["--db", url, "audit", "--text", some_number, "--kind", "bill", "--json"])
    (bill_row,) = json.loads(bill.stdout)["rows"]
    assert [d["file_name"] for d in bill_row["documents"]] == [some["file_name"]]
