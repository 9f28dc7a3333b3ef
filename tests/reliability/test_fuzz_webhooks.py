"""Property-based fuzzing (hypothesis) of webhook deliveries to the receiver in `core/webhooks/`.

The receiver is served over real HTTP on loopback; stored deliveries are drained by the real `InboxProcessor`
into the real engine (`SyncRunner.process_webhook_bill`) with the real clients of both sandboxes. Each example
sends one delivery: a Zoho bill payload (a seeded bill as the Zoho sandbox renders it) with hostile values
overlaid, any JSON, raw bytes or a form body; with a hostile event header and query string; and signed
correctly (so it reaches parsing), or with the signature missing, garbled (any bytes), wrong, or with a
timestamp outside the replay window or not a number.

Properties: never a 5xx; a delivery not correctly signed (or outside the window) is refused with 401 and
nothing is stored; a correctly signed one is stored (200) and its event is settled (processed, or failed /
ignored with a reason); no audit row is left pending; no bill says `staged` without its ServiceNow invoice,
and no invoice lacks its audit row (never a half-processed bill).
"""

from __future__ import annotations

import asyncio
import json
import os
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import httpx
import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from sqlmodel import func, select

from tests.core.engine.harness import create_profile
from zbsn.core.db.engine import session_scope
from zbsn.core.db.models import AuditRecord, WebhookEvent
from zbsn.core.domain import AuditStatus, InboxStatus
from zbsn.core.engine.lock import RunLocked
from zbsn.core.webhooks import (
    SIGNATURE_HEADER,
    InboxProcessor,
    WebhookInbox,
    compute_signature,
    make_receiver_app,
)
from zbsn.core.webhooks.receiver import TIMESTAMP_HEADER
from zbsn.sandbox.serve import LoopbackServer
from zbsn.sandbox.zoho import render

from .conftest import Clients, World
from .test_fuzz import BILL_FIELDS, LINE_FIELDS, MISSING, hostile

SECRET = "fuzz-webhook-secret-0123456789"
EXAMPLES = 30
LONG_EXAMPLES = int(os.environ.get("ZBSN_FUZZ_EXAMPLES", "10000"))
FORM = "application/x-www-form-urlencoded"

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
    max_leaves=8,
)
header_text = st.text(
    alphabet=st.characters(min_codepoint=0x20, max_codepoint=0xFF, exclude_characters="\x7f"), max_size=40
)
events = st.one_of(
    st.none(),
    st.sampled_from(["bill.created", "bill.edited", "bill.deleted", "bill.voided", "vendorpayment.created"]),
    header_text,
)
bill_bodies = st.tuples(
    st.just("bill"),
    st.integers(min_value=0),
    st.booleans(),  # wrapped as {"bill": {...}} (Zoho's default payload) or the bare bill
    st.dictionaries(st.sampled_from([*BILL_FIELDS, "bill_id"]), hostile, max_size=3),
    st.dictionaries(st.sampled_from(LINE_FIELDS), hostile, max_size=2),
)
other_bodies = st.one_of(
    st.tuples(st.just("json"), json_values),
    st.tuples(st.just("bytes"), st.binary(max_size=200)),
    st.tuples(st.just("form"), st.lists(st.tuples(st.text(max_size=8), st.text(max_size=20)), max_size=4)),
)
signatures = st.one_of(
    st.just(("valid", None)),
    st.just(("valid", None)),
    st.just(("missing", None)),
    st.tuples(st.just("garbled"), st.binary(max_size=80)),
    st.just(("wrong", None)),
    st.tuples(st.just("stamp"), st.sampled_from(["now", "stale", "future", "nan", "inf", "-inf", "x", ""])),
)
deliveries = st.tuples(
    st.one_of(bill_bodies, bill_bodies, other_bodies),
    events,
    st.lists(st.tuples(st.text(min_size=1, max_size=8), st.text(max_size=12)), max_size=3),
    signatures,
)


@dataclass
class Receiver:
    world: World
    db: sa.Engine
    url: str
    http: httpx.Client
    processor: InboxProcessor


@pytest.fixture
def receiver(world: Callable[[int], World], sqlite_db: tuple[str, sa.Engine]) -> Iterator[Receiver]:
    w = world(20)
    _url, db = sqlite_db
    profile = create_profile(db, w.endpoints)
    inbox = WebhookInbox(db)
    app = make_receiver_app(inbox, lambda pid: SECRET if pid == profile else None)
    runner = Clients(w.endpoints).runner(db)
    processor = InboxProcessor(
        inbox, runner.process_webhook_bill, is_retryable=lambda exc: isinstance(exc, RunLocked)
    )
    with LoopbackServer(app) as server, httpx.Client(timeout=60) as http:
        yield Receiver(w, db, f"{server.url}/zoho/webhook/{profile}", http, processor)


def _overlay(target: dict[str, Any], changes: dict[str, Any]) -> None:
    for name, value in changes.items():
        if value is MISSING:
            target.pop(name, None)
        else:
            target[name] = value


