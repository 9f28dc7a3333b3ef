"""Incremental positions: Zoho `last_modified_time` strings per profile and entity.

A run reads from (cursor - overlap window) and dedupes by (id, modified time), so edits at the boundary are
never lost. The new cursor is the greatest modified time seen, capped at the run's start (an edit made
during the run is read again next time), and is saved only when the whole entity succeeded.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlmodel import Session, select

from zbsn.core.db.models import SyncCursor
from zbsn.core.zoho.models import format_zoho_timestamp, parse_zoho_timestamp

BILLS = "bills"
PAYMENTS = "vendorpayments"
VENDOR_CREDITS = "vendorcredits"


def read_cursor(session: Session, profile_id: int, entity: str) -> SyncCursor | None:
    """The stored cursor row, if any."""
    query = select(SyncCursor).where(SyncCursor.profile_id == profile_id, SyncCursor.entity == entity)
    return session.exec(query).first()


def window_start(cursor_value: str | None, overlap_seconds: int) -> str | None:
    """The `last_modified_time` filter to send: the cursor moved back by the overlap, in Zoho's format."""
    if not cursor_value:
        return None
    moment = parse_zoho_timestamp(cursor_value)
    return format_zoho_timestamp(moment - timedelta(seconds=max(0, overlap_seconds)))


@dataclass(slots=True)
class CursorTracker:
    """Tracks the greatest modified time seen during a walk, never past `cap` (the run's start)."""

    cap: datetime
    time_zone: str = "UTC"
    best: datetime | None = None
    best_raw: str | None = field(default=None)

    def observe(self, raw: str | None, moment: datetime | None = None) -> None:
        """Note one record's modified time (its raw Zoho string, or the parsed moment)."""
        if moment is None:
            if not raw:
                return
            try:
                moment = parse_zoho_timestamp(raw)
            except ValueError:
                return
        if moment > self.cap:
            moment, raw = self.cap, None
        if self.best is None or moment > self.best:
            self.best, self.best_raw = moment, raw

    def value(self) -> str | None:
        """The new cursor in Zoho's format (the org's offset when the value was capped)."""
        if self.best is None:
            return None
        return self.best_raw or format_zoho_timestamp(self.best.astimezone(ZoneInfo(self.time_zone)))


def save_cursor(
    session: Session,
    profile_id: int,
    entity: str,
    value: str | None,
    now: datetime,
    *,
    full_sweep: bool = False,
) -> None:
    """Advance the cursor (never backwards) and note a completed full sweep."""
    row = read_cursor(session, profile_id, entity) or SyncCursor(profile_id=profile_id, entity=entity)
    if value and (
        not row.cursor_value or parse_zoho_timestamp(value) > parse_zoho_timestamp(row.cursor_value)
    ):
        row.cursor_value = value
    if full_sweep:
        row.last_full_sweep_at = now
    row.updated_at = now
    session.add(row)
