"""Logging for zbsn: one owner-only, rotating file in the log dir, every record redacted, never stdout.

stdout belongs to command output (`--json`) and the TUI owns the terminal, so the only handler
`setup_logging` installs is the file handler.
"""

from __future__ import annotations

import logging
import os
from io import TextIOWrapper
from logging.handlers import RotatingFileHandler
from pathlib import Path

from zbsn.core.paths import log_dir
from zbsn.core.redaction import redact

LOG_FILE_NAME = "zbsn.log"
MAX_LOG_BYTES = 5 * 1024 * 1024
LOG_BACKUPS = 5
LOG_FORMAT = "%(asctime)s %(levelname)-7s %(name)s [%(process)d] %(message)s"


class RedactingFilter(logging.Filter):
    """Redacts each record in place: the formatted message, exception text and stack info."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except (TypeError, ValueError):
            message = f"{record.msg!r} {record.args!r}"
        record.msg = redact(message)
        record.args = None
        if record.exc_info and record.exc_info[0] is not None:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
            record.exc_info = None
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        if record.stack_info:
            record.stack_info = redact(record.stack_info)
        return True


class OwnerOnlyRotatingFileHandler(RotatingFileHandler):
    """A RotatingFileHandler whose files (including each new one after rotation) are mode 0600."""

    def _open(self) -> TextIOWrapper:
        fd = os.open(self.baseFilename, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        os.fchmod(fd, 0o600)
        return os.fdopen(fd, "a", encoding=self.encoding, errors=self.errors)


def default_log_path() -> Path:
    """The log file zbsn writes to."""
    return log_dir() / LOG_FILE_NAME


def setup_logging(level: str | int = "INFO", log_file: Path | None = None) -> Path:
    """Send every log record (root logger and below) to the redacted, owner-only log file.

    Calling it again replaces the previous zbsn handler, so the level or file can change.
    Returns the log file path.
    """
    path = log_file if log_file is not None else default_log_path()
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    handler = OwnerOnlyRotatingFileHandler(
        path, maxBytes=MAX_LOG_BYTES, backupCount=LOG_BACKUPS, encoding="utf-8"
    )
    handler.setFormatter(logging.Formatter(LOG_FORMAT))
    handler.addFilter(RedactingFilter())
    root = logging.getLogger()
    for existing in list(root.handlers):
        if isinstance(existing, OwnerOnlyRotatingFileHandler):
            root.removeHandler(existing)
            existing.close()
    root.addHandler(handler)
    root.setLevel(level.upper() if isinstance(level, str) else level)
    logging.captureWarnings(True)
    return path
