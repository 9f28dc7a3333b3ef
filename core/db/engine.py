"""Database engines and sessions: SQLite (WAL) by default, any SQLAlchemy URL for shared deployments."""

from __future__ import annotations

import os
import time
import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session

from zbsn.core.paths import default_database_url

DEFAULT_CONNECT_WAIT_S = 30.0  # like SQLite's busy_timeout: ride out a short outage instead of failing
DEFAULT_OUTAGE_WAIT_S = DEFAULT_CONNECT_WAIT_S  # how long a transaction is run again (`db.transient`)

_outage_windows: weakref.WeakKeyDictionary[sa.Engine, float] = weakref.WeakKeyDictionary()


def outage_window(engine: sa.Engine) -> float:
    """Seconds a transaction on `engine` is run again after transient errors (`make_engine`'s
    `outage_wait_s`; the default for engines made elsewhere)."""
    return _outage_windows.get(engine, DEFAULT_OUTAGE_WAIT_S)


def set_outage_window(engine: sa.Engine, seconds: float) -> None:
    """Change how long transactions on `engine` ride out an outage (0: never run again)."""
    _outage_windows[engine] = max(0.0, seconds)


def resolve_database_url(explicit: str | None = None) -> str:
    """`--db` beats `ZBSN_DATABASE_URL`, which beats the SQLite file in the user data dir."""
    url = explicit or os.environ.get("ZBSN_DATABASE_URL") or default_database_url()
    if url.startswith("postgresql://"):
        # psycopg 3 is the driver we ship; plain postgresql:// would ask for psycopg2.
        url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
    return url


def _sqlite_file(url: sa.URL) -> Path | None:
    if url.get_backend_name() != "sqlite" or not url.database or url.database == ":memory:":
        return None
    return Path(url.database)


def make_engine(
    url: str | None = None,
    *,
    connect_wait_s: float = DEFAULT_CONNECT_WAIT_S,
    outage_wait_s: float | None = None,
    **kwargs: Any,
) -> sa.Engine:
    """Build an engine; SQLite gets WAL, foreign keys, a busy timeout and an owner-only file.

    A server database gets pre-ping, and new connections wait up to `connect_wait_s` while it refuses them.
    A transaction that meets a transient error is run again for up to `outage_wait_s` (default: as long as
    a connection waits), see `db.transient`.
    """
    engine = _make_engine(url, connect_wait_s, **kwargs)
    set_outage_window(engine, connect_wait_s if outage_wait_s is None else outage_wait_s)
    return engine


def _make_engine(url: str | None, connect_wait_s: float, **kwargs: Any) -> sa.Engine:
    resolved = sa.make_url(resolve_database_url(url))
    if resolved.get_backend_name() == "sqlite":
        path = _sqlite_file(resolved)
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
            if not path.exists():
                path.touch(mode=0o600)
            os.chmod(path, 0o600)
        kwargs.setdefault("connect_args", {"check_same_thread": False, "timeout": 30})
        engine = sa.create_engine(resolved, **kwargs)

        @sa.event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
            cursor = dbapi_conn.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA busy_timeout=30000")
            cursor.close()

        return engine
    kwargs.setdefault("pool_pre_ping", True)
    try:
        engine = sa.create_engine(resolved, **kwargs)
    except ModuleNotFoundError as exc:  # the driver is an extra: pip install 'zbsn[postgres]'
        raise sa.exc.NoSuchModuleError(
            f"{resolved.get_backend_name()} needs its driver ({exc.name}): pip install 'zbsn[postgres]'"
        ) from exc
    _wait_for_server(engine, connect_wait_s)
    return engine


def _wait_for_server(engine: sa.Engine, wait_s: float) -> None:
    """New connections retry for up to `wait_s` while the server refuses them (restart, failover, outage).

    With `pool_pre_ping`, connections killed by the outage are replaced at checkout, so a run waits the
    outage out instead of failing (or crashing while recording its own outcome) on the first refusal.
    """
    if wait_s <= 0:
        return

    @sa.event.listens_for(engine, "do_connect")
    def _connect(dialect: Any, _record: Any, cargs: Any, cparams: Any) -> Any:
        deadline = time.monotonic() + wait_s
        delay = 0.1
        while True:
            try:
                return dialect.connect(*cargs, **cparams)
            except dialect.loaded_dbapi.OperationalError:
                if time.monotonic() + delay > deadline:
                    raise
                time.sleep(delay)
                delay = min(delay * 2, 2.0)


@contextmanager
def session_scope(engine: sa.Engine) -> Iterator[Session]:
    """A session that commits on success and rolls back on any error."""
    session = Session(engine, expire_on_commit=False)
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()
