"""The `zbsn` Typer app and what every command shares: global options, settings, engine, output helpers.

Command modules (`doctor.py`, `db.py`, …) register on `app` (or add a sub-app with `app.add_typer`), and
`main.py` imports them. Results go to stdout (clean JSON with `--json`); diagnostics go to stderr.
Exit codes: 0 ok, 1 a problem was found, 2 usage error.
"""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, NoReturn

import sqlalchemy as sa
import typer
from rich.console import Console

from zbsn.core import __version__
from zbsn.core.db.engine import make_engine, resolve_database_url
from zbsn.core.logs import setup_logging
from zbsn.core.settings import Settings, SettingsError, load_settings

if TYPE_CHECKING:
    from zbsn.core.services import Services

EXIT_OK = 0
EXIT_PROBLEM = 1
EXIT_USAGE = 2

app = typer.Typer(
    name="zbsn",
    help="Sync accounts payable from Zoho Books into ServiceNow (headless CLI).",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
err_console = Console(stderr=True, highlight=False, soft_wrap=True)  # one line per error: paths stay whole


@dataclass
class CliState:
    """The global options, with settings and the engine built on first use."""

    db: str | None = None
    config_path: Path | None = None
    _settings: Settings | None = field(default=None, repr=False)
    _engine: sa.Engine | None = field(default=None, repr=False)
    services: Services | None = field(default=None, repr=False)

    def settings(self) -> Settings:
        """The loaded settings; exits with code 1 and the file/key at fault when they are invalid."""
        if self._settings is None:
            try:
                self._settings = load_settings(self.config_path)
            except SettingsError as exc:
                fail(str(exc))
            setup_logging(self._settings.log_level)
        return self._settings

    def database_url(self) -> str:
        """`--db`, else ZBSN_DATABASE_URL / the config file, else the SQLite file in the data dir."""
        return resolve_database_url(self.db or self.settings().database_url)

    def engine(self) -> sa.Engine:
        """An engine on `database_url()` (not migrated)."""
        if self._engine is None:
            wait = self.settings().database.outage_wait_seconds
            self._engine = make_engine(self.database_url(), connect_wait_s=wait, outage_wait_s=wait)
        return self._engine

    def close(self) -> None:
        """Release the database connections the command opened (also when it exits early)."""
        if self._engine is not None:
            self._engine.dispose()


def state(ctx: typer.Context) -> CliState:
    """The CliState the root callback stored on the click context."""
    root = ctx.find_root()
    if not isinstance(root.obj, CliState):
        root.obj = CliState()
    return root.obj


def fail(message: str, code: int = EXIT_PROBLEM) -> NoReturn:
    """Print `message` to stderr and exit with `code`."""
    err_console.print(f"error: {message}", style="red", markup=False)
    raise typer.Exit(code)


def note(message: str) -> None:
    """A diagnostic line on stderr."""
    err_console.print(message, markup=False)


def emit_json(data: Any) -> None:
    """Write `data` as JSON to stdout, nothing else."""
    sys.stdout.write(json.dumps(data, indent=2, default=str) + "\n")
    sys.stdout.flush()


def _show_version(value: bool) -> None:
    if value:
        typer.echo(f"zbsn {__version__}")
        raise typer.Exit(EXIT_OK)


@app.callback()
def main(
    ctx: typer.Context,
    db: Annotated[
        str | None, typer.Option("--db", help="Database URL (default: ZBSN_DATABASE_URL, then SQLite).")
    ] = None,
    config: Annotated[
        Path | None, typer.Option("--config", help="Config file (default: config.toml in the config dir).")
    ] = None,
    version: Annotated[
        bool,
        typer.Option("--version", help="Show the version and exit.", callback=_show_version, is_eager=True),
    ] = False,
) -> None:
    """Sync accounts payable from Zoho Books into ServiceNow."""
    ctx.obj = CliState(db=db, config_path=config)
    ctx.call_on_close(ctx.obj.close)
