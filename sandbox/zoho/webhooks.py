"""Workflow-rule webhooks: POST the Default Payload to a configured URL when the admin changes data.

Events: bill.created, bill.edited, bill.voided, bill.deleted, vendorpayment.created. The body is
`{"bill": {...full detail...}}` / `{"vendorpayment": {...}}`; on delete only `{"bill": {"bill_id": ...}}`
([INF], zoho-ref §7). The event name travels as the query parameter `event=<name>` (a sandbox choice: Books
sends what the webhook's query parameters say), which is signed with the rest.

Signature ([INF]: Zoho Billing's documented scheme, applied to Books): header `X-Zoho-Webhook-Signature` =
hex HMAC-SHA256(secret, all query/form pairs sorted by key and concatenated as key+value, then the raw body).

Delivery is at most once: no retry; a failed delivery (error, timeout, non-2xx) is recorded as "skipped".
"""

from __future__ import annotations

import hashlib
import hmac
import json
import queue
import threading
import time
from dataclasses import asdict, dataclass, field
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import httpx

WEBHOOK_EVENTS = (
    "bill.created",
    "bill.edited",
    "bill.voided",
    "bill.deleted",
    "vendorpayment.created",
    "vendorpayment.deleted",
)
SIGNATURE_HEADER = "X-Zoho-Webhook-Signature"


def sign(secret: str, params: list[tuple[str, str]], body: bytes) -> str:
    """Hex HMAC-SHA256 over sorted `key+value` pairs followed by the raw body."""
    message = "".join(k + v for k, v in sorted(params, key=lambda kv: kv[0])).encode() + body
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


@dataclass(slots=True)
class WebhookTarget:
    """Where webhooks go; `events` empty means all events."""

    url: str
    secret: str
    events: set[str] = field(default_factory=set)
    timeout_seconds: float = 10.0


@dataclass(slots=True)
class Delivery:
    """One webhook attempt as the log shows it."""

    event: str
    url: str
    outcome: str  # "delivered" | "skipped"
    status: int | None
    error: str
    signature: str


class WebhookEmitter:
    """Queues events and POSTs them from a worker thread (admin calls never wait on the receiver)."""

    def __init__(self) -> None:
        self.target: WebhookTarget | None = None
        self.deliveries: list[Delivery] = []
        self._closing = False
        self._queue: queue.Queue[tuple[str, bytes, WebhookTarget] | None] = queue.Queue()
        self._thread = threading.Thread(target=self._run, name="zoho-webhooks", daemon=True)
        self._thread.start()

    def configure(self, url: str | None, secret: str = "", events: list[str] | None = None) -> None:
        """Set (or with url=None, clear) the target."""
        unknown = set(events or []) - set(WEBHOOK_EVENTS)
        if unknown:
            raise ValueError(f"unknown webhook events: {sorted(unknown)}")
        self.target = WebhookTarget(url, secret, set(events or [])) if url else None

    def emit(self, event: str, payload: dict[str, Any]) -> None:
        """Queue `payload` for `event` if a target subscribes to it."""
        target = self.target
        if target is None or (target.events and event not in target.events):
            return
        self._queue.put((event, json.dumps(payload).encode(), target))

    def wait_idle(self, timeout: float = 10.0) -> None:
        """Block until every queued event has been attempted (tests)."""
        deadline = time.monotonic() + timeout
        while self._queue.unfinished_tasks and time.monotonic() < deadline:
            time.sleep(0.01)

    def log(self) -> list[dict[str, Any]]:
        """The delivery log as plain JSON."""
        return [asdict(d) for d in self.deliveries]

    def close(self) -> None:
        """Stop the worker thread."""
        self._closing = True
        self._queue.put(None)

    def _run(self) -> None:
        with httpx.Client() as client:
            while True:
                item = self._queue.get()
                try:
                    if item is None:
                        return
                    self._deliver(client, *item)
                finally:
                    self._queue.task_done()

    def _deliver(self, client: httpx.Client, event: str, body: bytes, target: WebhookTarget) -> None:
        parts = urlsplit(target.url)
        params = [*parse_qsl(parts.query, keep_blank_values=True), ("event", event)]
        url = urlunsplit((parts.scheme, parts.netloc, parts.path, urlencode(params), ""))
        signature = sign(target.secret, params, body) if target.secret else ""
        headers = {"Content-Type": "application/json", "User-Agent": "ZohoBooks-Webhook-Sandbox"}
        if signature:
            headers[SIGNATURE_HEADER] = signature
        try:
            response = client.post(url, content=body, headers=headers, timeout=target.timeout_seconds)
        except httpx.HTTPError as exc:
            self.deliveries.append(Delivery(event, url, "skipped", None, type(exc).__name__, signature))
            return
        ok = 200 <= response.status_code < 300
        outcome = "delivered" if ok else "skipped"
        error = "" if ok else f"HTTP {response.status_code}"
        self.deliveries.append(Delivery(event, url, outcome, response.status_code, error, signature))
