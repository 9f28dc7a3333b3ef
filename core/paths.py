"""Where zbsn keeps its files: the user's data, config and log directories (platformdirs).

Each function creates its directory with owner-only permissions when called, never at import time.
`ZBSN_HOME` relocates everything under one folder (tests and sandboxed deployments use it).
"""

from __future__ import annotations

import os
from pathlib import Path

import platformdirs

APP_NAME = "zbsn"


def _ensure(path: Path) -> Path:
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
    return path


def _home_override() -> Path | None:
    home = os.environ.get("ZBSN_HOME")
    return Path(home) if home else None


def data_dir() -> Path:
    """Directory for the SQLite database and other state."""
    home = _home_override()
    return _ensure(home / "data" if home else platformdirs.user_data_path(APP_NAME))


def config_dir() -> Path:
    """Directory for config.toml and the fallback key file."""
    home = _home_override()
    return _ensure(home / "config" if home else platformdirs.user_config_path(APP_NAME))


def log_dir() -> Path:
    """Directory for log files."""
    home = _home_override()
    return _ensure(home / "logs" if home else platformdirs.user_log_path(APP_NAME))


def default_database_url() -> str:
    """The SQLite database file under the data directory."""
    return f"sqlite:///{data_dir() / 'zbsn.db'}"
