"""Security fixtures: no OS keyring (the data key lives in the key file under ZBSN_HOME), and no log handler
or registered secret leaks from one test into the next."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import keyring
import pytest
from keyring.backends import fail

from tests.conftest import FAIL_BACKEND
from zbsn.core.logs import OwnerOnlyRotatingFileHandler
from zbsn.core.redaction import forget_registered_secrets


@pytest.fixture(autouse=True)
def no_os_keyring(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    previous = keyring.get_keyring()
    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", FAIL_BACKEND)
    keyring.set_keyring(fail.Keyring())
    yield
    keyring.set_keyring(previous)


@pytest.fixture(autouse=True)
def isolated_logging_and_redaction() -> Iterator[None]:
    root = logging.getLogger()
    level = root.level
    yield
    for handler in list(root.handlers):
        if isinstance(handler, OwnerOnlyRotatingFileHandler):
            root.removeHandler(handler)
            handler.close()
    root.setLevel(level)
    forget_registered_secrets()
