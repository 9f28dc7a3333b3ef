"""Zoho Books webhooks: signature check, the DB inbox, the Starlette receiver and the inbox processor."""

from zbsn.core.webhooks.inbox import InboxEntry, StoreOutcome, WebhookInbox
from zbsn.core.webhooks.processor import InboxProcessor, WebhookBillHandler
from zbsn.core.webhooks.receiver import ReceiverState, make_receiver_app
from zbsn.core.webhooks.signature import SIGNATURE_HEADER, compute_signature, verify_signature

__all__ = [
    "SIGNATURE_HEADER",
    "InboxEntry",
    "InboxProcessor",
    "ReceiverState",
    "StoreOutcome",
    "WebhookBillHandler",
    "WebhookInbox",
    "compute_signature",
    "make_receiver_app",
    "verify_signature",
]
