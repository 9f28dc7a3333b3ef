"""Foundation fixtures: no real OS keyring, no leaked log handlers or registered secrets between tests."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import keyring
import keyring.errors
import pytest
from keyring.backend import KeyringBackend
from keyring.backends import fail

from zbsn.core.logs import OwnerOnlyRotatingFileHandler
from zbsn.core.redaction import forget_registered_secrets

FAIL_BACKEND = "keyring.backends.fail.Keyring"


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


@pytest.fixture(autouse=True)
def no_os_keyring(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Tests never touch the developer's real keyring: the fail backend unless a test installs another."""
    previous = keyring.get_keyring()
    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", FAIL_BACKEND)
    keyring.set_keyring(fail.Keyring())
    yield
    keyring.set_keyring(previous)


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
