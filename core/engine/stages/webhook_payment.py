"""The vendor-payment webhook stage: the one payment a Zoho webhook carried, staged as payment details (with
no Zoho request when the payload holds its bills, else its detail is fetched); a deleted payment is flagged.

Recording a vendor payment fires no bill event in Zoho (zoho-ref §7), so a "Vendor Payments" workflow rule
is the only push for it. The one "unchanged" rule applies as for bills. A deleted payment cannot be
propagated: an import set cannot delete the payment details it created (sn-ref §7.4, §7.6), so a payment
whose details reached ServiceNow is flagged for the AP team to reverse there; one that never got there is
skipped. The same rule serves a full sweep that no longer lists a staged payment (`deletions.py`): one
rule, two triggers. [INF] the Default Payload key (`vendorpayment` vs `vendor_payment`) and the delete
payload (the id alone) are unverified (zoho-ref §13 open question 2): both keys and a bare id are read.
"""

from __future__ import annotations

import json
from typing import Any

from zbsn.core.domain import AuditStatus, RecordKind
from zbsn.core.engine import columns as colnames
from zbsn.core.engine.audit_writer import AuditEntry
from zbsn.core.engine.entries import error_entry, payment_entry
from zbsn.core.engine.problems import ErrorCode, Problem
from zbsn.core.engine.session import RunSession
from zbsn.core.engine.unchanged import Known, is_unchanged
from zbsn.core.zoho.errors import ZohoNotFound
from zbsn.core.zoho.models import RecordError, ZohoVendorPayment

PAYMENT_KEYS = ("vendorpayment", "vendor_payment")


def _payment_object(payload: dict[str, Any]) -> dict[str, Any]:
    for name in PAYMENT_KEYS:
        if isinstance(payload.get(name), dict):
            return dict(payload[name])
    return payload


def deleted_payment_entry(
    run: RunSession,
    payment_id: str,
    number: str | None,
    marker: str | None,
    previous: Known | None,
    source: str | None,
) -> AuditEntry:
    """A payment deleted in Zoho: flagged when its details are in ServiceNow, else skipped. `source` None
    keeps the payment's stored payload (the bills it paid, which the reconciliation reads)."""
    entry = AuditEntry(
        kind=RecordKind.PAYMENT,
        zoho_id=payment_id,
        external_key=colnames.payment_key(run.context.organization_id, payment_id),
        zoho_number=number,
        zoho_modified=marker,
        source_payload=source,
    )
    if previous is None or previous.status not in (AuditStatus.STAGED, AuditStatus.FLAGGED):
        entry.status = AuditStatus.SKIPPED
        entry.error_message = "deleted in Zoho Books; never staged, nothing to reverse"
        return entry
    message = (
        f"vendor payment {number or payment_id} deleted in Zoho Books: its payment details stay on the "
        "invoices in ServiceNow (an import set cannot delete them); the AP team reverses them there"
    )
    entry.status, entry.error_code, entry.error_message = (
        AuditStatus.FLAGGED,
        ErrorCode.PAYMENT_DELETED_IN_ZOHO.value,
        message,
    )
    entry.problems = [Problem(ErrorCode.PAYMENT_DELETED_IN_ZOHO, message)]
    run.log("warning", message)
    return entry


async def webhook_payment(run: RunSession, payload: dict[str, Any], event_type: str) -> None:
    """Stage (or flag, when deleted) the vendor payment in `payload` ({"vendorpayment": {...}} or itself)."""
    run.load_mappings(None)
    raw = _payment_object(payload)
    payment_id = str(raw.get("payment_id") or "")
    if not payment_id:
        raise ValueError("the webhook payload carries no payment_id")
    marker = str(raw.get("last_modified_time") or "") or None
    previous = run.history.known(RecordKind.PAYMENT, [payment_id]).get(payment_id)
    number = str(raw.get("payment_number") or "") or None
    source = json.dumps(raw, default=str)
    if event_type.casefold().endswith("deleted"):
        kept = source if raw.get("bills") else None  # a bare id: the stored payload says what it paid
        await run.write([deleted_payment_entry(run, payment_id, number, marker, previous, kept)])
        return
    if is_unchanged(previous, marker):
        run.counters.unchanged += 1
        return
    detail: ZohoVendorPayment | RecordError | None
    if isinstance(raw.get("bills"), list) and raw["bills"]:
        try:
            detail = ZohoVendorPayment.model_validate({**raw, "last_modified_time_raw": marker})
        except ValueError as exc:
            detail = RecordError(entity="vendorpayment", record_id=payment_id, reason=str(exc), raw=raw)
    else:
        try:
            detail = await run.zoho.get_vendor_payment(payment_id)
        except ZohoNotFound:
            detail = None
    if detail is None:  # gone from Zoho since the event: as a delete
        await run.write([deleted_payment_entry(run, payment_id, number, marker, previous, None)])
        return
    if isinstance(detail, RecordError):
        entry = error_entry(RecordKind.PAYMENT, detail, run.context)
        entry.zoho_id, entry.zoho_modified = payment_id, marker
        await run.write([entry])
        return
    staged = run.history.staged_bills(a.bill_id for a in detail.bills)
    await run.write([payment_entry(detail, run.context, run.index, staged, marker)])
