"""Small reads of the audit log the engine needs (the TUI's paged queries live in core/audit_query.py)."""

from __future__ import annotations

import json

import sqlalchemy as sa
from sqlmodel import col, select

from zbsn.core.db.engine import session_scope
from zbsn.core.db.models import AuditRecord
from zbsn.core.engine.columns import INVOICE_TABLE

_CHUNK = 500


def known_audits(
    db: sa.Engine, profile_id: int, kind: str, ids: list[str]
) -> dict[str, tuple[str, str | None]]:
    """(status, zoho_modified) of the audit rows of these Zoho ids."""
    found: dict[str, tuple[str, str | None]] = {}
    with session_scope(db) as session:
        for start in range(0, len(ids), _CHUNK):
            query = select(AuditRecord.zoho_id, AuditRecord.status, AuditRecord.zoho_modified).where(
                AuditRecord.profile_id == profile_id,
                AuditRecord.kind == kind,
                col(AuditRecord.zoho_id).in_(ids[start : start + _CHUNK]),
            )
            for zoho_id, status, modified in session.exec(query):
                found[zoho_id] = (status, modified)
    return found


def staged_header(db: sa.Engine, profile_id: int, bill_id: str) -> dict[str, str] | None:
    """The invoice header row last written for a bill (from its mapped payload), if any."""
    with session_scope(db) as session:
        query = select(AuditRecord.mapped_payload).where(
            AuditRecord.profile_id == profile_id, AuditRecord.kind == "bill", AuditRecord.zoho_id == bill_id
        )
        payload = session.exec(query).first()
    if not payload:
        return None
    for row in json.loads(payload).get("rows", []):
        if row.get("table") == INVOICE_TABLE:
            return {str(k): str(v) for k, v in row.get("values", {}).items()}
    return None
