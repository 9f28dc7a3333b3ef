"""The bills' documents waiting to be attached: noted from each staged write, attached after the bills.

A bill whose invoice a write staged (its header's target, the `sn_shop_invoice` sys_id, is known) and whose
Zoho detail lists `documents` gets one `DocumentToAttach` per document. Every path that stages a bill (the
bills stage, a webhook, a replay) writes through `RunSession.write`, which notes the completions here; the
attachments stage (`stages/attachments.py`) drains the queue.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass

from pydantic import ValidationError

from zbsn.core.domain import AuditStatus, RecordKind
from zbsn.core.engine.audit_writer import Completion
from zbsn.core.zoho.models import ZohoDocument

# A payload without one is skipped without parsing (a bill's detail JSON carries `"documents":[]`).
_HAS_DOCUMENTS = '"documents":[{'


@dataclass(frozen=True, slots=True)
class DocumentToAttach:
    """One document of a staged bill and the invoice it goes on."""

    bill_id: str
    bill_number: str | None
    vendor_name: str | None
    invoice_sys_id: str
    document: ZohoDocument


def documents_in(source_payload: str | None) -> list[ZohoDocument]:
    """The documents a stored bill payload lists (none when it lists none or cannot be read)."""
    if not source_payload or _HAS_DOCUMENTS not in source_payload.replace(" ", ""):
        return []
    try:
        raw = json.loads(source_payload).get("documents")
        return [ZohoDocument.model_validate(item) for item in raw] if isinstance(raw, list) else []
    except (ValueError, ValidationError, AttributeError):
        return []  # an unreadable list of documents attaches nothing; the bill itself is already staged


class AttachmentQueue:
    """Documents of the bills staged so far in a run, in staging order, each document once."""

    def __init__(self) -> None:
        self._waiting: dict[str, DocumentToAttach] = {}

    def __len__(self) -> int:
        return len(self._waiting)

    def note(self, completions: Iterable[Completion]) -> None:
        """Queue the documents of every bill these writes staged."""
        for done in completions:
            entry = done.ticket.entry
            if entry.kind != RecordKind.BILL or done.status != AuditStatus.STAGED or not done.sn_sys_id:
                continue
            # [I] `GET /bills/{id}/attachment` serves one file per bill (zoho-ref §4.2 documents no way to ask
            # for another): the first document is the one attached.
            for document in documents_in(entry.source_payload)[:1]:
                self.add(
                    DocumentToAttach(
                        entry.zoho_id, entry.zoho_number, entry.vendor_name, done.sn_sys_id, document
                    )
                )

    def add(self, item: DocumentToAttach) -> None:
        """Queue one document (a later one for the same document id replaces it)."""
        self._waiting.pop(item.document.document_id, None)
        self._waiting[item.document.document_id] = item

    def take(self) -> list[DocumentToAttach]:
        """Everything queued, emptying the queue."""
        items, self._waiting = list(self._waiting.values()), {}
        return items
