"""The attachments stage: each staged bill's document (the vendor's invoice) fetched from Zoho and attached
to its invoice in ServiceNow, once.

Per document: one Zoho request (`GET /bills/{id}/attachment`, through the org's budget), one ServiceNow
upload, and one listing of the batch's invoices' attachments per batch. Exactly once: the audit log holds
one `attachment` record per Zoho document id, and a document already attached there is never sent again;
a crash between the upload and its audit row is caught by the listing (the invoice already carries a file
of that name and size). A document over `attachment_max_bytes` (declared by Zoho, or once fetched), or one
Zoho or ServiceNow cannot handle, fails its attachment record with the reason; the invoice stays staged.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Sequence
from dataclasses import dataclass

import httpx

from zbsn.core.domain import AuditStatus, RecordKind
from zbsn.core.engine import columns as colnames
from zbsn.core.engine.attachment_ports import AttachmentSource, AttachmentTarget
from zbsn.core.engine.attachment_queue import DocumentToAttach
from zbsn.core.engine.audit_writer import AuditEntry
from zbsn.core.engine.problems import ErrorCode, Problem
from zbsn.core.engine.session import RunSession
from zbsn.core.servicenow.attachments import INVOICE_TABLE, SNAttachment
from zbsn.core.servicenow.errors import ServiceNowError, ServiceNowReauthorize
from zbsn.core.zoho.errors import (
    ZohoApiError,
    ZohoNotFound,
    ZohoRateLimited,
    ZohoReauthorize,
    ZohoTransportError,
)
from zbsn.core.zoho.models import RecordError, ZohoDocument


def attachment_key(organization_id: str, bill_id: str, document_id: str) -> str:
    """The external key of a bill's document (never a staging key: attachments are not staged rows)."""
    return f"{colnames.invoice_key(organization_id, bill_id)}-DOC-{document_id}"


def file_name_of(item: DocumentToAttach) -> str:
    """The name the file gets in ServiceNow: Zoho's own, else one made of the bill and document."""
    return item.document.file_name or f"{item.bill_number or item.bill_id}-{item.document.document_id}.pdf"


@dataclass(slots=True)
class _Outcome:
    item: DocumentToAttach
    status: str
    size: int | None = None
    attachment_sys_id: str | None = None
    code: ErrorCode | None = None
    message: str | None = None


async def attach_documents(run: RunSession) -> None:
    """Attach every document the run's staged bills carry (see the module docstring)."""
    items = run.attachments.take()
    run.stage_started("attachments")
    if not items:
        run.stage_finished("attachments", 0, 0, 0)
        return
    zoho, target = run.zoho, run.servicenow
    if not isinstance(zoho, AttachmentSource) or not isinstance(target, AttachmentTarget):
        run.log("warning", f"{len(items)} document(s) not attached: these clients carry no attachments")
        run.stage_finished("attachments", 0, 0, len(items))
        return
    attached = failed = 0
    size = run.options.batch_size
    for start in range(0, len(items), size):
        run.checkpoint()
        outcomes = await _batch(run, zoho, target, items[start : start + size])
        await run.record_outside_staging(
            [_entry(run, o) for o in outcomes],
            {o.item.document.document_id: o.attachment_sys_id for o in outcomes if o.attachment_sys_id},
        )
        attached += sum(o.status == AuditStatus.STAGED for o in outcomes)
        failed += sum(o.status == AuditStatus.FAILED for o in outcomes)
        run.progress("attachments", min(start + size, len(items)))
    if attached or failed:
        run.log("info" if not failed else "warning", f"documents: {attached} attached, {failed} failed")
    # skipped: documents an earlier run attached already (never sent twice)
    run.stage_finished("attachments", attached, failed, len(items) - attached - failed)


async def _batch(
    run: RunSession, zoho: AttachmentSource, target: AttachmentTarget, items: Sequence[DocumentToAttach]
) -> list[_Outcome]:
    known = run.history.known(RecordKind.ATTACHMENT, [i.document.document_id for i in items])
    todo = []
    for item in items:
        previous = known.get(item.document.document_id)
        if previous is not None and previous.status == AuditStatus.STAGED:
            run.counters.unchanged += 1  # attached by an earlier run: never twice
        else:
            todo.append(item)
    if not todo:
        return []
    try:
        present = await target.list_attachments(INVOICE_TABLE, {i.invoice_sys_id for i in todo})
    except ServiceNowReauthorize:
        raise
    except (ServiceNowError, httpx.TransportError) as exc:
        reason = f"ServiceNow could not list the invoices' attachments: {exc}"
        return [
            _Outcome(i, AuditStatus.FAILED, code=ErrorCode.ATTACHMENT_FAILED, message=reason) for i in todo
        ]
    limit = asyncio.Semaphore(max(1, run.options.detail_concurrency))

    async def one(item: DocumentToAttach) -> _Outcome:
        async with limit:
            return await _attach(run, zoho, target, item, present)

    return list(await asyncio.gather(*(one(item) for item in todo)))


