"""The vendor's invoice documents as the audit log shows them (`zbsn audit --json`, the detail pane): for an
`attachment` record, its file (name, size, the bill and the ServiceNow attachment); for a bill, the document
its invoice carries or why it does not."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from typing import Any

import sqlalchemy as sa

from zbsn.core.db.models import AuditRecord
from zbsn.core.domain import RecordKind

_AR = sa.inspect(AuditRecord).local_table
_CHUNK = 500


@dataclass(frozen=True, slots=True)
class DocumentShown:
    """A bill's document as one audit record knows it."""

    document_id: str
    file_name: str | None
    size_bytes: int | None
    bill_id: str | None
    bill_number: str | None
    status: str  # the attachment record's status: staged (attached) | failed
    attachment_sys_id: str | None
    error_message: str | None

    def as_json(self) -> dict[str, Any]:
        return asdict(self)


def _shown(zoho_id: str, status: str, error: str | None, payload: str | None) -> DocumentShown:
    try:
        data = json.loads(payload or "{}")
    except ValueError:
        data = {}
    data = data if isinstance(data, dict) else {}
    size = data.get("size_bytes")
    return DocumentShown(
        document_id=zoho_id,
        file_name=data.get("file_name"),
        size_bytes=size if isinstance(size, int) else None,
        bill_id=data.get("bill_id"),
        bill_number=data.get("bill_number"),
        status=status,
        attachment_sys_id=data.get("attachment_sys_id"),
        error_message=error,
    )


def documents_of(engine: sa.Engine, audit_ids: list[int]) -> dict[int, list[DocumentShown]]:
    """Per audit id: the document(s) of an attachment record, or those attached to a bill record's invoice
    (matched by the bill's external key, which prefixes its documents' keys). Other records are left out."""
    found: dict[int, list[DocumentShown]] = {}
    with engine.connect() as conn:
        for start in range(0, len(audit_ids), _CHUNK):
            ids = audit_ids[start : start + _CHUNK]
            rows = conn.execute(
                sa.select(_AR.c.id, _AR.c.kind, _AR.c.profile_id, _AR.c.external_key).where(_AR.c.id.in_(ids))
            ).all()
            bills = {
                (r.profile_id, f"{r.external_key}-DOC-"): r.id for r in rows if r.kind == RecordKind.BILL
            }
            attachment_ids = [r.id for r in rows if r.kind == RecordKind.ATTACHMENT]
            wanted = sa.or_(
                _AR.c.id.in_(attachment_ids),
                *(
                    sa.and_(
                        _AR.c.profile_id == profile, _AR.c.external_key.startswith(prefix, autoescape=True)
                    )
                    for profile, prefix in bills
                ),
            )
            query = sa.select(
                _AR.c.id,
                _AR.c.profile_id,
                _AR.c.zoho_id,
                _AR.c.external_key,
                _AR.c.status,
                _AR.c.error_message,
                _AR.c.source_payload,
            ).where(_AR.c.kind == RecordKind.ATTACHMENT, wanted)
            for row in conn.execute(query):
                shown = _shown(row.zoho_id, row.status, row.error_message, row.source_payload)
                if row.id in attachment_ids:
                    found.setdefault(row.id, []).append(shown)
                prefix = row.external_key.rsplit("-DOC-", 1)[0] + "-DOC-"
                bill_audit_id = bills.get((row.profile_id, prefix))
                if bill_audit_id is not None:
                    found.setdefault(bill_audit_id, []).append(shown)
    return found
