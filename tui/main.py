"""Entry point of `zbsn-tui`: parse the options, load settings and logging, then run the console."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

import sqlalchemy as sa

from zbsn.core import __version__
from zbsn.core.logs import setup_logging
from zbsn.core.settings import Settings, SettingsError, load_settings

EXIT_PROBLEM = 1
EXIT_USAGE = 2


def build_parser() -> argparse.ArgumentParser:
    """The `zbsn-tui` command line."""
    parser = argparse.ArgumentParser(prog="zbsn-tui", description="The zbsn operator console.")
    parser.add_argument("--demo", action="store_true", help="Run against the built-in sandboxes.")
    parser.add_argument("--db", metavar="URL", help="Database URL (default: ZBSN_DATABASE_URL, then SQLite).")
    parser.add_argument("--config", metavar="PATH", type=Path, help="Config file (default: config.toml).")
    parser.add_argument("--version", action="version", version=f"zbsn-tui {__version__}")
    return parser


def run(argv: Sequence[str] | None = None) -> None:
    """Run the console (console script `zbsn-tui`)."""
    args = build_parser().parse_args(argv)
    try:
        settings = load_settings(args.config)
    except SettingsError as exc:
        print(f"zbsn-tui: {exc}", file=sys.stderr)
        sys.exit(EXIT_PROBLEM)
    setup_logging(settings.log_level)
    from zbsn.tui.app import make_app  # Textual loads only once the options are valid

    if args.demo:
        run_demo(args.db, settings)
        return
    try:
        app = make_app(args.db, settings)
    except sa.exc.SQLAlchemyError as exc:
        print(f"zbsn-tui: cannot open the database: {exc}", file=sys.stderr)
        sys.exit(EXIT_PROBLEM)
    app.run()


def run_demo(db: str | None, settings: Settings) -> None:
    """Start both sandboxes, connect to them, and open the console on the demo profile."""
    from zbsn.core.demo import start_demo
    from zbsn.tui.app import make_app
    from zbsn.tui.screens.services import ConsoleContext

    print("zbsn-tui: starting the demo sandboxes…", file=sys.stderr)
    with start_demo(db, settings) as demo:
        console = ConsoleContext(
            db=demo.db_engine,
            profile_id=demo.profile_id,
            workspace=demo.workspace,
            engine_service=demo.workspace.engine_service(),
            webhook_receiver=demo.receiver_state,
            demo=demo,
        )
        make_app(demo.db_engine, settings, console=console).run()


if __name__ == "__main__":
    run()
