"""Zoho Books webhooks: signature check, the DB inbox, the Starlette receiver and the inbox processor."""

from zbsn.core.webhooks.inbox import InboxEntry, StoreOutcome, WebhookInbox
from zbsn.core.webhooks.processor import InboxProcessor, WebhookBillHandler
from zbsn.core.webhooks.receiver import ReceiverState, make_receiver_app
from zbsn.core.webhooks.runtime import ServeRuntime, runtime_for_workspace
from zbsn.core.webhooks.signature import SIGNATURE_HEADER, compute_signature, verify_signature

__all__ = [
    "SIGNATURE_HEADER",
    "InboxEntry",
    "InboxProcessor",
    "ReceiverState",
    "ServeRuntime",
    "StoreOutcome",
    "WebhookBillHandler",
    "WebhookInbox",
    "compute_signature",
    "make_receiver_app",
    "runtime_for_workspace",
    "verify_signature",
]