def _already_there(
    item: DocumentToAttach, size: int | None, present: list[SNAttachment]
) -> SNAttachment | None:
    name = file_name_of(item)
    for attachment in present:
        same_place = attachment.table_sys_id == item.invoice_sys_id and attachment.file_name == name
        if same_place and (size is None or attachment.size_bytes in (None, size)):
            return attachment
    return None


def _too_large(item: DocumentToAttach, size: int, limit: int) -> _Outcome:
    message = (
        f"{file_name_of(item)} is {size:,} bytes, over the {limit:,}-byte limit (setting "
        "attachments.max_bytes); the invoice is staged without it"
    )
    return _Outcome(item, AuditStatus.FAILED, size, code=ErrorCode.ATTACHMENT_TOO_LARGE, message=message)


def _failed(item: DocumentToAttach, reason: str, size: int | None = None) -> _Outcome:
    message = f"{file_name_of(item)} not attached: {reason}; the invoice is staged without it"
    return _Outcome(item, AuditStatus.FAILED, size, code=ErrorCode.ATTACHMENT_FAILED, message=message)


async def _attach(
    run: RunSession,
    zoho: AttachmentSource,
    target: AttachmentTarget,
    item: DocumentToAttach,
    present: list[SNAttachment],
) -> _Outcome:
    limit = run.options.attachment_max_bytes
    declared = item.document.file_size
    if declared is not None and declared > limit:
        return _too_large(item, declared, limit)  # no Zoho request spent on a file that cannot go
    found = _already_there(item, declared, present)
    if found is not None:  # attached by a run that stopped before its audit row
        return _Outcome(item, AuditStatus.STAGED, found.size_bytes, found.sys_id)
    try:
        fetched = await zoho.get_bill_attachment(item.bill_id)
    except (ZohoReauthorize, ZohoRateLimited):
        raise  # the grant or the org's budget: the run's business, as for any other Zoho read
    except ZohoNotFound:
        return _failed(item, "Zoho Books no longer has the bill's attachment")
    except (ZohoApiError, ZohoTransportError) as exc:
        return _failed(item, f"Zoho Books could not serve it ({exc}); replay it to try again")
    if isinstance(fetched, RecordError):
        return _failed(item, fetched.reason)
    if fetched.size > limit:
        return _too_large(item, fetched.size, limit)
    if declared is None and (found := _already_there(item, fetched.size, present)) is not None:
        return _Outcome(item, AuditStatus.STAGED, fetched.size, found.sys_id)
    try:
        made = await target.attach_file(
            INVOICE_TABLE, item.invoice_sys_id, file_name_of(item), fetched.content, fetched.content_type
        )
    except ServiceNowReauthorize:
        raise
    except (ServiceNowError, httpx.TransportError) as exc:
        return _failed(item, f"ServiceNow did not take it ({exc}); replay it to try again", fetched.size)
    return _Outcome(item, AuditStatus.STAGED, fetched.size, made.sys_id)


def requeue_recorded(run: RunSession, audit_ids: Sequence[int]) -> int:
    """Queue again the attachment records among `audit_ids` (a replay), on their bill's invoice as the audit
    log now knows it; one already attached is skipped by the stage as ever. Returns how many were queued."""
    queued = 0
    size = run.options.batch_size
    for start in range(0, len(audit_ids), size):
        for record in run.history.records(list(audit_ids[start : start + size]), RecordKind.ATTACHMENT):
            try:
                data = json.loads(record.source_payload or "{}")
                document = ZohoDocument(
                    document_id=record.zoho_id,
                    file_name=data.get("file_name"),
                    file_size=data.get("size_bytes"),
                )
            except (ValueError, TypeError):
                continue  # not written by this stage: nothing to attach from
            bill_id = str(data.get("bill_id") or "")
            invoice = run.history.staged_invoice(bill_id) if bill_id else None
            sys_id = (invoice.sys_id if invoice else None) or data.get("invoice_sys_id")
            if not bill_id or not sys_id:
                continue
            run.attachments.add(
                DocumentToAttach(bill_id, data.get("bill_number"), record.vendor_name, str(sys_id), document)
            )
            queued += 1
    return queued


def _entry(run: RunSession, outcome: _Outcome) -> AuditEntry:
    item = outcome.item
    source = {
        "bill_id": item.bill_id,
        "bill_number": item.bill_number,
        "document_id": item.document.document_id,
        "file_name": file_name_of(item),
        "size_bytes": outcome.size if outcome.size is not None else item.document.file_size,
        "invoice_sys_id": item.invoice_sys_id,
        "attachment_sys_id": outcome.attachment_sys_id,
    }
    entry = AuditEntry(
        kind=RecordKind.ATTACHMENT,
        zoho_id=item.document.document_id,
        external_key=attachment_key(run.context.organization_id, item.bill_id, item.document.document_id),
        status=outcome.status,
        zoho_number=item.bill_number,
        vendor_name=item.vendor_name,
        source_payload=json.dumps(source),
    )
    if outcome.status == AuditStatus.FAILED:
        code = outcome.code or ErrorCode.ATTACHMENT_FAILED
        entry.error_code, entry.error_message = code.value, outcome.message
        entry.problems = [Problem(code, outcome.message or code.value, file_name_of(item))]
    return entry
