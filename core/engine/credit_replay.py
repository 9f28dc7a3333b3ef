"""A vendor credit replayed: re-mapped from its stored Zoho payload (fetched again when that cannot be read)
with the current mappings, and its settlements against the bills staged now."""

from __future__ import annotations

from pydantic import ValidationError

from zbsn.core.db.models import AuditRecord
from zbsn.core.engine.audit_writer import AuditEntry
from zbsn.core.engine.credit_entries import credit_entry, unstaged_credit_entry
from zbsn.core.engine.entries import failed_replay
from zbsn.core.engine.problems import ErrorCode
from zbsn.core.engine.session import RunSession
from zbsn.core.engine.stages.vendor_credits import CreditSource
from zbsn.core.zoho.errors import ZohoNotFound
from zbsn.core.zoho.models import RecordError, ZohoVendorCredit


async def replayed_credit(run: RunSession, record: AuditRecord) -> AuditEntry:
    """A fresh audit entry for one stored vendor credit record."""
    try:
        credit: ZohoVendorCredit | RecordError = ZohoVendorCredit.model_validate_json(
            record.source_payload or ""
        )
    except (ValidationError, ValueError):
        if not isinstance(run.zoho, CreditSource):
            return failed_replay(record, "the stored vendor credit cannot be read")
        try:
            credit = await run.zoho.get_vendor_credit(record.zoho_id)
        except ZohoNotFound:
            gone = "the vendor credit no longer exists in Zoho Books"
            return failed_replay(record, gone, ErrorCode.NOT_FOUND)
    if isinstance(credit, RecordError):
        return failed_replay(record, credit.reason)
    unstaged = unstaged_credit_entry(credit, run.context, record.zoho_modified, record.sn_sys_id is not None)
    if unstaged is not None:
        return unstaged
    staged = run.history.staged_bills(a.bill_id for a in credit.bills_credited)
    return credit_entry(credit, run.context, run.index, staged, record.zoho_modified)
