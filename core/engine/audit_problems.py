"""The structured problems of an audit record (code and subject each), kept beside its error_code/message.

The audit writer replaces a record's problems whenever it writes the record's error: `begin` clears those of
the records it rewrites (only rows that carried an error can have any) and inserts the problems of the
entries that fail at once; `finish` inserts one for each write ServiceNow refused. So a record has problems
exactly while it carries an error code.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from zbsn.core.db.models import AuditProblem

if TYPE_CHECKING:
    from zbsn.core.engine.audit_writer import AuditEntry

_PROBLEM = AuditProblem.__table__  # type: ignore[attr-defined]
_IN_CHUNK = 500


def entry_problems(audit_id: int, entry: AuditEntry) -> list[dict[str, Any]]:
    """The problem rows of one entry: its problems, or its error code alone when it names none."""
    if entry.error_code is None:
        return []
    if entry.problems:
        pairs = dict.fromkeys((p.code.value, p.subject) for p in entry.problems)
    else:
        pairs = {(entry.error_code, None): None}
    return [{"audit_id": audit_id, "code": code, "subject": subject} for code, subject in pairs]


def error_problem(audit_id: int, code: str | None) -> list[dict[str, Any]]:
    """The one problem row of a record failed by its write (its code, nothing named)."""
    return [] if code is None else [{"audit_id": audit_id, "code": code, "subject": None}]


def replace_problems(conn: sa.Connection, cleared: Sequence[int], rows: Sequence[dict[str, Any]]) -> None:
    """Drop the problems of the `cleared` records, then insert `rows` (in the caller's transaction)."""
    for start in range(0, len(cleared), _IN_CHUNK):
        conn.execute(_PROBLEM.delete().where(_PROBLEM.c.audit_id.in_(cleared[start : start + _IN_CHUNK])))
    if rows:
        conn.execute(_PROBLEM.insert(), list(rows))
