"""Drain the webhook inbox into the engine: each stored bill event becomes one `process_webhook_bill` call,
each vendor-payment event one `process_webhook_payment` call (when a payment handler is given)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from zbsn.core.domain import InboxStatus, RunStatus
from zbsn.core.redaction import redact
from zbsn.core.webhooks.inbox import InboxEntry, WebhookInbox
from zbsn.core.webhooks.payload import entity_of, parse_json_object

log = logging.getLogger(__name__)

WebhookBillHandler = Callable[[int, dict[str, Any], str], Awaitable[object]]
"""`(profile_id, bill_payload, event_type)`: the engine's `process_webhook_bill`. A result whose `status` is a
run status that staged nothing (failed, reauth, cancelled, interrupted) marks the event failed."""

UNSUCCESSFUL_RUN_STATUSES = frozenset(
    {RunStatus.FAILED, RunStatus.REAUTH, RunStatus.CANCELLED, RunStatus.INTERRUPTED}
)

RetryCheck = Callable[[BaseException], bool]


def _never_retry(_exc: BaseException) -> bool:
    return False


class InboxProcessor:
    """Hand inbox events to the engine in arrival order; leave retryable ones (e.g. a held lock) for later."""

    def __init__(
        self,
        inbox: WebhookInbox,
        handle_bill: WebhookBillHandler,
        *,
        is_retryable: RetryCheck | None = None,
        poll_seconds: float = 5.0,
        handle_payment: WebhookBillHandler | None = None,
    ) -> None:
        self.inbox = inbox
        self.handle_bill = handle_bill
        self.handle_payment = handle_payment  # `(profile_id, payment_payload, event_type)`
        self.is_retryable = is_retryable or _never_retry
        self.poll_seconds = poll_seconds
        self.processed = 0
        self.failed = 0
        self._wake = asyncio.Event()

    def wake(self, _event_id: int | None = None) -> None:
        """Ask the loop to drain now (the receiver calls this after storing an event)."""
        self._wake.set()

    async def drain_once(self, limit: int = 100, profile_id: int | None = None) -> int:
        """Process the pending events (of one profile, when given) once; returns how many were settled."""
        settled = 0
        for entry in await asyncio.to_thread(self.inbox.pending, limit, profile_id):
            if await self._process(entry):
                settled += 1
            else:
                break  # a retryable refusal: keep the order, try again on the next drain
        return settled

    async def run(self, stop: asyncio.Event) -> None:
        """Drain whenever woken or every `poll_seconds`, until `stop` is set."""
        while not stop.is_set():
            try:
                await self.drain_once()
            except Exception:
                log.exception("webhook inbox drain failed")
            self._wake.clear()
            waiters = {asyncio.ensure_future(self._wake.wait()), asyncio.ensure_future(stop.wait())}
            _done, pending = await asyncio.wait(
                waiters, timeout=self.poll_seconds, return_when=asyncio.FIRST_COMPLETED
            )
            for task in pending:
                task.cancel()

    async def _process(self, entry: InboxEntry) -> bool:
        document = parse_json_object(entry.body)
        entity, obj = entity_of(document) if document is not None else (None, None)
        handler = {"bill": self.handle_bill, "vendorpayment": self.handle_payment}.get(entity or "")
        if entry.profile_id is None or handler is None or obj is None:
            what = "bill or vendor-payment" if self.handle_payment is not None else "bill"
            await asyncio.to_thread(
                self.inbox.settle, entry.id, InboxStatus.IGNORED, f"not a {what} event ({entry.event_type})"
            )
            return True
        try:
            result = await handler(entry.profile_id, obj, entry.event_type)
        except Exception as exc:
            if self.is_retryable(exc):
                log.info("webhook event %s deferred: %s", entry.id, exc)
                return False
            self.failed += 1
            await asyncio.to_thread(
                self.inbox.settle, entry.id, InboxStatus.FAILED, redact(f"{type(exc).__name__}: {exc}")
            )
            return True
        status = getattr(result, "status", None)
        if status in UNSUCCESSFUL_RUN_STATUSES:
            self.failed += 1
            reason = f"run {status}: {getattr(result, 'message', None) or 'no message'}"
            await asyncio.to_thread(self.inbox.settle, entry.id, InboxStatus.FAILED, redact(reason))
            return True
        self.processed += 1
        await asyncio.to_thread(self.inbox.settle, entry.id, InboxStatus.PROCESSED)
        return True
