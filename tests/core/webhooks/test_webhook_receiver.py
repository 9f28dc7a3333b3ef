"""The webhook receiver over a real socket: verified deliveries are stored once, the rest are refused."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from sqlmodel import Session, select

from zbsn.core.db.models import WebhookEvent
from zbsn.core.domain import InboxStatus
from zbsn.core.webhooks import (
    SIGNATURE_HEADER,
    InboxProcessor,
    ReceiverState,
    WebhookInbox,
    compute_signature,
    make_receiver_app,
)
from zbsn.core.webhooks.signature import signed_message
from zbsn.sandbox.serve import LoopbackServer

SECRET = "whsecret0123456789abc"


def _bill_body(bill_id: str = "4600000000123", total: str = "118.00") -> bytes:
    bill = {"bill_id": bill_id, "bill_number": "B-0001", "total": total, "line_items": []}
    return json.dumps({"bill": bill}).encode()


@pytest.fixture
def receiver(engine: sa.Engine, profile_id: int) -> Iterator[tuple[str, ReceiverState]]:
    state = ReceiverState()
    app = make_receiver_app(
        WebhookInbox(engine), lambda pid: SECRET if pid == profile_id else None, state=state
    )
    with LoopbackServer(app) as server:
        yield f"{server.url}/zoho/webhook/{profile_id}", state


def _rows(db_engine: sa.Engine) -> list[WebhookEvent]:
    with Session(db_engine) as session:
        return list(session.exec(select(WebhookEvent)).all())


def test_signature_scheme_sorts_pairs_and_appends_body() -> None:
    message = signed_message([("zeta", "1"), ("alpha", "2")], b"{}")
    assert message == b"alpha2zeta1{}"
    assert compute_signature("k", [], b"x") != compute_signature("k", [], b"y")


def test_valid_delivery_is_stored_once(receiver: tuple[str, ReceiverState], engine: sa.Engine) -> None:
    url, state = receiver
    body = _bill_body()
    params = {"token": "abc"}
    signature = compute_signature(SECRET, params.items(), body)
    headers = {
        SIGNATURE_HEADER: signature,
        "content-type": "application/json",
        "X-Zoho-Event": "bill.created",
    }
    first = httpx.post(url, params=params, content=body, headers=headers)
    second = httpx.post(url, params=params, content=body, headers=headers)
    assert first.status_code == 200, first.text
    assert first.json()["status"] == "stored"
    assert second.status_code == 200
    assert second.json() == {"status": "duplicate", "event_id": first.json()["event_id"]}
    rows = _rows(engine)
    assert len(rows) == 1
    assert rows[0].event_type == "bill.created"
    assert rows[0].entity_id == "4600000000123"
    assert rows[0].status == InboxStatus.NEW
    assert (state.stored, state.duplicates) == (1, 1)


@pytest.mark.parametrize(
    "signature",
    [None, "0" * 64, compute_signature("another-secret", [], _bill_body())],
    ids=["missing", "garbage", "wrong-secret"],
)
def test_unsigned_or_wrongly_signed_is_refused(
    receiver: tuple[str, ReceiverState], engine: sa.Engine, signature: str | None
) -> None:
    url, state = receiver
    headers = {"content-type": "application/json"}
    if signature is not None:
        headers[SIGNATURE_HEADER] = signature
    response = httpx.post(url, content=_bill_body(), headers=headers)
    assert response.status_code == 401
    assert _rows(engine) == []
    assert state.refused == 1


def test_tampered_query_is_refused(receiver: tuple[str, ReceiverState], engine: sa.Engine) -> None:
    url, _state = receiver
    body = _bill_body()
    signature = compute_signature(SECRET, [("token", "abc")], body)
    response = httpx.post(url, params={"token": "abd"}, content=body, headers={SIGNATURE_HEADER: signature})
    assert response.status_code == 401
    assert _rows(engine) == []


def test_unknown_profile_is_refused(receiver: tuple[str, ReceiverState], engine: sa.Engine) -> None:
    url, _state = receiver
    body = _bill_body()
    other = url.rsplit("/", 1)[0] + "/424242"
    signature = compute_signature(SECRET, [], body)
    response = httpx.post(other, content=body, headers={SIGNATURE_HEADER: signature})
    assert response.status_code == 401
    assert _rows(engine) == []


async def test_processor_hands_bills_to_the_engine_and_ignores_the_rest(
    engine: sa.Engine, profile_id: int
) -> None:
    inbox = WebhookInbox(engine)
    bill_event = inbox.store(profile_id, "bill.edited", "1", _bill_body("1"))
    contact_event = inbox.store(profile_id, "contact.edited", "9", b'{"contact": {"contact_id": "9"}}')
    failing_event = inbox.store(profile_id, "bill.edited", "2", _bill_body("2"))
    calls: list[tuple[int, dict[str, Any], str]] = []

    async def handle(pid: int, bill: dict[str, Any], event_type: str) -> None:
        if bill["bill_id"] == "2":
            raise RuntimeError("mapping exploded")
        calls.append((pid, bill, event_type))

    processor = InboxProcessor(inbox, handle)
    assert await processor.drain_once() == 3
    assert calls == [(profile_id, json.loads(_bill_body("1"))["bill"], "bill.edited")]
    statuses = {e.event_id: inbox.get(e.event_id) for e in (bill_event, contact_event, failing_event)}
    assert statuses[bill_event.event_id].status == InboxStatus.PROCESSED  # type: ignore[union-attr]
    assert statuses[contact_event.event_id].status == InboxStatus.IGNORED  # type: ignore[union-attr]
    failed = statuses[failing_event.event_id]
    assert failed is not None
    assert failed.status == InboxStatus.FAILED
    assert await processor.drain_once() == 0


async def test_a_run_that_staged_nothing_fails_the_event(engine: sa.Engine, profile_id: int) -> None:
    from types import SimpleNamespace

    inbox = WebhookInbox(engine)
    event = inbox.store(profile_id, "bill.edited", "1", _bill_body("1"))

    async def handle(_pid: int, _bill: dict[str, Any], _event_type: str) -> object:
        return SimpleNamespace(status="reauth", message="Zoho Books needs re-authorising")

    assert await InboxProcessor(inbox, handle).drain_once() == 1
    settled = inbox.get(event.event_id)
    assert settled is not None
    assert settled.status == InboxStatus.FAILED


async def test_retryable_errors_leave_the_event_for_later(engine: sa.Engine, profile_id: int) -> None:
    inbox = WebhookInbox(engine)
    event = inbox.store(profile_id, "bill.edited", "1", _bill_body("1"))
    locked = True

    async def handle(_pid: int, _bill: dict[str, Any], _event_type: str) -> None:
        if locked:
            raise TimeoutError("profile locked")

    processor = InboxProcessor(inbox, handle, is_retryable=lambda exc: isinstance(exc, TimeoutError))
    assert await processor.drain_once() == 0
    assert inbox.get(event.event_id).status == InboxStatus.NEW  # type: ignore[union-attr]
    locked = False
    assert await processor.drain_once() == 1
    assert inbox.get(event.event_id).status == InboxStatus.PROCESSED  # type: ignore[union-attr]


def test_signed_timestamp_outside_the_replay_window_is_refused(engine: sa.Engine, profile_id: int) -> None:
    import time

    from zbsn.core.webhooks.receiver import TIMESTAMP_HEADER

    app = make_receiver_app(WebhookInbox(engine), lambda _pid: SECRET, replay_window_seconds=300)
    body = _bill_body()
    with LoopbackServer(app) as server:
        url = f"{server.url}/zoho/webhook/{profile_id}"
        for age, expected in ((4000, 401), (10, 200)):
            stamp = str(int(time.time()) - age)
            signature = compute_signature(SECRET, [("timestamp", stamp)], body)
            headers = {SIGNATURE_HEADER: signature, TIMESTAMP_HEADER: stamp}
            assert httpx.post(url, content=body, headers=headers).status_code == expected
        unsigned_stamp = compute_signature(SECRET, [], body)
        forged = {SIGNATURE_HEADER: unsigned_stamp, TIMESTAMP_HEADER: str(int(time.time()))}
        assert httpx.post(url, content=body, headers=forged).status_code == 401  # the stamp is signed
    assert len(_rows(engine)) == 1


async def test_processor_hands_vendor_payments_to_their_handler(engine: sa.Engine, profile_id: int) -> None:
    inbox = WebhookInbox(engine)
    payment = {"payment_id": "77", "bills": [{"bill_id": "1", "amount_applied": 10}]}
    payment_event = inbox.store(
        profile_id, "vendorpayment.created", "77", json.dumps({"vendorpayment": payment}).encode()
    )
    bill_event = inbox.store(profile_id, "bill.edited", "1", _bill_body("1"))
    bills: list[str] = []
    payments: list[tuple[int, dict[str, Any], str]] = []

    async def handle_bill(pid: int, bill: dict[str, Any], event_type: str) -> None:
        bills.append(bill["bill_id"])

    async def handle_payment(pid: int, obj: dict[str, Any], event_type: str) -> None:
        payments.append((pid, obj, event_type))

    processor = InboxProcessor(inbox, handle_bill, handle_payment=handle_payment)
    assert await processor.drain_once() == 2
    assert payments == [(profile_id, payment, "vendorpayment.created")]
    assert bills == ["1"]
    for event in (payment_event, bill_event):
        stored = inbox.get(event.event_id)
        assert stored is not None
        assert stored.status == InboxStatus.PROCESSED
