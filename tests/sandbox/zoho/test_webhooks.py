"""Workflow-rule webhooks: Default Payload, event hint, HMAC signature, at-most-once delivery."""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import Route

from zbsn.sandbox.serve import LoopbackServer
from zbsn.sandbox.zoho import SIGNATURE_HEADER, ZohoSandbox

SECRET = "s3cretWebhookKey2026"


class Receiver:
    """A loopback HTTP endpoint that records what it receives."""

    def __init__(self, status: int = 200) -> None:
        self.received: list[dict[str, Any]] = []
        self.status = status

        async def hook(request: Request) -> PlainTextResponse:
            self.received.append(
                {
                    "url": str(request.url),
                    "query": list(parse_qsl(request.url.query)),
                    "headers": dict(request.headers),
                    "body": await request.body(),
                }
            )
            return PlainTextResponse("ok", status_code=self.status)

        self.server = LoopbackServer(Starlette(routes=[Route("/hook", hook, methods=["POST"])]))

    @property
    def url(self) -> str:
        return self.server.url + "/hook?token=abc"


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    receiver = Receiver()
    receiver.server.start()
    yield receiver
    receiver.server.stop()


def verify(secret: str, url: str, body: bytes, signature: str) -> bool:
    """The documented algorithm, written independently of the sandbox's `sign`."""
    pairs = sorted(parse_qsl(urlsplit(url).query, keep_blank_values=True))
    message = "".join(k + v for k, v in pairs).encode() + body
    return hmac.compare_digest(hmac.new(secret.encode(), message, hashlib.sha256).hexdigest(), signature)


def test_edit_sends_signed_default_payload(fresh: ZohoSandbox, receiver: Receiver) -> None:
    fresh.configure_webhooks(receiver.url, SECRET)
    bill = next(b for b in fresh.state.company.bills if b.status == "open" and not b.defect)
    fresh.edit_bill(bill.bill_id, {"reference_number": "PO-EDITED"})
    log = fresh.wait_webhooks()
    assert [d["outcome"] for d in log] == ["delivered"]
    [hit] = receiver.received
    assert ("event", "bill.edited") in hit["query"]
    assert ("token", "abc") in hit["query"]
    payload = json.loads(hit["body"])
    assert payload["bill"]["bill_id"] == bill.bill_id
    assert payload["bill"]["reference_number"] == "PO-EDITED"
    assert payload["bill"]["line_items"]
    signature = hit["headers"][SIGNATURE_HEADER.lower()]
    assert verify(SECRET, hit["url"], hit["body"], signature)
    assert not verify("wrong-secret-123", hit["url"], hit["body"], signature)
    assert not verify(SECRET, hit["url"], hit["body"] + b" ", signature)


def test_every_event_kind(fresh: ZohoSandbox, receiver: Receiver) -> None:
    fresh.configure_webhooks(receiver.url, SECRET)
    vendor = next(iter(fresh.state.vendors))
    account = next(a.account_id for a in fresh.state.accounts.values() if a.account_type == "expense")
    created = fresh.add_bill({"vendor_id": vendor, "line_items": [{"account_id": account, "rate": 50}]})
    fresh.add_payment({"bills": [{"bill_id": created.bill_id, "amount_applied": 20}]})
    other = fresh.add_bill({"vendor_id": vendor, "line_items": [{"account_id": account, "rate": 10}]})
    fresh.void_bill(other.bill_id)
    third = fresh.add_bill({"vendor_id": vendor, "line_items": [{"account_id": account, "rate": 10}]})
    fresh.delete_bill(third.bill_id)
    fresh.wait_webhooks()
    events = [dict(hit["query"])["event"] for hit in receiver.received]
    assert events == [
        "bill.created",
        "vendorpayment.created",
        "bill.created",
        "bill.voided",
        "bill.created",
        "bill.deleted",
    ]
    payment = json.loads(receiver.received[1]["body"])["vendorpayment"]
    assert payment["bills"][0]["bill_id"] == created.bill_id
    assert json.loads(receiver.received[-1]["body"]) == {"bill": {"bill_id": third.bill_id}}
    assert all(
        verify(SECRET, h["url"], h["body"], h["headers"][SIGNATURE_HEADER.lower()]) for h in receiver.received
    )


def test_event_subset(fresh: ZohoSandbox, receiver: Receiver) -> None:
    fresh.configure_webhooks(receiver.url, SECRET, events=["bill.voided"])
    bill = next(b for b in fresh.state.company.bills if b.status == "open" and not b.defect)
    fresh.edit_bill(bill.bill_id, {"reference_number": "x"})
    fresh.void_bill(bill.bill_id)
    fresh.wait_webhooks()
    assert [dict(h["query"])["event"] for h in receiver.received] == ["bill.voided"]


def test_failed_delivery_is_skipped_not_retried(fresh: ZohoSandbox, receiver: Receiver) -> None:
    receiver.status = 503
    fresh.configure_webhooks(receiver.url, SECRET)
    bill = next(b for b in fresh.state.company.bills if b.status == "open" and not b.defect)
    fresh.edit_bill(bill.bill_id, {"reference_number": "y"})
    log = fresh.wait_webhooks()
    assert len(receiver.received) == 1
    assert log[-1]["outcome"] == "skipped"
    assert log[-1]["status"] == 503
    fresh.configure_webhooks("http://127.0.0.1:9/nowhere", SECRET)
    fresh.edit_bill(bill.bill_id, {"reference_number": "z"})
    log = fresh.wait_webhooks()
    assert log[-1]["outcome"] == "skipped"
    assert log[-1]["status"] is None
    assert fresh.counters()["webhooks"] == {"delivered": 0, "skipped": 2}
