"""The one "unchanged" rule: when a record Zoho lists again needs no detail request, no mapping and no write.

A run (bills, payments, webhook) and the preview both ask it. A record is unchanged when Zoho's change marker
(its `last_modified_time`, exactly as Zoho sent it) is the one the audit log already holds for it and that
record's outcome is final (staged, cancelled, flagged, failed or skipped: a pending row is resent, never
skipped).
A record with no marker is never unchanged: nothing says it did not change.
"""

from __future__ import annotations

from typing import NamedTuple

from zbsn.core.domain import AuditStatus

FINAL = frozenset(
    {
        AuditStatus.STAGED,
        AuditStatus.CANCELLED,
        AuditStatus.FLAGGED,
        AuditStatus.FAILED,
        AuditStatus.SKIPPED,
    }
)


class Known(NamedTuple):
    """What the audit log holds of one record: its status and the change marker it was last seen with."""

    status: str
    modified: str | None


def is_unchanged(previous: Known | None, marker: str | None) -> bool:
    """True when the record is as the audit log last saw it and its outcome there is final."""
    return bool(marker) and previous is not None and previous.modified == marker and previous.status in FINAL


def already_failed(previous: Known | None, marker: str | None) -> bool:
    """An unreadable record that already failed at this same marker (its failure is not written again)."""
    return is_unchanged(previous, marker) and previous is not None and previous.status == AuditStatus.FAILED
