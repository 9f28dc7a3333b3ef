"""What the preview says of a bill's document: its name and size, and whether a run would attach it."""

from __future__ import annotations

from dataclasses import dataclass

from zbsn.core.domain import AuditStatus
from zbsn.core.engine.unchanged import Known
from zbsn.core.zoho.models import ZohoBill


@dataclass(frozen=True, slots=True)
class AttachmentPreview:
    """One document of a previewed bill."""

    document_id: str
    file_name: str | None
    size_bytes: int | None  # as Zoho declares it (None when it does not)
    outcome: str  # "attach" | "attached" (by an earlier run) | "too_large" | "not_attachable"
    note: str

    @property
    def label(self) -> str:
        """`name (12.3 kB): note`, for a table cell."""
        size = f" ({self.size_bytes / 1000:.1f} kB)" if self.size_bytes is not None else ""
        return f"{self.file_name or self.document_id}{size}: {self.note}"


def attachment_previews(bill: ZohoBill, max_bytes: int, known: dict[str, Known]) -> list[AttachmentPreview]:
    """The bill's documents as a run would treat them (`known`: the audit log's attachment records)."""
    previews = []
    for position, document in enumerate(bill.documents):
        previous = known.get(document.document_id)
        size = document.file_size
        if position > 0:
            # [I] Zoho's bill attachment endpoint serves one file per bill (stages/attachments.py)
            outcome, note = "not_attachable", "only a bill's first document can be fetched from Zoho"
        elif previous is not None and previous.status == AuditStatus.STAGED:
            outcome, note = "attached", "already on the invoice"
        elif size is not None and size > max_bytes:
            outcome, note = "too_large", f"over the {max_bytes:,}-byte limit: the invoice goes without it"
        else:
            outcome, note = "attach", "attached to the invoice once it is staged"
        previews.append(AttachmentPreview(document.document_id, document.file_name, size, outcome, note))
    return previews
