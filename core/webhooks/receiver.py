"""The Starlette app that receives Zoho webhooks: verify, store in the inbox, answer 2xx fast.

Nothing is stored for a delivery whose signature is missing or wrong (401). A verified delivery is written to
the inbox before the answer; the same delivery twice lands on the same row. Processing happens elsewhere
(`InboxProcessor`), woken through `on_stored`, so Zoho never waits for a sync.

Replay window: Zoho's (inferred) scheme signs no timestamp, so an old delivery cannot be told from a fresh
one by its signature. When a delivery carries a signed timestamp (`X-Zoho-Webhook-Timestamp` header, epoch
seconds or milliseconds, folded into the signed pairs as `timestamp`), deliveries older than the replay window
are refused; otherwise the inbox's body-hash dedupe is what stops a replayed delivery from being staged twice.
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from urllib.parse import parse_qsl

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from zbsn.core.clock import Clock, SystemClock
from zbsn.core.webhooks.inbox import WebhookInbox
from zbsn.core.webhooks.payload import entity_id_of, entity_of, event_type_of, parse_json_object
from zbsn.core.webhooks.signature import SIGNATURE_HEADER, verify_signature

TIMESTAMP_HEADER = "X-Zoho-Webhook-Timestamp"
MAX_BODY_BYTES = 5_000_000
FORM_TYPE = "application/x-www-form-urlencoded"

SecretLookup = Callable[[int], str | None]


@dataclass
class ReceiverState:
    """Counters the TUI and `zbsn serve` show about the receiver."""

    received: int = 0
    stored: int = 0
    duplicates: int = 0
    refused: int = 0
    last_received_at: datetime | None = None
    last_refusal: str | None = None
    listening_url: str | None = None
    refusals_by_reason: dict[str, int] = field(default_factory=dict)

    def refuse(self, reason: str) -> None:
        self.refused += 1
        self.last_refusal = reason
        self.refusals_by_reason[reason] = self.refusals_by_reason.get(reason, 0) + 1


def _timestamp_seconds(raw: str) -> float | None:
    try:
        value = float(raw)
    except ValueError:
        return None
    if not math.isfinite(value):  # "nan" would never be outside the window
        return None
    return value / 1000 if value > 1e11 else value


def make_receiver_app(
    inbox: WebhookInbox,
    secret_for_profile: SecretLookup,
    *,
    on_stored: Callable[[int], None] | None = None,
    replay_window_seconds: float | None = 300,
    clock: Clock | None = None,
    state: ReceiverState | None = None,
) -> Starlette:
    """Build the receiver; `secret_for_profile` returns a profile's webhook secret (None: refuse)."""
    the_clock: Clock = clock or SystemClock()
    counters = state or ReceiverState()

    def refused(reason: str, status: int = 401) -> JSONResponse:
        counters.refuse(reason)
        return JSONResponse({"error": reason}, status_code=status)

    async def receive(request: Request) -> JSONResponse:
        counters.received += 1
        counters.last_received_at = the_clock.now()
        profile_id = int(request.path_params["profile_id"])
        raw_body = await request.body()
        if len(raw_body) > MAX_BODY_BYTES:
            return refused("body too large", 413)
        query = [(k, v) for k, v in request.query_params.multi_items() if k != ""]
        is_form = request.headers.get("content-type", "").split(";")[0].strip().lower() == FORM_TYPE
        form = parse_qsl(raw_body.decode("utf-8", "replace"), keep_blank_values=True) if is_form else []
        signed_pairs = query + form
        stamp = request.headers.get(TIMESTAMP_HEADER)
        if stamp is not None:
            signed_pairs.append(("timestamp", stamp))
        secret = await asyncio.to_thread(secret_for_profile, profile_id)
        if secret is None:
            return refused("unknown profile or no webhook secret")
        signature = request.headers.get(SIGNATURE_HEADER)
        if signature is None:
            return refused("missing signature")
        if not verify_signature(secret, signed_pairs, b"" if is_form else raw_body, signature):
            return refused("wrong signature")
        if stamp is not None and replay_window_seconds is not None:
            sent_at = _timestamp_seconds(stamp)
            age = None if sent_at is None else the_clock.now().timestamp() - sent_at
            if age is None or abs(age) > replay_window_seconds:
                return refused("outside the replay window")
        document = parse_json_object(raw_body) if not is_form else dict(form)
        params = dict(query) | dict(form)
        event_type = event_type_of(request.headers, params, document)
        entity, obj = entity_of(document) if document is not None else (None, None)
        entity_id = entity_id_of(entity, obj, document or {})
        outcome = await asyncio.to_thread(inbox.store, profile_id, event_type, entity_id, raw_body)
        if outcome.stored:
            counters.stored += 1
            if on_stored is not None:
                on_stored(outcome.event_id)
        else:
            counters.duplicates += 1
        return JSONResponse(
            {"status": "stored" if outcome.stored else "duplicate", "event_id": outcome.event_id},
            status_code=200,
        )

    async def health(_request: Request) -> JSONResponse:
        return JSONResponse({"status": "ok", "received": counters.received, "stored": counters.stored})

    return Starlette(
        routes=[
            Route("/zoho/webhook/{profile_id:int}", receive, methods=["POST", "PUT"]),
            Route("/healthz", health, methods=["GET"]),
        ]
    )