def _body(receiver: Receiver, spec: tuple[Any, ...]) -> tuple[bytes, str, list[tuple[str, str]]]:
    """The raw body, its content type and (for a form) the pairs that are signed."""
    kind = spec[0]
    if kind == "bill":
        _kind, index, wrapped, bill_changes, line_changes = spec
        zoho = receiver.world.zoho
        bills = receiver.world.company.bills
        bill = render.bill_detail(zoho.state, zoho.state.get_bill(bills[index % len(bills)].bill_id))
        _overlay(bill, bill_changes)
        lines = bill.get("line_items")
        if isinstance(lines, list) and lines and isinstance(lines[0], dict):
            _overlay(lines[0], line_changes)
        document = {"bill": bill} if wrapped else bill
        return json.dumps(document, default=str).encode(), "application/json", []
    if kind == "json":
        return json.dumps(spec[1]).encode(), "application/json", []
    if kind == "bytes":
        return spec[1], "application/octet-stream", []
    pairs = list(spec[1])
    return urlencode(pairs).encode(), FORM, pairs


def _inbox_size(db: sa.Engine) -> int:
    with session_scope(db) as session:
        return int(session.exec(select(func.count()).select_from(WebhookEvent)).one())


def fuzz_one(receiver: Receiver, delivery: tuple[Any, ...]) -> None:
    spec, event_header, query, (mode, extra) = delivery
    body, content_type, form_pairs = _body(receiver, spec)
    headers: dict[str, str | bytes] = {"content-type": content_type}
    if event_header is not None and event_header.strip(" \t"):  # HTTP trims a value's outer blanks
        headers["X-Zoho-Event"] = event_header.strip(" \t").encode("latin-1")
    signed = [(k, v) for k, v in query] + form_pairs
    stamp: str | None = None
    if mode == "stamp":
        now = time.time()
        stamp = {"now": str(int(now)), "stale": str(int(now - 3600)), "future": str(int(now + 3600))}.get(
            extra, extra
        )
        headers[TIMESTAMP_HEADER] = stamp
        signed.append(("timestamp", stamp))
    if mode in ("valid", "stamp"):
        headers[SIGNATURE_HEADER] = compute_signature(SECRET, signed, b"" if form_pairs else body)
    elif mode == "garbled":
        headers[SIGNATURE_HEADER] = bytes(b for b in extra if b > 0x20 and b != 0x7F)  # what HTTP can carry
    elif mode == "wrong":
        headers[SIGNATURE_HEADER] = compute_signature(SECRET, signed, body + b" ")
    before = _inbox_size(receiver.db)
    response = receiver.http.post(receiver.url, params=query, content=body, headers=headers)
    assert response.status_code < 500, response.text
    event(f"HTTP {response.status_code}")
    in_window = stamp is None or (stamp.isdigit() and abs(time.time() - int(stamp)) < 300)
    accepted = mode == "valid" or (mode == "stamp" and in_window)
    if not accepted:
        assert response.status_code == 401, (mode, extra, response.status_code, response.text)
        assert _inbox_size(receiver.db) == before, "a refused delivery was stored"
        return
    assert response.status_code == 200, response.text
    answer = response.json()
    asyncio.run(receiver.processor.drain_once())
    with session_scope(receiver.db) as session:
        row = session.get(WebhookEvent, answer["event_id"])
        assert row is not None
        if answer["status"] == "stored":
            assert row.status != InboxStatus.NEW, "a stored delivery was not settled"
            event(f"inbox {row.status}")
            if row.status in (InboxStatus.FAILED, InboxStatus.IGNORED):
                assert (row.error or "").strip(), "an event failed or ignored without a reason"
        audit = session.exec(select(AuditRecord)).all()
    _no_half_processed_bill(receiver.world, audit)


def _no_half_processed_bill(world: World, audit: Any) -> None:
    assert [r.zoho_id for r in audit if r.status == AuditStatus.PENDING] == [], "audit rows left pending"
    for row in audit:
        if row.status == AuditStatus.FAILED:
            assert (row.error_message or "").strip(), f"{row.kind} {row.zoho_id} failed without a reason"
    invoices = world.servicenow.table("sn_shop_invoice")
    numbers = [r["external_invoice_number"] for r in invoices]
    assert len(numbers) == len(set(numbers)), "duplicate invoices"
    by_sys_id = {r["sys_id"] for r in invoices}
    staged = [
        r for r in audit if r.kind == "bill" and r.status in (AuditStatus.STAGED, AuditStatus.CANCELLED)
    ]
    assert [r.zoho_id for r in staged if r.sn_sys_id not in by_sys_id] == [], "staged without its invoice"
    keys = {r.external_key for r in audit if r.kind == "bill"}
    assert set(numbers) <= keys, "an invoice in ServiceNow without its audit row"


@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck))
@given(deliveries)
def test_fuzz_webhook_deliveries(receiver: Receiver, delivery: Any) -> None:
    fuzz_one(receiver, delivery)


@pytest.mark.slow
@settings(max_examples=LONG_EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck))
@given(deliveries)
def test_fuzz_webhook_deliveries_long(receiver: Receiver, delivery: Any) -> None:
    fuzz_one(receiver, delivery)
