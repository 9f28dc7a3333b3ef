"""Webhook security against the demo's real receiver (over loopback HTTP, the real inbox and engine).

A delivery with no signature, a wrong one (another secret, or a body changed after signing), or a signed
timestamp outside the replay window is refused with 401 and leaves nothing in the inbox; the same valid
delivery twice is stored once and stages once in the ServiceNow sandbox; an older delivery replayed after a
newer edit does not roll the invoice back.

How the window is signed (core/webhooks/receiver.py): the `X-Zoho-Webhook-Timestamp` header is folded into
the signed pairs as `timestamp`, so moving it invalidates the signature; a timestamp older (or newer) than
300 s is refused even when the signature is right.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlmodel import Session, select

from zbsn.core.db.models import WebhookEvent
from zbsn.core.domain import InboxStatus
from zbsn.core.engine.columns import invoice_key
from zbsn.core.webhooks.receiver import TIMESTAMP_HEADER
from zbsn.core.webhooks.signature import SIGNATURE_HEADER
from zbsn.sandbox.demo import DemoHandle, start_demo
from zbsn.sandbox.servicenow.schema import STAGING_TABLES
from zbsn.sandbox.zoho import render
from zbsn.sandbox.zoho.webhooks import sign

EVENT = "bill.edited"


@pytest.fixture
def demo(tmp_path: Path) -> Iterator[DemoHandle]:
    handle = start_demo(f"sqlite:///{tmp_path / 'hooks.db'}", seed=7, bills=20, rate_window_s=2.0)
    try:
        handle.zoho.configure_webhooks(None)  # this test sends every delivery itself
        yield handle
    finally:
        handle.stop()


def _events(demo: DemoHandle) -> list[WebhookEvent]:
    with Session(demo.db_engine) as session:
        return list(session.exec(select(WebhookEvent).order_by(WebhookEvent.id)).all())


def _wait_settled(demo: DemoHandle, count: int, timeout_s: float = 60.0) -> list[WebhookEvent]:
    deadline = time.monotonic() + timeout_s
    while True:
        events = _events(demo)
        if len(events) >= count and all(e.status != InboxStatus.NEW for e in events):
            return events
        assert time.monotonic() < deadline, [(e.id, e.status, e.error) for e in events]
        time.sleep(0.05)


def _staging_rows(demo: DemoHandle) -> int:
    return sum(len(demo.servicenow.table(name)) for name in STAGING_TABLES)


def _invoices(demo: DemoHandle, bill_id: str) -> list[dict[str, Any]]:
    key = invoice_key(demo.organization_id, bill_id)
    return [r for r in demo.servicenow.table("sn_shop_invoice") if r.get("external_invoice_number") == key]


def _edited_body(demo: DemoHandle, bill_id: str, reference: str) -> bytes:
    """Edit the bill in Zoho (no webhook goes out) and render the body Zoho would send.

    The edit changes a field the payload carries, so two edits in the same second still differ (the
    modified time has one-second resolution).
    """
    demo.zoho.edit_bill(bill_id, {"reference_number": reference})
    with demo.zoho.state.lock:
        return json.dumps(
            {"bill": render.bill_detail(demo.zoho.state, demo.zoho.state.bills[bill_id])}
        ).encode()


def _post(
    demo: DemoHandle,
    body: bytes,
    *,
    secret: str | None,
    stamp: str | None = None,
    signature: str | None = None,
) -> httpx.Response:
    assert demo.webhook_url is not None
    params = [("event", EVENT)]
    signed = params + ([("timestamp", stamp)] if stamp is not None else [])
    headers = {"Content-Type": "application/json"}
    if stamp is not None:
        headers[TIMESTAMP_HEADER] = stamp
    if signature is None and secret is not None:
        signature = sign(secret, signed, body)
    if signature is not None:
        headers[SIGNATURE_HEADER] = signature
    return httpx.post(demo.webhook_url, params=params, content=body, headers=headers, timeout=30)


@pytest.fixture
def synced(demo: DemoHandle) -> tuple[DemoHandle, str]:
    """After a full run: an open, staged bill to send webhooks for."""
    from zbsn.sandbox.demo import _run_in_fresh_loop

    summary = _run_in_fresh_loop(lambda: demo.workspace.engine_service().run(demo.profile_id, mode="full"))
    assert summary.staged > 0
    paid = {alloc.bill_id for payment in demo.company.payments for alloc in payment.allocations}
    for bill in demo.company.bills:
        if bill.status == "open" and bill.bill_id not in paid and len(_invoices(demo, bill.bill_id)) == 1:
            return demo, bill.bill_id
    raise AssertionError("no staged open bill")


def test_refused_deliveries_store_nothing(synced: tuple[DemoHandle, str]) -> None:
    demo, bill_id = synced
    body = _edited_body(demo, bill_id, "refused edits")
    staged_before = _staging_rows(demo)
    now = str(int(time.time()))
    stale = str(int(time.time()) - 400)
    future = str(int(time.time()) + 400)
    secret = demo.webhook_secret
    good_signature = sign(secret, [("event", EVENT)], body)

    cases = {
        "missing signature": _post(demo, body, secret=None),
        "empty signature": _post(demo, body, secret=None, signature=""),
        "signed with another secret": _post(demo, body, secret=secret + "x"),
        "body changed after signing": _post(demo, body + b" ", secret=None, signature=good_signature),
        "event changed after signing": httpx.post(
            demo.webhook_url or "",
            params=[("event", "bill.voided")],
            content=body,
            headers={SIGNATURE_HEADER: good_signature, "Content-Type": "application/json"},
        ),
        "replayed after its window": _post(demo, body, secret=secret, stamp=stale),
        "stale window in milliseconds": _post(demo, body, secret=secret, stamp=stale + "000"),
        "timestamp from the future": _post(demo, body, secret=secret, stamp=future),
        "timestamp moved after signing": _post(
            demo,
            body,
            secret=None,
            stamp=now,
            signature=sign(secret, [("event", EVENT), ("timestamp", stale)], body),
        ),
        "timestamp not a number": _post(demo, body, secret=secret, stamp="yesterday"),
    }
    assert {name: r.status_code for name, r in cases.items()} == dict.fromkeys(cases, 401)
    assert _events(demo) == []
    state = demo.receiver_state
    assert state is not None
    assert state.stored == 0
    assert state.refused == len(cases)
    assert state.refusals_by_reason["outside the replay window"] == 4
    time.sleep(0.5)
    assert _staging_rows(demo) == staged_before

    # Control: the same body, correctly signed and inside the window, is accepted and stored.
    accepted = _post(demo, body, secret=secret, stamp=now)
    assert accepted.status_code == 200, accepted.text
    assert accepted.json()["status"] == "stored"
    assert len(_wait_settled(demo, 1)) == 1


def test_the_same_valid_delivery_twice_stages_once(synced: tuple[DemoHandle, str]) -> None:
    demo, bill_id = synced
    body = _edited_body(demo, bill_id, "edited once")
    staged_before = _staging_rows(demo)

    first = _post(demo, body, secret=demo.webhook_secret)
    assert first.json()["status"] == "stored"
    [event] = _wait_settled(demo, 1)
    assert event.status == InboxStatus.PROCESSED, event.error
    staged_once = _staging_rows(demo)
    assert staged_once > staged_before  # the edit was staged (the sandbox received import rows)

    second = _post(demo, body, secret=demo.webhook_secret)
    assert second.status_code == 200
    assert second.json() == {"status": "duplicate", "event_id": event.id}
    time.sleep(1.0)  # give a (wrongly) woken processor time to stage again
    assert len(_events(demo)) == 1
    assert _staging_rows(demo) == staged_once
    assert len(_invoices(demo, bill_id)) == 1
    assert demo.receiver_state is not None
    assert demo.receiver_state.duplicates == 1


def test_an_old_delivery_replayed_after_a_newer_edit_changes_nothing(synced: tuple[DemoHandle, str]) -> None:
    demo, bill_id = synced
    old = _edited_body(demo, bill_id, "first edit")
    assert _post(demo, old, secret=demo.webhook_secret).json()["status"] == "stored"
    _wait_settled(demo, 1)
    new = _edited_body(demo, bill_id, "second edit")
    assert _post(demo, new, secret=demo.webhook_secret).json()["status"] == "stored"
    _wait_settled(demo, 2)
    after_new = _staging_rows(demo)

    replay = _post(demo, old, secret=demo.webhook_secret)  # an attacker resends the captured first delivery
    assert replay.json()["status"] == "duplicate"
    time.sleep(1.0)
    assert len(_events(demo)) == 2
    assert _staging_rows(demo) == after_new
