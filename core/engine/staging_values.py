"""Values every staging row is built from, whatever the record: money, local dates, plain decimals, the
currency and supplier checks, and a problem list without repeats (shared by the `transform*` modules)."""

from __future__ import annotations

import re
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal
from zoneinfo import ZoneInfo

from zbsn.core.engine.mapping_index import MappedRef, MappingIndex
from zbsn.core.engine.problems import ErrorCode, Problem

CENT = Decimal("0.01")
ISO_CURRENCY = re.compile(r"^[A-Z]{3}$")


def money(value: Decimal) -> str:
    """Two decimals, half-up: how amounts are written to staging."""
    return str(value.quantize(CENT, rounding=ROUND_HALF_UP))


def local_date(value: date | None, fallback: datetime | None, time_zone: str) -> str | None:
    """A document date as `yyyy-mm-dd` in the org's time zone (a timestamp is converted first)."""
    if value is not None:
        return value.isoformat()
    if fallback is not None:
        return fallback.astimezone(ZoneInfo(time_zone)).date().isoformat()
    return None


def check_currency(currency: str | None, index: MappingIndex) -> Problem | None:
    """A problem when the currency is not an ISO 4217 code, or not active in ServiceNow (when it says)."""
    if not currency or not ISO_CURRENCY.match(currency):
        return Problem(ErrorCode.UNKNOWN_CURRENCY, f"currency {currency!r} is not an ISO 4217 code", currency)
    if index.currencies is not None and currency not in index.currencies:
        return Problem(
            ErrorCode.UNKNOWN_CURRENCY, f"currency {currency} is not active in ServiceNow", currency
        )
    return None


def supplier_ref(
    vendor_id: str, vendor_name: str | None, index: MappingIndex
) -> tuple[MappedRef | None, Problem | None]:
    """The vendor's supplier mapping, and a problem when it has no ServiceNow supplier."""
    ref = index.suppliers.get(vendor_id)
    if ref is None:
        name = vendor_name or vendor_id
        return None, Problem(
            ErrorCode.UNMAPPED_SUPPLIER, f"vendor {name!r} is not a Zoho vendor contact", name
        )
    if ref.sn_value is None:
        message = f"vendor {ref.zoho_name!r} has no ServiceNow supplier"
        return ref, Problem(ErrorCode.UNMAPPED_SUPPLIER, message, ref.zoho_name)
    return ref, None


def plain(value: Decimal) -> str:
    """A decimal without exponent or trailing zeros ("0" for zero)."""
    text = format(value.normalize(), "f")
    return text if text not in ("-0", "") else "0"


def dedupe(problems: list[Problem]) -> list[Problem]:
    """The problems without repeats (same code and message), in order."""
    seen: set[tuple[str, str]] = set()
    unique = []
    for problem in problems:
        marker = (problem.code.value, problem.message)
        if marker not in seen:
            seen.add(marker)
            unique.append(problem)
    return unique
