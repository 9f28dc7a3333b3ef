"""Files the product creates are the owner's alone: DB, key file and logs 0600, their directories 0700.

Everything runs through the installed `zbsn` console script under a wide-open umask (0o000), so the modes
come from the product and not from a friendly umask; also after log rotation and `zbsn vault rotate`.
"""

from __future__ import annotations

import logging
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import FAIL_BACKEND
from zbsn.core import logs

ZBSN_SCRIPT = Path(sys.executable).parent / "zbsn"


def _zbsn(home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith("ZBSN_")}
    env.update(ZBSN_HOME=str(home), PYTHON_KEYRING_BACKEND=FAIL_BACKEND, ZBSN_LOG_LEVEL="DEBUG")
    done = subprocess.run(
        [str(ZBSN_SCRIPT), *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        umask=0o000,
    )
    assert done.returncode == 0, done.stderr
    return done


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def _modes(home: Path) -> dict[str, int]:
    return {str(path.relative_to(home)): _mode(path) for path in sorted(home.rglob("*"))}


def _not_owner_only(home: Path) -> dict[str, str]:
    wrong = {}
    for name, mode in _modes(home).items():
        expected = 0o700 if (home / name).is_dir() else 0o600
        if mode != expected:
            wrong[name] = f"{mode:o} (want {expected:o})"
    return wrong


def test_cli_created_db_key_and_logs_are_owner_only_also_after_vault_rotate(zbsn_home: Path) -> None:
    _zbsn(zbsn_home, "db", "upgrade")
    _zbsn(zbsn_home, "doctor", "--json")
    _zbsn(zbsn_home, "profile", "list", "--json")  # opens the vault: the key file is created
    created = _modes(zbsn_home)
    for expected in ("data/zbsn.db", "config/master.key", "logs/zbsn.log", "data", "config", "logs"):
        assert expected in created, sorted(created)
    assert _not_owner_only(zbsn_home) == {}

    _zbsn(zbsn_home, "vault", "rotate")
    assert (zbsn_home / "config" / "master.key").is_file()
    assert _not_owner_only(zbsn_home) == {}

    # The check can fail: a file made group/world readable is reported.
    (zbsn_home / "logs" / "zbsn.log").chmod(0o644)
    assert _not_owner_only(zbsn_home) == {"logs/zbsn.log": "644 (want 600)"}


def test_rotated_log_files_are_owner_only(zbsn_home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    previous = os.umask(0o000)
    try:
        monkeypatch.setattr(logs, "MAX_LOG_BYTES", 2_000)
        path = logs.setup_logging("INFO")
        log = logging.getLogger("zbsn.security.rotation")
        for index in range(200):
            log.info("line %d %s", index, "x" * 80)
        for handler in logging.getLogger().handlers:
            handler.flush()
    finally:
        os.umask(previous)
    rotated = sorted(path.parent.glob(f"{logs.LOG_FILE_NAME}*"))
    assert len(rotated) == logs.LOG_BACKUPS + 1  # zbsn.log and every backup exist
    assert {p.name: _mode(p) for p in rotated} == dict.fromkeys((p.name for p in rotated), 0o600)
    assert _mode(path.parent) == 0o700
