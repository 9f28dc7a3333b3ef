"""The engine's preview and mapping results (`PreviewReport`, `Mappings`) as the Preview screen's rows.

Read through the engine's own types, so a renamed field is a type error and a failing test, never a blank.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal

from zbsn.core.engine.preview import PreviewItem, PreviewReport
from zbsn.core.engine.service import MappingRow, Mappings
from zbsn.core.engine.transform import LinePreview


@dataclass(frozen=True)
class MappingLine:
    kind: str  # cost_center | gl_account | supplier
    zoho_key: str
    zoho_name: str
    sn_value: str | None
    sn_name: str | None
    status: str  # matched | missing | staged
    origin: str
    blocked_bills: int

    @property
    def missing(self) -> bool:
        return self.status == "missing"


@dataclass(frozen=True)
class BillLineItem:
    description: str
    amount: Decimal | None
    cost_center: str | None
    gl_account: str | None
    missing: list[str]


@dataclass(frozen=True)
class BillPreview:
    key: str
    number: str
    vendor: str
    date: str
    total: Decimal | None
    currency: str | None
    missing: list[str]
    lines: list[BillLineItem] = field(default_factory=list)
    # ready | blocked | cancel | unreadable | waiting (engine's PreviewItem.outcome)
    outcome: str | None = None

    @property
    def ready(self) -> bool:
        return self.outcome == "ready" if self.outcome else not self.missing


def mapping_lines(kind: str, rows: Iterable[MappingRow]) -> list[MappingLine]:
    """One kind's mapping rows, missing first, then by how many bills each blocks."""
    lines = [
        MappingLine(
            kind=kind,
            zoho_key=row.zoho_key,
            zoho_name=row.zoho_name,
            sn_value=row.sn_value or row.sn_sys_id,
            sn_name=row.sn_name,
            status=row.status,
            origin=row.origin,
            blocked_bills=row.blocked_bills,
        )
        for row in rows
    ]
    return sorted(lines, key=lambda m: (not m.missing, -m.blocked_bills, m.zoho_name.lower()))


def mappings_from(result: Mappings) -> dict[str, list[MappingLine]]:
    """The engine's `mappings(profile_id)` result as three lists."""
    return {
        "cost_center": mapping_lines("cost_center", result.cost_centers),
        "gl_account": mapping_lines("gl_account", result.gl_accounts),
        "supplier": mapping_lines("supplier", result.suppliers),
    }


def _line(line: LinePreview) -> BillLineItem:
    missing = []
    if line.cost_center_number is None:
        missing.append(f"cost center {line.cost_center!r}" if line.cost_center else "cost center")
    if line.gl_number is None:
        missing.append(f"GL account {line.gl_account!r}" if line.gl_account else "GL account")
    return BillLineItem(
        description=line.description or "",
        amount=line.amount,
        cost_center=f"{line.cost_center_number} {line.cost_center or ''}".strip()
        if line.cost_center_number
        else line.cost_center,
        gl_account=f"{line.gl_number} {line.gl_account or ''}".strip() if line.gl_number else line.gl_account,
        missing=missing,
    )


def bill_from(item: PreviewItem) -> BillPreview:
    """One preview item as a bill row with its lines."""
    doc = item.document
    listed = item.listed  # a bill waiting for approval in Zoho: its list row, no detail
    return BillPreview(
        key=item.bill_id,
        number=item.bill_number or (doc.bill_number if doc else "") or "",
        vendor=(doc.vendor_name or "") if doc else ((listed.vendor_name or "") if listed else ""),
        date=(doc.date or "") if doc else (listed.date.isoformat() if listed and listed.date else ""),
        total=doc.total if doc else (listed.total if listed else None),
        currency=doc.currency if doc else (listed.currency_code if listed else None),
        missing=[problem.message for problem in item.problems],
        lines=[_line(line) for line in doc.lines] if doc else [],
        outcome=item.outcome,
    )


def bills_from(preview: PreviewReport) -> list[BillPreview]:
    """The engine's preview result as bill rows, blocked bills first."""
    return sorted((bill_from(item) for item in preview.items), key=lambda b: (b.ready, b.date))
