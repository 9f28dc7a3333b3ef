"""The home screen: starts and quits cleanly, lists connections, and says what to do when there are none."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import sqlalchemy as sa
from textual.pilot import Pilot
from textual.widgets import DataTable, Static

from tests.conftest import url_of
from zbsn.core.connections import ConnectionRepository
from zbsn.core.db import migrate
from zbsn.core.db.engine import make_engine
from zbsn.core.domain import ConnectionKind, ConnectionState
from zbsn.core.settings import Settings
from zbsn.tui.app import ZbsnApp, make_app
from zbsn.tui.screens.home import EMPTY_MESSAGE, HomeScreen

TERMINAL_SIZE = (100, 30)


def _add_two_connections(engine: sa.Engine) -> None:
    repo = ConnectionRepository(engine)
    repo.create(
        ConnectionKind.ZOHO,
        "Northwind Books",
        state=ConnectionState.CONNECTED,
        dc="eu",
        organization_id="20061234",
        organization_name="Northwind Advisory GmbH",
    )
    repo.create(
        ConnectionKind.SERVICENOW,
        "Northwind Now",
        state=ConnectionState.REAUTH,
        instance_url="https://northwind.service-now.com",
    )


async def _wait_for_connections(pilot: Pilot[None]) -> None:
    await pilot.app.workers.wait_for_complete()
    await pilot.pause()


async def test_starts_on_home_and_quits_cleanly(tmp_path: Path) -> None:
    db_file = tmp_path / "fresh.db"
    app = make_app(f"sqlite:///{db_file}", Settings())
    async with app.run_test(size=TERMINAL_SIZE) as pilot:
        await _wait_for_connections(pilot)
        assert isinstance(app.screen, HomeScreen)
        empty = app.screen.query_one("#home-empty", Static)
        assert empty.display
        assert str(empty.render()) == EMPTY_MESSAGE
        assert not app.screen.query_one("#connections", DataTable).display
        await pilot.press("q")
    assert app.return_code == 0
    assert migrate.is_current(make_engine(f"sqlite:///{db_file}"))  # migrations ran at start


async def test_lists_stored_connections(sqlite_engine: sa.Engine) -> None:
    _add_two_connections(sqlite_engine)
    app = make_app(url_of(sqlite_engine), Settings())
    async with app.run_test(size=TERMINAL_SIZE) as pilot:
        await _wait_for_connections(pilot)
        table = app.screen.query_one("#connections", DataTable)
        assert table.row_count == 2
        rows = [[str(cell) for cell in table.get_row_at(index)] for index in range(2)]
        assert rows[0] == ["Zoho Books", "Northwind Books", "connected", "EU", "Northwind Advisory GmbH"]
        assert rows[1] == ["ServiceNow", "Northwind Now", "reauth", "northwind.service-now.com", "—"]
        assert not app.screen.query_one("#home-empty", Static).display


async def test_d_toggles_dark_and_light(sqlite_engine: sa.Engine) -> None:
    app: ZbsnApp = make_app(url_of(sqlite_engine), Settings())
    async with app.run_test(size=TERMINAL_SIZE) as pilot:
        dark_before = app.current_theme.dark
        await pilot.press("d")
        assert app.current_theme.dark is not dark_before
        await pilot.press("question_mark")
        assert app.screen.query("HelpPanel")
        await pilot.press("question_mark")
        assert not app.screen.query("HelpPanel")


def test_snapshot_home_empty(snap_compare, sqlite_engine: sa.Engine) -> None:  # type: ignore[no-untyped-def]
    assert snap_compare(
        make_app(url_of(sqlite_engine), Settings()),
        terminal_size=TERMINAL_SIZE,
        run_before=_wait_for_connections,
    )


def test_snapshot_home_two_connections(snap_compare, sqlite_engine: sa.Engine) -> None:  # type: ignore[no-untyped-def]
    _add_two_connections(sqlite_engine)
    assert snap_compare(
        make_app(url_of(sqlite_engine), Settings()),
        terminal_size=TERMINAL_SIZE,
        run_before=_wait_for_connections,
    )


@pytest.mark.parametrize("argv", [["--no-such-flag"]])
def test_usage_errors_exit_2(argv: list[str]) -> None:
    result = subprocess.run(
        [str(Path(sys.executable).parent / "zbsn-tui"), *argv],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 2


async def test_c_opens_the_connect_screen(sqlite_engine: sa.Engine) -> None:
    app = make_app(url_of(sqlite_engine), Settings())
    async with app.run_test() as pilot:
        await pilot.pause()
        await pilot.press("c")
        await pilot.pause()
        assert app.screen.name == "connect"
        await pilot.press("escape")
        await pilot.pause()
        assert isinstance(app.screen, HomeScreen)


async def test_home_says_what_to_do_next(sqlite_engine: sa.Engine) -> None:
    app = make_app(url_of(sqlite_engine), Settings())
    async with app.run_test() as pilot:
        await pilot.pause()
        assert "F3" in str(app.screen.query_one("#home-next").render())
        assert not app.screen.query("#home-demo")
