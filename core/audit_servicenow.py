"""An audit record's invoice in ServiceNow, as the detail pane and `zbsn audit --json` show it: the last
status refresh's reading (state, open exceptions with their text, import errors of the last staging, the
outbound posting) and every change of status, oldest first."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

import sqlalchemy as sa

from zbsn.core.db.models import ServiceNowStatusChange, ServiceNowStatusRecord

_SS = sa.inspect(ServiceNowStatusRecord).local_table
_CH = sa.inspect(ServiceNowStatusChange).local_table


@dataclass(frozen=True, slots=True)
class StatusChange:
    """One change of a record's ServiceNow status."""

    at: datetime
    run_id: int | None
    from_status: str | None
    to_status: str
    why: str | None


@dataclass(frozen=True, slots=True)
class ServiceNowDetail:
    """What the last refresh read about the record's invoice, and its history."""

    status: str  # a ServiceNowStatus value
    summary: str
    invoice_sys_id: str
    number: str | None
    state: str | None
    erp_number: str | None
    erp_posting_date: str | None
    amount: Decimal | None
    currency: str | None
    amount_paid: Decimal | None
    exceptions: tuple[dict[str, Any], ...]  # level, definition, description, line, number
    import_errors: tuple[dict[str, Any], ...]  # message, source_table, line, created_on
    outbound_status: str | None
    processing_message: str | None
    replay_fixes: bool
    checked_at: datetime
    history: tuple[StatusChange, ...]

    def as_json(self) -> dict[str, Any]:
        """Plain JSON (amounts and times as strings)."""
        return {
            "status": self.status,
            "summary": self.summary,
            "invoice_sys_id": self.invoice_sys_id,
            "number": self.number,
            "state": self.state,
            "erp_number": self.erp_number,
            "erp_posting_date": self.erp_posting_date,
            "amount": None if self.amount is None else str(self.amount),
            "currency": self.currency,
            "amount_paid": None if self.amount_paid is None else str(self.amount_paid),
            "exceptions": list(self.exceptions),
            "import_errors": list(self.import_errors),
            "outbound_status": self.outbound_status,
            "processing_message": self.processing_message,
            "replay_fixes": self.replay_fixes,
            "checked_at": self.checked_at.isoformat(),
            "history": [
                {
                    "at": c.at.isoformat(),
                    "run_id": c.run_id,
                    "from": c.from_status,
                    "to": c.to_status,
                    "why": c.why,
                }
                for c in self.history
            ],
        }


def _list(text: str | None) -> tuple[dict[str, Any], ...]:
    try:
        data = json.loads(text) if text else []
    except ValueError:
        return ()
    return tuple(item for item in data if isinstance(item, dict)) if isinstance(data, list) else ()


def servicenow_summaries(engine: sa.Engine, audit_ids: list[int]) -> dict[int, dict[str, Any]]:
    """For a page of records: each followed one's status, sentence and open exceptions (one query)."""
    if not audit_ids:
        return {}
    columns = (
        _SS.c.audit_id,
        _SS.c.status,
        _SS.c.summary,
        _SS.c.number,
        _SS.c.exceptions,
        _SS.c.replay_fixes,
    )
    with engine.connect() as conn:
        rows = conn.execute(sa.select(*columns).where(_SS.c.audit_id.in_(audit_ids))).mappings().all()
    return {
        row["audit_id"]: {
            "status": row["status"],
            "number": row["number"],
            "summary": row["summary"],
            "exceptions": list(_list(row["exceptions"])),
            "replay_fixes": bool(row["replay_fixes"]),
        }
        for row in rows
    }


def servicenow_detail(engine: sa.Engine, audit_id: int) -> ServiceNowDetail | None:
    """The record's invoice in ServiceNow (None: no refresh has read it)."""
    with engine.connect() as conn:
        row = conn.execute(sa.select(_SS).where(_SS.c.audit_id == audit_id)).mappings().first()
        if row is None:
            return None
        changes = conn.execute(
            sa.select(_CH).where(_CH.c.audit_id == audit_id).order_by(_CH.c.at, _CH.c.id)
        ).mappings()
        history = tuple(
            StatusChange(c["at"], c["run_id"], c["from_status"], c["to_status"], c["why"]) for c in changes
        )
    return ServiceNowDetail(
        status=row["status"],
        summary=row["summary"] or "",
        invoice_sys_id=row["invoice_sys_id"],
        number=row["number"],
        state=row["state"],
        erp_number=row["erp_number"],
        erp_posting_date=row["erp_posting_date"],
        amount=row["amount"],
        currency=row["currency"],
        amount_paid=row["amount_paid"],
        exceptions=_list(row["exceptions"]),
        import_errors=_list(row["import_errors"]),
        outbound_status=row["outbound_status"],
        processing_message=row["processing_message"],
        replay_fixes=bool(row["replay_fixes"]),
        checked_at=row["checked_at"],
        history=history,
    )
