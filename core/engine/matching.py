"""Pure matching rules: Zoho masters to ServiceNow masters. Unique matches only; never a guess.

- cost centers: by code / account number, then by normalized name;
- GL accounts: by account code (the ledger number), then by normalized name;
- suppliers: by tax id, then by normalized name (stored links and manual overrides: see `masters`).
An ambiguous match (two ServiceNow records fit) is no match.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Generic, TypeVar

from zbsn.core.engine.normalize import normalize_code, normalize_name
from zbsn.core.servicenow.models import SNCostCenter, SNGLAccount, SNSupplier

T = TypeVar("T")
_LEADING_TOKEN = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._/-]*?)\s*(?:[-\u2013\u2014:|]\s+|\s+)")


@dataclass(frozen=True, slots=True)
class Match(Generic[T]):
    """A ServiceNow record and the rule that matched it ("code", "tax_id", "name")."""

    record: T
    rule: str


class _Index(Generic[T]):
    """Records keyed by a normalized value; keys held by two records are ambiguous and never match."""

    def __init__(self, records: Iterable[T], keys: Callable[[T], Iterable[str]]) -> None:
        self._by_key: dict[str, T | None] = {}
        for record in records:
            for key in {k for k in keys(record) if k}:
                self._by_key[key] = None if key in self._by_key else record

    def get(self, key: str) -> T | None:
        return self._by_key.get(key) if key else None


class CostCenterMatcher:
    """Match reporting-tag options or locations to `cmn_cost_center` rows."""

    def __init__(self, cost_centers: Iterable[SNCostCenter]) -> None:
        records = list(cost_centers)
        self._by_code = _Index(
            records, lambda cc: (normalize_code(cc.account_number), normalize_code(cc.code))
        )
        self._by_name = _Index(records, lambda cc: (normalize_name(cc.name),))

    def match(self, zoho_name: str, zoho_code: str | None = None) -> Match[SNCostCenter] | None:
        """By code (an explicit code, the whole name, or its leading token), then by normalized name."""
        for candidate in _code_candidates(zoho_name, zoho_code):
            found = self._by_code.get(normalize_code(candidate))
            if found is not None:
                return Match(found, "code")
        found = self._by_name.get(normalize_name(zoho_name))
        return Match(found, "name") if found is not None else None


class GLAccountMatcher:
    """Match Zoho chart-of-accounts entries to `sn_fin_gl_account` rows."""

    def __init__(self, accounts: Iterable[SNGLAccount]) -> None:
        records = list(accounts)
        self._by_number = _Index(records, lambda gl: (normalize_code(gl.number),))
        self._by_name = _Index(records, lambda gl: (normalize_name(gl.name),))

    def match(self, zoho_name: str, zoho_code: str | None) -> Match[SNGLAccount] | None:
        """By account code, then by normalized name."""
        found = self._by_number.get(normalize_code(zoho_code))
        if found is not None:
            return Match(found, "code")
        found = self._by_name.get(normalize_name(zoho_name))
        return Match(found, "name") if found is not None else None


class SupplierMatcher:
    """Match Zoho vendors to `sn_fin_supplier` rows."""

    def __init__(self, suppliers: Iterable[SNSupplier]) -> None:
        records = list(suppliers)
        self.by_sys_id = {s.sys_id: s for s in records}
        self._by_tax_id = _Index(records, lambda s: (normalize_code(s.tax_id),))
        self._by_name = _Index(records, lambda s: (normalize_name(s.name),))

    def match(self, zoho_name: str, tax_id: str | None) -> Match[SNSupplier] | None:
        """By tax id, then by normalized name."""
        found = self._by_tax_id.get(normalize_code(tax_id))
        if found is not None:
            return Match(found, "tax_id")
        found = self._by_name.get(normalize_name(zoho_name))
        return Match(found, "name") if found is not None else None


def _code_candidates(zoho_name: str, zoho_code: str | None) -> list[str]:
    candidates = [c for c in (zoho_code, zoho_name) if c]
    leading = _LEADING_TOKEN.match(zoho_name)
    if leading and any(ch.isdigit() for ch in leading.group(1)):
        candidates.append(leading.group(1))
    return candidates
