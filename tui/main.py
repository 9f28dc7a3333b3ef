"""Entry point of `zbsn-tui`: parse the options, load settings and logging, then run the console.

Without `--demo` the console opens on the operator's own database (`--db`, ZBSN_DATABASE_URL, the config
file, or the SQLite file in the data dir) through `zbsn.tui.app.make_app`, the same factory the tests drive.
`--demo` starts both sandboxes in-process and connects to them (`zbsn.sandbox.demo.start_demo`), then opens
the console through that same factory on the demo's services, with the console's own webhook receiver, and
stops everything when the console exits. Without `--db` the demo's database lives in a temp dir that is
deleted on exit. Nothing secret is printed: only the sandboxes' loopback URLs and where the database is.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from zbsn.core import __version__
from zbsn.core.logs import setup_logging
from zbsn.core.redaction import redact
from zbsn.core.services import DatabaseUnavailable
from zbsn.core.settings import Settings, SettingsError, load_settings
from zbsn.core.vault import VaultError

if TYPE_CHECKING:
    from zbsn.sandbox.demo import DemoHandle
    from zbsn.tui.app import ZbsnApp

EXIT_PROBLEM = 1
EXIT_USAGE = 2
# The demo keeps Zoho's limit (100 requests per window) but shortens the window, so the seeded company's
# preview and first run take seconds instead of minutes; the budget gauge shows the same limit.
DEMO_RATE_WINDOW_S = 10.0


def build_parser() -> argparse.ArgumentParser:
    """The `zbsn-tui` command line."""
    parser = argparse.ArgumentParser(prog="zbsn-tui", description="The zbsn operator console.")
    parser.add_argument(
        "--demo",
        action="store_true",
        help="Run against the built-in Zoho Books and ServiceNow sandboxes (a temp database unless --db).",
    )
    parser.add_argument("--db", metavar="URL", help="Database URL (default: ZBSN_DATABASE_URL, then SQLite).")
    parser.add_argument("--config", metavar="PATH", type=Path, help="Config file (default: config.toml).")
    parser.add_argument(
        "--serve",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="Run the schedules and the webhook receiver in the console, as `zbsn serve` does "
        "(default: when a webhook secret is configured).",
    )
    parser.add_argument(
        "--screen",
        choices=("connect", "preview", "run", "audit", "profiles"),
        help="Open this screen first (Esc goes back to the home screen).",
    )
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
    if args.demo:
        run_demo(args.db, settings)
        return
    from zbsn.tui.app import make_app  # Textual loads only once the options are valid

    try:
        app = make_app(args.db, settings, serve=args.serve, screen=args.screen)
    except DatabaseUnavailable as exc:
        print(f"zbsn-tui: cannot open the database: {exc}", file=sys.stderr)
        sys.exit(EXIT_PROBLEM)
    except VaultError as exc:
        print(f"zbsn-tui: the data key does not open this database: {exc}", file=sys.stderr)
        sys.exit(EXIT_PROBLEM)
    launch(app)


def launch(app: ZbsnApp) -> None:
    """Run the App in the terminal (tests replace this with a headless driver)."""
    app.run()


def demo_app(demo: DemoHandle, *, serve: bool = False) -> ZbsnApp:
    """The console on a running demo: the same factory as plain `zbsn-tui`, on the demo's services, with
    the demo as the ServiceNow sandbox's control; with `serve`, the console receives the demo's webhooks."""
    from zbsn.tui.app import make_app

    app = make_app(services=demo.services, profile_id=demo.profile_id, sandbox=demo, serve=serve)
    if app.context.serve is not None and app.context.serve.url is not None:
        demo.attach_webhooks(app.context.serve.url)
    return app


def describe_demo(demo: DemoHandle, db: str | None) -> str:
    """What the operator is looking at, in a few lines (URLs on loopback; no secret, no token, no key)."""
    where = f"database {redact(db)} (kept)" if db else f"database in {demo.data_dir} (deleted on exit)"
    return (
        f"zbsn-tui: demo ready. Zoho Books sandbox {demo.zoho_url} (org {demo.organization_id}), "
        f"ServiceNow sandbox {demo.servicenow_url}; {where}."
    )


def run_demo(db: str | None, settings: Settings, *, out: TextIO | None = None, **demo_options: Any) -> None:
    """Start both sandboxes, connect to them, open the console on the demo profile; stop them on exit."""
    from zbsn.sandbox.demo import start_demo

    stream = out if out is not None else sys.stderr
    print("zbsn-tui: starting the demo sandboxes…", file=stream)
    demo_options.setdefault("rate_window_s", DEMO_RATE_WINDOW_S)
    demo_options.setdefault("webhooks", False)  # the console itself receives the demo's webhooks
    try:
        demo = start_demo(db, settings, **demo_options)
    except DatabaseUnavailable as exc:
        print(f"zbsn-tui: cannot open the database: {exc}", file=stream)
        sys.exit(EXIT_PROBLEM)
    with demo:
        print(describe_demo(demo, db), file=stream)
        launch(demo_app(demo, serve=True))
    print("zbsn-tui: demo stopped (both sandboxes closed).", file=stream)


if __name__ == "__main__":
    run()
