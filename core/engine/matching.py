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


class OverrideTargetError(LookupError):
    """The value an operator typed for an override names no ServiceNow record, or more than one."""


class UnknownServiceNowValue(OverrideTargetError):
    """No ServiceNow record has that sys_id, number/code or name."""


class AmbiguousServiceNowValue(OverrideTargetError):
    """Two or more ServiceNow records fit the value; the operator must be more precise (e.g. the sys_id)."""


@dataclass(frozen=True, slots=True)
class _TargetRules(Generic[T]):
    noun: str
    table: str
    code_words: str
    codes: Callable[[T], tuple[str | None, ...]]
    name: Callable[[T], str | None]
    label: Callable[[T], str]


COST_CENTER_TARGET: _TargetRules[SNCostCenter] = _TargetRules(
    "cost center",
    "cmn_cost_center",
    "account number or code",
    lambda cc: (cc.account_number, cc.code),
    lambda cc: cc.name,
    lambda cc: f"{cc.account_number or cc.code or cc.sys_id} {cc.name}",
)
GL_ACCOUNT_TARGET: _TargetRules[SNGLAccount] = _TargetRules(
    "GL account",
    "sn_fin_gl_account",
    "number",
    lambda gl: (gl.number,),
    lambda gl: gl.name,
    lambda gl: f"{gl.number} {gl.name or ''}".strip(),
)
SUPPLIER_TARGET: _TargetRules[SNSupplier] = _TargetRules(
    "supplier",
    "sn_fin_supplier",
    "supplier code or tax id",
    lambda s: (s.supplier_code, s.tax_id),
    lambda s: s.name,
    lambda s: f"{s.supplier_code or s.sys_id} {s.name}",
)


def find_override_target(value: str, records: Iterable[T], rules: _TargetRules[T]) -> Match[T]:
    """The one ServiceNow record an operator means by `value`: its sys_id, its number/code, or its name.

    Tried in that order; the first rule that fits exactly one record wins ("sys_id", "code", "name").
    Raises `UnknownServiceNowValue` when nothing fits and `AmbiguousServiceNowValue` when a rule fits
    several records and no earlier rule decided.
    """
    wanted = value.strip()
    if not wanted:
        raise UnknownServiceNowValue(f"enter the ServiceNow {rules.noun}'s {rules.code_words} or sys_id")
    candidates = list(records)
    by_sys_id = [r for r in candidates if getattr(r, "sys_id", None) == wanted]
    if by_sys_id:
        return Match(by_sys_id[0], "sys_id")
    code = normalize_code(wanted)
    name = normalize_name(wanted)
    tries: tuple[tuple[str, Callable[[T], bool]], ...] = (
        ("code", lambda r: bool(code) and code in {normalize_code(c) for c in rules.codes(r) if c}),
        ("name", lambda r: bool(name) and normalize_name(rules.name(r)) == name),
    )
    for rule, fits in tries:
        found = [r for r in candidates if fits(r)]
        if len(found) == 1:
            return Match(found[0], rule)
        if len(found) > 1:
            listed = ", ".join(rules.label(r) for r in found[:5])
            raise AmbiguousServiceNowValue(
                f"{wanted!r} fits {len(found)} ServiceNow {rules.noun}s ({listed}); "
                f"enter the {rules.code_words} of one, or its sys_id"
            )
    raise UnknownServiceNowValue(
        f"no ServiceNow {rules.noun} has the {rules.code_words}, name or sys_id {wanted!r} "
        f"({rules.table}, {len(candidates)} records read); check the value, or create the {rules.noun} "
        "in ServiceNow first"
    )
