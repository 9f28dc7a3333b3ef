"""TUI fixtures: no blinking cursors in snapshots, no real OS keyring."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import keyring
import pytest
from keyring.backends import fail
from textual.widgets import Input

from tests.external_sandbox import ExternalSandbox
from zbsn.core.settings import Settings


@pytest.fixture(autouse=True)
def no_cursor_blink(monkeypatch: pytest.MonkeyPatch) -> None:
    """A blinking cursor races the screenshot; keep every Input's cursor steady."""
    monkeypatch.setattr(Input, "_toggle_cursor", lambda self: None)


@pytest.fixture(autouse=True)
def no_os_keyring(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The console never touches the developer's real keyring in tests."""
    previous = keyring.get_keyring()
    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", "keyring.backends.fail.Keyring")
    keyring.set_keyring(fail.Keyring())
    yield
    keyring.set_keyring(previous)


@pytest.fixture
def sandbox(external_sandbox: ExternalSandbox) -> ExternalSandbox:
    """The external sandbox, reseeded: no invoice staged, the two cost centers still missing."""
    external_sandbox.reset()
    return external_sandbox


@dataclass(frozen=True)
class ConnectedDatabase:
    """A database connected to the sandbox with one profile (as `zbsn connect` + `zbsn profile create`)."""

    url: str
    profile_id: int
    sandbox: ExternalSandbox

    @property
    def settings(self) -> Settings:
        return self.sandbox.settings()


@pytest.fixture
def connected_db(sandbox: ExternalSandbox, tmp_path: Path) -> ConnectedDatabase:
    """A fresh SQLite database connected to the sandbox, with the demo's profile."""
    url = f"sqlite:///{tmp_path / 'console.db'}"
    return ConnectedDatabase(url, sandbox.connect_profile(url), sandbox)
