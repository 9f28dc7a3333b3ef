"""Transient database errors, and running a transaction again when one strikes, within the outage window.

A transaction that fails because the server dropped its connection (a restart, an outage, an administrator's
`pg_terminate_backend`), because PostgreSQL chose it as a serialization or deadlock victim, or because SQLite
stayed busy past its timeout, was rolled back whole: it is run again from its start, on a new connection
(which waits for the server, see `db.engine.make_engine`), with jittered exponential backoff, for as long as
the engine's outage window allows (`database.outage_wait_seconds`, 30 s by default). Anything else, and a
transient error past the window, is raised as it was.

    counts = transaction(engine, lambda session: align_cost_centers(session, ...))   # one transaction

    @retried                     # a function that opens its own transactions; its engine is found in its
    def heartbeat(engine, ...):  # arguments (an `sa.Engine`, or `.db` / `.engine` / `.db_engine` of self)

A transaction dropped during its COMMIT may have committed: every transaction run through here is either
idempotent or, like the audit writer's, says what a second run does (see `engine/audit_writer.py`).
"""

from __future__ import annotations

import functools
import logging
import sqlite3
from collections.abc import Callable, Iterator
from typing import Any, ParamSpec, TypeVar

import sqlalchemy as sa
import stamina
from sqlalchemy.exc import DBAPIError
from sqlmodel import Session

from zbsn.core.db.engine import outage_window, session_scope

log = logging.getLogger(__name__)

P = ParamSpec("P")
T = TypeVar("T")

WAIT_INITIAL_S = 0.1
WAIT_MAX_S = 2.0

# SQLSTATEs of a transaction worth running again: the connection went away (class 08), the server is
# shutting down or starting (57P01 admin_shutdown, 57P02 crash_shutdown, 57P03 cannot_connect_now), or the
# transaction lost a race (40001 serialization_failure, 40P01 deadlock_detected).
_TRANSIENT_SQLSTATES = frozenset({"57P01", "57P02", "57P03", "40001", "40P01"})
_SQLITE_BUSY = ("database is locked", "database is busy", "database table is locked")


def _psycopg_operational(error: BaseException) -> bool:
    try:
        import psycopg
    except ImportError:  # pragma: no cover - SQLite-only installs
        return False
    return isinstance(error, psycopg.OperationalError)


def is_transient(exc: BaseException) -> bool:
    """True when `exc` is a database error that running the transaction again may cure."""
    if not isinstance(exc, DBAPIError):
        return False
    if exc.connection_invalidated:
        return True
    orig = exc.orig
    if orig is None:
        return False
    sqlstate = getattr(orig, "sqlstate", None)
    if isinstance(sqlstate, str) and (sqlstate in _TRANSIENT_SQLSTATES or sqlstate.startswith("08")):
        return True
    if sqlstate is None and _psycopg_operational(orig):
        return True  # no SQLSTATE: the connection itself failed (refused, closed, lost mid-statement)
    if isinstance(orig, sqlite3.OperationalError):
        text = str(orig).lower()
        return any(marker in text for marker in _SQLITE_BUSY)
    return False


def describe(exc: BaseException) -> str:
    """`ErrorClass: first line of the driver's message` (no SQL, no parameters)."""
    cause = getattr(exc, "orig", None) or exc
    first = (str(cause).strip().splitlines() or [""])[0][:200]
    return f"{type(cause).__name__}: {first}" if first else type(cause).__name__


def attempts(engine: sa.Engine) -> Iterator[stamina.Attempt]:
    """Stamina attempts for one transaction on `engine`: again on a transient error, within its window."""
    window = outage_window(engine)
    return iter(
        stamina.retry_context(
            on=_logged_transient,
            attempts=None if window > 0 else 1,
            timeout=window if window > 0 else None,
            wait_initial=WAIT_INITIAL_S,
            wait_max=WAIT_MAX_S,
            wait_jitter=WAIT_INITIAL_S,
        )
    )


def _logged_transient(exc: Exception) -> bool:
    if is_transient(exc):
        log.warning("database transaction runs again after %s", describe(exc))
        return True
    return False


def transaction(engine: sa.Engine, body: Callable[[Session], T]) -> T:
    """`body(session)` in one transaction (committed on return), run again after a transient error."""
    for attempt in attempts(engine):
        with attempt, session_scope(engine) as session:
            return body(session)
    raise AssertionError("unreachable")  # pragma: no cover


def with_retries(engine: sa.Engine, call: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
    """`call(*args, **kwargs)`, which opens its own transaction(s) on `engine`, run again after a transient
    error."""
    for attempt in attempts(engine):
        with attempt:
            return call(*args, **kwargs)
    raise AssertionError("unreachable")  # pragma: no cover


def _engine_in(args: tuple[Any, ...]) -> sa.Engine | None:
    for value in args[:2]:
        if isinstance(value, sa.Engine):
            return value
        for name in ("db", "engine", "db_engine"):
            found = getattr(value, name, None)
            if isinstance(found, sa.Engine):
                return found
    return None


def retried(call: Callable[P, T]) -> Callable[P, T]:
    """Decorate a function that opens its own transactions (and does nothing else that must not repeat)."""

    @functools.wraps(call)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> T:
        engine = _engine_in(args)
        if engine is None:
            raise TypeError(f"{call.__qualname__}: no database engine among its first arguments")
        return with_retries(engine, call, *args, **kwargs)

    return wrapper


__all__ = ["attempts", "describe", "is_transient", "retried", "transaction", "with_retries"]
