"""The one line a failed run shows the operator (stored on its SyncRun row), and the details it logs instead.

A run's message is one readable line: the error's class, the first words of what it said, and what to do.
SQL text, parameters (bill payloads), tracebacks and response bodies go to the log, redacted, never into
the message: a dropped database connection used to store ~12 kB of SQL with every bill of the batch.
"""

from __future__ import annotations

import logging

from sqlalchemy.exc import DBAPIError

from zbsn.core.db.transient import describe, is_transient
from zbsn.core.error_kinds import classify_error
from zbsn.core.redaction import redact
from zbsn.core.zoho.errors import ZohoDailyLimitExceeded, ZohoRateLimited

log = logging.getLogger(__name__)

MAX_MESSAGE = 240  # characters of the error's own words kept in the message
_STATEMENT_LOGGED = 500  # characters of a failed statement's SQL kept in the log (never its parameters)

RESUME = "records left pending are resent by the next run"


def _first_line(text: str) -> str:
    line = (text.strip().splitlines() or [""])[0].strip()
    return line if len(line) <= MAX_MESSAGE else line[: MAX_MESSAGE - 1] + "…"


def what_to_do(exc: BaseException) -> str:
    """The operator's next step for a run that ended with `exc`."""
    if isinstance(exc, DBAPIError):
        if is_transient(exc):
            return f"the database was unreachable longer than database.outage_wait_seconds; {RESUME}"
        return f"the database refused a statement (details in the log); {RESUME}"
    if isinstance(exc, ZohoDailyLimitExceeded):
        return f"Zoho's daily request quota is spent; {RESUME} after it resets"
    if isinstance(exc, ZohoRateLimited):
        return f"Zoho kept refusing requests (rate limit); {RESUME}"
    kind = classify_error(exc)
    if kind == "unreachable":
        return f"check the network and the service's URL; {RESUME}"
    if kind == "wait":
        return f"wait a few minutes, then run again; {RESUME}"
    return f"see the log for details; {RESUME}"


def failure_message(exc: BaseException) -> str:
    """One line: `ErrorClass: what it said — what to do` (redacted, no SQL, no payload)."""
    if isinstance(exc, DBAPIError):
        head = describe(exc)
    else:
        said = _first_line(str(exc))
        head = f"{type(exc).__name__}: {said}" if said else type(exc).__name__
    return redact(f"{head} — {what_to_do(exc)}")


def log_failure(exc: BaseException, context: str) -> None:
    """Log what the message leaves out: the statement (not its parameters) or the traceback, redacted."""
    if isinstance(exc, DBAPIError):
        statement = (exc.statement or "").strip().replace("\n", " ")[:_STATEMENT_LOGGED]
        log.error("%s: %s; statement: %s", context, redact(describe(exc)), redact(statement))
        return
    log.error("%s: %s", context, redact(f"{type(exc).__name__}: {exc}"), exc_info=exc)


__all__ = ["failure_message", "log_failure", "what_to_do"]
