"""Zoho payment terms to the ServiceNow payment term an invoice header names (`u_payment_terms`).

A bill carries Zoho's `payment_terms_label` ("Net 30", "Due on Receipt") and `payment_terms` (days)
(zoho-ref §4.2). ServiceNow's `sn_shop_payment_term` names terms the same way ("Net 30", "Net 060",
sn-ref §7.7); the header sends the profile's override for the label when it has one (as cost centers have
overrides), else Zoho's own label, else `Net <days>`. An invoice without payment terms lands in "Missing
required information" (sn-ref §7.3). [I] the staging column is `u_payment_terms` (its target column is
not documented, sn-ref §7.4) and the import resolves the term by its name.
"""

from __future__ import annotations

import json
from collections.abc import Mapping

from zbsn.core.engine.normalize import normalize_name


def parse_overrides(text: str | None) -> tuple[tuple[str, str], ...]:
    """The stored JSON object of overrides (Zoho label -> ServiceNow term) as pairs; refuses anything else."""
    if not text:
        return ()
    value = json.loads(text)
    if not isinstance(value, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in value.items()
    ):
        raise ValueError("payment term overrides are a JSON object of label -> ServiceNow payment term")
    return tuple((k.strip(), v.strip()) for k, v in value.items() if k.strip() and v.strip())


def dump_overrides(overrides: Mapping[str, str]) -> str | None:
    """The stored JSON text of overrides (None when there are none)."""
    cleaned = {k.strip(): v.strip() for k, v in overrides.items() if k.strip() and v.strip()}
    return json.dumps(cleaned, sort_keys=True) if cleaned else None


def servicenow_payment_term(
    label: str | None, days: int | None, overrides: tuple[tuple[str, str], ...]
) -> str | None:
    """The ServiceNow payment term for a Zoho label (override first), or None when Zoho names none."""
    text = (label or "").strip()
    if text:
        wanted = normalize_name(text)
        for zoho_label, term in overrides:
            if normalize_name(zoho_label) == wanted:
                return term
        return text
    if days is not None and days >= 0:
        return "Due on Receipt" if days == 0 else f"Net {days}"
    return None
