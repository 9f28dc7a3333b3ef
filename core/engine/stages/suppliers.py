"""The suppliers stage: vendor contacts matched to ServiceNow suppliers; when the profile allows, a vendor
ServiceNow does not know is staged as a new supplier. An unreadable contact fails with the reason."""

from __future__ import annotations

import hashlib
import json

from zbsn.core.db.transient import transaction
from zbsn.core.domain import AuditStatus, RecordKind
from zbsn.core.engine import columns as colnames
from zbsn.core.engine.audit_writer import AuditEntry
from zbsn.core.engine.entries import modified_marker
from zbsn.core.engine.incremental import fresh_errors
from zbsn.core.engine.masters import ServiceNowMasters, align_suppliers, fetch_vendors
from zbsn.core.engine.problems import ErrorCode, Problem
from zbsn.core.engine.session import RunSession
from zbsn.core.engine.transform_suppliers import supplier_rows
from zbsn.core.zoho.models import RecordError


async def stage_suppliers(run: RunSession, masters: ServiceNowMasters) -> None:
    """Align the supplier mapping table; stage the vendors to create and fail the unreadable ones."""
    run.stage_started("suppliers")
    vendors, errors = await fetch_vendors(run.zoho)
    counts = transaction(  # run again after a transient database error (db.transient)
        run.db,
        lambda session: align_suppliers(
            session,
            run.profile_id,
            vendors,
            masters.suppliers,
            run.clock.now(),
            allow_create=run.context.allow_supplier_create,
        ),
    )
    for error in errors:
        run.log("warning", f"unreadable vendor {error.record_id}: {error.reason}")
    before = run.snapshot()
    unreadable = [_vendor_error(run, error) for error in errors]
    known = run.history.known(RecordKind.SUPPLIER, [e.zoho_id for e in unreadable])
    to_create = [
        AuditEntry(
            kind=RecordKind.SUPPLIER,
            zoho_id=v.contact_id,
            external_key=colnames.supplier_code(run.context.organization_id, v.contact_id),
            zoho_number=v.contact_name,
            vendor_name=v.contact_name,
            source_payload=v.model_dump_json(),
            rows=supplier_rows(v, run.context),
            zoho_modified=modified_marker(None, v.last_modified_time),
        )
        for v in counts.to_create
    ]
    entries = fresh_errors(run, unreadable, known) + to_create
    size = run.options.batch_size
    for start in range(0, len(entries), size):
        await run.write(entries[start : start + size])
    run.stage_finished(
        "suppliers",
        counts.matched + counts.manual + run.counters.staged - before.staged,
        counts.missing - len(to_create) + run.counters.failed - before.failed,
        0,
    )
    run.checkpoint()


def _vendor_error(run: RunSession, error: RecordError) -> AuditEntry:
    """A failed supplier entry for a vendor contact Zoho sent that could not be read."""
    raw = error.raw or {}
    zoho_id = (
        error.record_id
        or "unreadable-"
        + hashlib.sha256(json.dumps(raw, sort_keys=True, default=str).encode()).hexdigest()[:16]
    )
    name, modified = raw.get("contact_name"), raw.get("last_modified_time")
    message = f"Zoho sent an unreadable vendor contact: {error.reason}"
    return AuditEntry(
        kind=RecordKind.SUPPLIER,
        zoho_id=zoho_id,
        external_key=colnames.supplier_code(run.context.organization_id, zoho_id),
        status=AuditStatus.FAILED,
        zoho_number=name if isinstance(name, str) and name else None,
        vendor_name=name if isinstance(name, str) and name else None,
        zoho_modified=modified if isinstance(modified, str) and modified else None,
        source_payload=json.dumps(raw, default=str),
        error_code=ErrorCode.MALFORMED_RECORD.value,
        error_message=message,
        problems=[Problem(ErrorCode.MALFORMED_RECORD, message)],
    )
