"""What the runtime commands share: the workspace for the CLI's database, exit codes, error mapping."""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine, Iterator
from contextlib import contextmanager
from datetime import date
from decimal import Decimal
from typing import Annotated, Any, NoReturn, TypeVar

import sqlalchemy as sa
import typer

from zbsn.core.cli.app import err_console, state
from zbsn.core.redaction import redact
from zbsn.core.services import DatabaseUnavailable, Services, open_services
from zbsn.core.vault import VaultError
from zbsn.core.workspace import Workspace, WorkspaceError, classify_error

EXIT_OK = 0
EXIT_FAILURES = 1  # the run completed, some records failed (or a command found a problem)
EXIT_USAGE = 2
EXIT_REAUTHORISE = 3  # a system needs the operator to authorise again
EXIT_LOCKED = 4  # another run of the profile is in progress
EXIT_UNREACHABLE = 5  # Zoho or ServiceNow could not be reached

T = TypeVar("T")

ProfileOption = Annotated[
    str | None, typer.Option("--profile", help="Profile name or id (default: the only one).")
]
JsonOption = Annotated[bool, typer.Option("--json", help="Print the result as JSON (never a secret).")]


def open_cli_services(ctx: typer.Context) -> Services:
    """The services on the CLI's database (migrated to the newest schema), built once per command."""
    cli = state(ctx)
    if cli.services is None:
        settings = cli.settings()
        try:
            cli.services = open_services(settings, cli.engine())
        except VaultError as exc:
            die(f"the data key does not open this database: {exc}", EXIT_FAILURES)
        except DatabaseUnavailable as exc:
            die(f"cannot open the database: {exc}", EXIT_UNREACHABLE)
        except sa.exc.SQLAlchemyError as exc:
            die(f"cannot open the database: {type(exc).__name__}", EXIT_UNREACHABLE)
    return cli.services


def open_workspace(ctx: typer.Context) -> Workspace:
    """The workspace of the CLI's services (see `open_cli_services`)."""
    return open_cli_services(ctx).workspace


def die(message: str, code: int) -> NoReturn:
    """Print a redacted message to stderr and exit with `code`."""
    err_console.print(f"error: {redact(message)}", style="red", markup=False)
    raise typer.Exit(code)


def exit_code_for(exc: BaseException) -> int:
    """The exit code that says what went wrong."""
    from zbsn.core.engine.lock import RunLocked

    if isinstance(exc, RunLocked):
        return EXIT_LOCKED
    kind = classify_error(exc)
    if kind == "reauthorise":
        return EXIT_REAUTHORISE
    if kind in ("unreachable", "wait"):
        return EXIT_UNREACHABLE
    if isinstance(exc, WorkspaceError | ValueError):
        return EXIT_USAGE
    return EXIT_FAILURES


def hint_for(code: int) -> str:
    """What to do next, for an exit code."""
    return {
        EXIT_REAUTHORISE: " (run `zbsn connect zoho` or `zbsn connect servicenow` to authorise again)",
        EXIT_LOCKED: " (wait for the running sync to finish)",
        EXIT_UNREACHABLE: " (check the network and the instance URL, then retry)",
    }.get(code, "")


@contextmanager
def cli_errors() -> Iterator[None]:
    """Turn core exceptions into a one-line message on stderr and the matching exit code."""
    try:
        yield
    except typer.Exit:
        raise
    except KeyboardInterrupt:
        die("interrupted", 130)
    except Exception as exc:
        code = exit_code_for(exc)
        die(f"{exc or type(exc).__name__}{hint_for(code)}", code)


def parse_day(value: str | None, option: str) -> date | None:
    """A yyyy-mm-dd option value; exits with a usage error otherwise."""
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        die(f"{option} takes a date as yyyy-mm-dd, not '{value}'", EXIT_USAGE)


def money_text(totals: dict[str, Decimal]) -> str:
    """Totals per currency as `1,234.50 GBP, 10.00 USD`."""
    return ", ".join(f"{amount:,.2f} {currency}" for currency, amount in sorted(totals.items())) or "0"


def run_async(coroutine: Coroutine[Any, Any, T]) -> T:
    """Run a coroutine to completion from a synchronous command."""
    return asyncio.run(coroutine)
