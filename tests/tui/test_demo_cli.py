"""`zbsn-tui --demo` without a terminal: the console is driven headless through `tui.main.launch`.

Nothing secret is printed, the sandboxes stop when the console exits (also when it crashes), and the demo
database lives in a temp dir unless `--db` is given.
"""

from __future__ import annotations

import asyncio
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import httpx
import pytest

from zbsn.sandbox.servicenow import DEMO_CLIENT_SECRET as SN_CLIENT_SECRET
from zbsn.sandbox.zoho import DEMO_CLIENT_SECRET as ZOHO_CLIENT_SECRET
from zbsn.tui import main as tui_main
from zbsn.tui.app import ZbsnApp


class HeadlessLaunch:
    """Stands in for `App.run()`: opens the Connect screen headless and remembers what it saw."""

    def __init__(self, fail: bool = False) -> None:
        self.fail = fail
        self.demo: Any = None
        self.hint = ""
        self.secrets: list[str] = []
        self.urls: list[str] = []
        self.data_dir: Path | None = None

    def __call__(self, app: ZbsnApp) -> None:
        asyncio.run(self.drive(app))
        if self.fail:
            raise RuntimeError("the console crashed")

    async def drive(self, app: ZbsnApp) -> None:
        async with app.run_test(size=(160, 48)) as pilot:
            await pilot.press("f2")
            for _ in range(5):
                await pilot.pause()
                await app.workers.wait_for_complete()
            self.demo = app.context.sandbox
            self.hint = str(app.screen.query_one("#screen-hint").content)  # type: ignore[attr-defined]
            self.secrets = [ZOHO_CLIENT_SECRET, SN_CLIENT_SECRET, self.demo.webhook_secret]
            self.urls = [self.demo.servicenow_url, self.demo.zoho_accounts_url]
            self.data_dir = self.demo.data_dir


def _stopped(url: str) -> bool:
    try:
        httpx.get(url, timeout=2)
    except httpx.TransportError:
        return True
    return False


def test_help_lists_the_demo_without_a_terminal() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "zbsn.tui.main", "--help"],
        capture_output=True,
        text=True,
        timeout=60,
        stdin=subprocess.DEVNULL,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "--demo" in done.stdout
    assert "temp database unless --db" in " ".join(done.stdout.split())


def test_demo_runs_headless_prints_nothing_secret_and_cleans_up(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    launch = HeadlessLaunch()
    monkeypatch.setattr(tui_main, "launch", launch)
    tui_main.run(["--demo"])

    demo = launch.demo
    assert demo is not None
    assert "Both systems are connected" in launch.hint
    assert "Demo" in launch.hint
    printed = capsys.readouterr()
    output = printed.out + printed.err
    assert "demo ready" in output
    assert launch.urls[0] in output
    assert "deleted on exit" in output
    assert "demo stopped" in output
    for secret in launch.secrets:
        assert secret not in output
    assert launch.data_dir is not None
    assert str(launch.data_dir) in output
    assert not launch.data_dir.exists()  # the temp dir is gone, with the database in it
    assert all(_stopped(url) for url in launch.urls)


def test_demo_with_db_keeps_it(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    launch = HeadlessLaunch()
    monkeypatch.setattr(tui_main, "launch", launch)
    db = tmp_path / "kept.db"
    tui_main.run(["--demo", "--db", f"sqlite:///{db}"])
    assert db.exists()
    assert "(kept)" in capsys.readouterr().err
    assert launch.data_dir is None
    assert all(_stopped(url) for url in launch.urls)


def test_sandboxes_stop_when_the_console_crashes(monkeypatch: pytest.MonkeyPatch) -> None:
    launch = HeadlessLaunch(fail=True)
    monkeypatch.setattr(tui_main, "launch", launch)
    with pytest.raises(RuntimeError, match="crashed"):
        tui_main.run(["--demo"])
    assert launch.data_dir is not None
    assert not launch.data_dir.exists()
    assert all(_stopped(url) for url in launch.urls)


def test_a_database_password_is_never_printed() -> None:
    demo = SimpleNamespace(
        zoho_url="http://127.0.0.1:1", organization_id="1", servicenow_url="http://127.0.0.1:2", data_dir=None
    )
    text = tui_main.describe_demo(demo, "postgresql://zbsn:hunter2@db.example/zbsn")
    assert "hunter2" not in text
    assert "zbsn:***@db.example" in text
