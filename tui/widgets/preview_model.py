"""Read the engine's preview and mapping results into the rows the Preview screen draws.

The engine's result types are read by attribute (or key) with a few accepted spellings, so a renamed field
shows as '—' instead of crashing the screen.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any


def pick(obj: Any, *names: str, default: Any = None) -> Any:
    """The first of `names` present on `obj` (attribute or mapping key)."""
    for name in names:
        if isinstance(obj, dict) and name in obj:
            return obj[name]
        if hasattr(obj, name):
            return getattr(obj, name)
    return default


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
    outcome: str | None = None  # ready | blocked | cancel | unreadable (engine's PreviewItem.outcome)

    @property
    def ready(self) -> bool:
        return self.outcome == "ready" if self.outcome else not self.missing


def mapping_lines(kind: str, rows: Iterable[Any]) -> list[MappingLine]:
    lines = []
    for row in rows:
        lines.append(
            MappingLine(
                kind=kind,
                zoho_key=str(
                    pick(row, "zoho_key", "zoho_account_id", "zoho_vendor_id", "zoho_id", default="")
                ),
                zoho_name=str(pick(row, "zoho_name", "name", default="")),
                sn_value=pick(
                    row, "sn_value", "sn_account_number", "sn_number", "sn_supplier_code", "sn_sys_id"
                ),
                sn_name=pick(row, "sn_name"),
                status=str(pick(row, "status", default="missing")),
                origin=str(pick(row, "origin", default="auto")),
                blocked_bills=int(pick(row, "blocked_bills", "blocks", "blocked", default=0) or 0),
            )
        )
    return sorted(lines, key=lambda m: (not m.missing, -m.blocked_bills, m.zoho_name.lower()))


def mappings_from(result: Any) -> dict[str, list[MappingLine]]:
    """The engine's `mappings(profile_id)` result as three lists."""
    return {
        "cost_center": mapping_lines("cost_center", pick(result, "cost_centers", default=[]) or []),
        "gl_account": mapping_lines("gl_account", pick(result, "gl_accounts", default=[]) or []),
        "supplier": mapping_lines("supplier", pick(result, "suppliers", default=[]) or []),
    }


def _missing(obj: Any) -> list[str]:
    value = pick(obj, "missing", "problems", default=[]) or []
    return [str(pick(p, "message", default=p)) for p in value]


def bills_from(preview: Any) -> list[BillPreview]:
    """The engine's preview result as bill rows, blocked bills first."""
    bills = []
    for item in pick(preview, "items", "bills", "invoices", default=[]) or []:
        bill = pick(item, "document", default=None) or item
        lines = [
            BillLineItem(
                description=str(pick(line, "description", "name", "item_name", default="")),
                amount=pick(line, "amount", "item_total"),
                cost_center=pick(line, "cost_center", "cost_center_name"),
                gl_account=pick(line, "gl_account", "account_name", "gl_number"),
                missing=_missing(line),
            )
            for line in pick(bill, "lines", "line_items", default=[]) or []
        ]
        bills.append(
            BillPreview(
                key=str(pick(item, "bill_id", "zoho_id", "key", default=pick(item, "number", default=""))),
                number=str(pick(item, "bill_number", "number", default="") or ""),
                vendor=str(pick(bill, "vendor_name", "vendor", "supplier", default="")),
                date=str(pick(bill, "date", "doc_date", default="")),
                total=pick(bill, "total", "amount"),
                currency=pick(bill, "currency", "currency_code"),
                missing=_missing(item),
                lines=lines,
                outcome=pick(item, "outcome"),
            )
        )
    return sorted(bills, key=lambda b: (b.ready, b.date), reverse=False)
