"""Shared fixtures: isolated zbsn home dirs, no real keyring, no log handler or registered secret left behind,
fresh databases on SQLite and (when given) PostgreSQL, and `zbsn sandbox` as a separate process."""

from __future__ import annotations

import logging
import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import keyring
import keyring.errors
import pytest
import sqlalchemy as sa
from keyring.backend import KeyringBackend
from keyring.backends import fail

from tests.external_sandbox import ExternalSandbox
from zbsn.core.db import migrate
from zbsn.core.db.engine import make_engine
from zbsn.core.logs import OwnerOnlyRotatingFileHandler
from zbsn.core.redaction import forget_registered_secrets

POSTGRES_URL = os.environ.get("ZBSN_TEST_POSTGRES_URL")
FAIL_BACKEND = "keyring.backends.fail.Keyring"


@pytest.fixture(autouse=True)
def no_os_keyring_anywhere(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """No test touches a real keyring, and no backend a test installs outlives it.

    Subprocesses (the CLI, `zbsn serve`) read PYTHON_KEYRING_BACKEND and see the same fail backend, so a key
    a test creates is always in a place they can reach (the key file under ZBSN_HOME).
    """
    previous = keyring.get_keyring()
    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", FAIL_BACKEND)
    keyring.set_keyring(fail.Keyring())
    yield
    keyring.set_keyring(previous)


class MemoryKeyring(KeyringBackend):
    """A real (usable) keyring backend that lives in memory."""

    priority = 1  # type: ignore[assignment]

    def __init__(self) -> None:
        super().__init__()
        self.entries: dict[tuple[str, str], str] = {}

    def get_password(self, service: str, username: str) -> str | None:
        return self.entries.get((service, username))

    def set_password(self, service: str, username: str, password: str) -> None:
        self.entries[(service, username)] = password

    def delete_password(self, service: str, username: str) -> None:
        if self.entries.pop((service, username), None) is None:
            raise keyring.errors.PasswordDeleteError(username)


@pytest.fixture
def memory_keyring() -> Iterator[MemoryKeyring]:
    """Install an in-memory keyring backend that counts as a real one, for this test only."""
    previous = keyring.get_keyring()
    backend = MemoryKeyring()
    keyring.set_keyring(backend)
    yield backend
    keyring.set_keyring(previous)


@pytest.fixture(autouse=True)
def isolated_logging_and_redaction() -> Iterator[None]:
    """Remove the zbsn file handler and the registered secrets a test left behind."""
    root = logging.getLogger()
    level = root.level
    yield
    for handler in list(root.handlers):
        if isinstance(handler, OwnerOnlyRotatingFileHandler):
            root.removeHandler(handler)
            handler.close()
    root.setLevel(level)
    forget_registered_secrets()


@pytest.fixture(autouse=True)
def zbsn_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Every test gets its own data/config/log dirs and no ambient zbsn settings."""
    home = tmp_path / "zbsn-home"
    monkeypatch.setenv("ZBSN_HOME", str(home))
    for name in list(os.environ):
        if name.startswith("ZBSN_") and name not in {"ZBSN_HOME", "ZBSN_TEST_POSTGRES_URL", "ZBSN_SLOW"}:
            monkeypatch.delenv(name)
    return home


def _fresh_postgres_database() -> Iterator[str]:
    assert POSTGRES_URL is not None
    admin = sa.create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
    name = f"zbsn_t_{uuid.uuid4().hex[:12]}"
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    url = sa.make_url(POSTGRES_URL).set(database=name).render_as_string(hide_password=False)
    try:
        yield url
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """An empty database URL, once on SQLite and once on PostgreSQL."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'zbsn.db'}"
        return
    if not POSTGRES_URL:
        if os.environ.get("CI"):
            pytest.fail("CI must provide ZBSN_TEST_POSTGRES_URL (see .ci/postgres.sh)")
        pytest.skip("no PostgreSQL server: set ZBSN_TEST_POSTGRES_URL")
    yield from _fresh_postgres_database()


@pytest.fixture
def engine(db_url: str) -> Iterator[sa.Engine]:
    """A migrated engine on each backend."""
    eng = make_engine(db_url)
    migrate.upgrade(eng)
    yield eng
    eng.dispose()


def url_of(engine: sa.Engine) -> str:
    """The URL that opens `engine`'s database again (the console and the CLI take URLs)."""
    return engine.url.render_as_string(hide_password=False)


@pytest.fixture
def sqlite_engine(tmp_path: Path) -> Iterator[sa.Engine]:
    """A migrated SQLite engine, for tests that need one backend only."""
    eng = make_engine(f"sqlite:///{tmp_path / 'zbsn.db'}")
    migrate.upgrade(eng)
    yield eng
    eng.dispose()


@pytest.fixture(scope="session")
def external_sandbox() -> Iterator[ExternalSandbox]:
    """`zbsn sandbox` in its own process for the whole session: the seeded company (80 bills, seed 7),
    Zoho's 100-request window shortened to 2 s. Tests that change its data reset it first."""
    process = ExternalSandbox.start("--bills", "80", "--seed", "7", "--window-seconds", "2")
    yield process
    process.stop()


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Long fuzz/soak tests (`@pytest.mark.slow`) run only with ZBSN_SLOW=1; CI runs the bounded share."""
    if os.environ.get("ZBSN_SLOW") == "1":
        return
    skip = pytest.mark.skip(reason="slow: set ZBSN_SLOW=1 to run the long variant")
    for item in items:
        if "slow" in item.keywords:
            item.add_marker(skip)
