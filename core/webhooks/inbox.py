"""The webhook inbox: verified deliveries are stored here before the receiver answers, then processed."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlmodel import col, func, select

from zbsn.core.clock import Clock, SystemClock
from zbsn.core.db.engine import session_scope
from zbsn.core.db.models import WebhookEvent
from zbsn.core.db.transient import retried
from zbsn.core.domain import InboxStatus


@dataclass(frozen=True, slots=True)
class StoreOutcome:
    """The inbox row a delivery landed in, and whether this delivery created it."""

    event_id: int
    stored: bool  # False: the same delivery was already in the inbox


@dataclass(frozen=True, slots=True)
class InboxEntry:
    """One stored delivery, detached from the session."""

    id: int
    profile_id: int | None
    event_type: str
    entity_id: str | None
    body: str
    status: str


def delivery_hash(profile_id: int, event_type: str, body: bytes) -> str:
    """The dedupe key: the same body for the same profile and event is the same delivery."""
    digest = hashlib.sha256(f"{profile_id}\n{event_type}\n".encode())
    digest.update(body)
    return digest.hexdigest()


class WebhookInbox:
    """Store, list and settle webhook events in the `webhook_event` table."""

    def __init__(self, db_engine: sa.Engine, clock: Clock | None = None) -> None:
        self.db_engine = db_engine
        self.clock: Clock = clock or SystemClock()

    def store(self, profile_id: int, event_type: str, entity_id: str | None, body: bytes) -> StoreOutcome:
        """Insert the delivery unless its hash is already there (the unique index decides, race-free)."""
        body_hash = delivery_hash(profile_id, event_type, body)
        event = WebhookEvent(
            profile_id=profile_id,
            event_type=event_type,
            entity_id=entity_id,
            body_hash=body_hash,
            body=body.decode("utf-8", errors="replace"),
            received_at=self.clock.now(),
        )
        try:
            with session_scope(self.db_engine) as session:
                session.add(event)
                session.flush()
                assert event.id is not None
                return StoreOutcome(event_id=event.id, stored=True)
        except IntegrityError:
            with session_scope(self.db_engine) as session:
                existing = session.exec(
                    select(WebhookEvent.id).where(WebhookEvent.body_hash == body_hash)
                ).first()
            if existing is None:
                raise
            return StoreOutcome(event_id=existing, stored=False)

    @retried
    def pending(self, limit: int = 100, profile_id: int | None = None) -> list[InboxEntry]:
        """The oldest unprocessed events (of one profile, when given)."""
        query = select(WebhookEvent).where(WebhookEvent.status == InboxStatus.NEW)
        if profile_id is not None:
            query = query.where(WebhookEvent.profile_id == profile_id)
        with session_scope(self.db_engine) as session:
            rows = session.exec(query.order_by(col(WebhookEvent.id)).limit(limit)).all()
            return [_entry(row) for row in rows]

    @retried
    def profiles_waiting(self) -> list[int]:
        """The profiles with unprocessed events."""
        with session_scope(self.db_engine) as session:
            query = select(WebhookEvent.profile_id).where(WebhookEvent.status == InboxStatus.NEW).distinct()
            return sorted(p for p in session.exec(query) if p is not None)

    @retried
    def get(self, event_id: int) -> InboxEntry | None:
        """One event by id."""
        with session_scope(self.db_engine) as session:
            row = session.get(WebhookEvent, event_id)
            return None if row is None else _entry(row)

    @retried
    def settle(self, event_id: int, status: InboxStatus, error: str | None = None) -> None:
        """Mark an event processed, failed or ignored."""
        with session_scope(self.db_engine) as session:
            row = session.get(WebhookEvent, event_id)
            if row is None:
                return
            row.status = status
            row.error = error
            row.processed_at = self.clock.now()
            session.add(row)

    @retried
    def counts(self) -> dict[str, int]:
        """Events per status, for the receiver's state line."""
        with session_scope(self.db_engine) as session:
            rows = session.exec(
                select(WebhookEvent.status, func.count()).group_by(col(WebhookEvent.status))
            ).all()
            return {status: int(count) for status, count in rows}


def _entry(row: WebhookEvent) -> InboxEntry:
    assert row.id is not None
    return InboxEntry(
        id=row.id,
        profile_id=row.profile_id,
        event_type=row.event_type,
        entity_id=row.entity_id,
        body=row.body,
        status=row.status,
    )
