"""The webhook stage: the one bill a Zoho webhook carried, staged with no Zoho request when the payload is
complete (else its detail is fetched); a void or a delete cancels its invoice. The one "unchanged" rule
applies: a delivery of an already-final version writes nothing."""

from __future__ import annotations

import json
from typing import Any

from zbsn.core.domain import RecordKind
from zbsn.core.engine.bill_changes import check_changes
from zbsn.core.engine.bill_lifecycle import ListedBill, lifecycle_entry
from zbsn.core.engine.entries import BillRef
from zbsn.core.engine.session import RunSession
from zbsn.core.engine.stages.bill_entries import bill_entry, cancellation
from zbsn.core.engine.unchanged import is_unchanged
from zbsn.core.zoho.errors import ZohoNotFound
from zbsn.core.zoho.models import RecordError, ZohoBill


async def webhook_bill(run: RunSession, payload: dict[str, Any], event_type: str) -> None:
    """Stage (or cancel) the bill in `payload` ({"bill": {...}} or the bill itself)."""
    run.load_mappings(None)
    raw = payload.get("bill") if isinstance(payload.get("bill"), dict) else payload
    assert isinstance(raw, dict)
    bill_id = str(raw.get("bill_id") or "")
    if not bill_id:
        raise ValueError("the webhook payload carries no bill_id")
    marker = str(raw.get("last_modified_time") or "") or None
    previous = run.history.known(RecordKind.BILL, [bill_id]).get(bill_id)
    event = event_type.casefold()
    number = str(raw.get("bill_number") or "") or None
    if event.endswith(("deleted", "voided")) or str(raw.get("status", "")).casefold() == "void":
        why = "deleted in Zoho Books" if event.endswith("deleted") else "voided in Zoho Books"
        source = json.dumps(raw, default=str)
        await run.write([cancellation(run, bill_id, number, marker, previous, source, why)])
        return
    if is_unchanged(previous, marker):
        run.counters.unchanged += 1
        return
    if raw.get("status"):  # waiting for approval (flagged when its invoice was staged before), or staged
        vendor = str(raw.get("vendor_name") or "") or None
        listed = ListedBill(bill_id, number, vendor, str(raw["status"]), json.dumps(raw, default=str))
        waiting = lifecycle_entry(run.history, run.context, listed, marker, previous)
        if waiting is not None:
            await run.write([waiting])
            return
    detail: ZohoBill | RecordError | None
    if isinstance(raw.get("line_items"), list) and raw["line_items"]:
        try:
            detail = ZohoBill.model_validate({**raw, "last_modified_time_raw": marker})
        except ValueError as exc:
            detail = RecordError(entity="bill", record_id=bill_id, reason=str(exc), raw=raw)
    else:
        try:
            detail = await run.zoho.get_bill(bill_id)
        except ZohoNotFound:
            detail = None
    ref = BillRef(bill_id, number, raw.get("vendor_name"), json.dumps(raw, default=str))
    await run.write(check_changes(run.history, [bill_entry(run, ref, detail, marker, previous)]))
