"""The business owner an invoice header names (`u_business_owner`), per profile with overrides per cost
center, resolved against ServiceNow's users.

ServiceNow raises "Missing or invalid business owner" on an invoice whose business owner is missing or
inactive (work-with-invoice-exceptions.md [C]); the AP Invoice API documents `u_business_owner` as an email
address (sn-ref §7.4). So:
- a bill's owner is the override of the cost center carrying the largest share of its lines' net amount
  (the first such line on a tie; a cost center is named by its Zoho name or ServiceNow account number),
  else the profile's business owner [I: the docs say nothing of multi-cost-center invoices];
- the configured user is looked up in `sys_user` by user name or email with the masters; the header sends
  the user's email (its user name when it has none). An unknown or inactive user fails the bill with
  UNKNOWN_BUSINESS_OWNER (preview: blocked, with the reason) instead of landing in the exception;
- none configured: the header sends none and the preview warns that the invoice will meet the exception
  where ServiceNow checks it (whether the definition is active is the instance's choice).
When the users could not be read (a webhook run reads no masters), the configured value is sent as is.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from decimal import Decimal
from typing import Any, Protocol

from zbsn.core.engine.normalize import normalize_code, normalize_name
from zbsn.core.servicenow.errors import ServiceNowAPIError, refused_read
from zbsn.core.servicenow.query import EncodedQuery

USER_TABLE = "sys_user"


class _LineLike(Protocol):
    @property
    def amount(self) -> Decimal: ...
    @property
    def cost_center(self) -> str | None: ...
    @property
    def cost_center_number(self) -> str | None: ...


class _UserReader(Protocol):
    async def get_records(
        self, table: str, query: EncodedQuery, fields: Sequence[str], limit: int | None = None
    ) -> list[dict[str, Any]]: ...


def parse_owner_overrides(text: str | None) -> tuple[tuple[str, str], ...]:
    """The stored JSON object (cost center -> user) as pairs; refuses anything else."""
    if not text:
        return ()
    value = json.loads(text)
    if not isinstance(value, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in value.items()
    ):
        raise ValueError("cost center owners are a JSON object of cost center -> ServiceNow user")
    return tuple((k.strip(), v.strip()) for k, v in value.items() if k.strip() and v.strip())


def dump_owner_overrides(overrides: Mapping[str, str]) -> str | None:
    """The stored JSON text of cost-center owners (None when there are none)."""
    cleaned = {k.strip(): v.strip() for k, v in overrides.items() if k.strip() and v.strip()}
    return json.dumps(cleaned, sort_keys=True) if cleaned else None


def parse_owner_pairs(text: str) -> dict[str, str]:
    """`CC=user, CC=user` (as the console's form takes them) as a mapping; ValueError naming a bad entry."""
    owners: dict[str, str] = {}
    for item in (part.strip() for part in text.split(",")):
        if not item:
            continue
        center, sep, user = item.partition("=")
        if not sep or not center.strip() or not user.strip():
            raise ValueError(f"cost center owner {item!r}: write it as 'cost center=user'")
        owners[center.strip()] = user.strip()
    return owners


def format_owner_pairs(pairs: Iterable[tuple[str, str]]) -> str:
    """Owners per cost center as `CC=user, CC=user`."""
    return ", ".join(f"{center}={user}" for center, user in pairs)


def owner_key(user: str) -> str:
    """How a configured user is compared with ServiceNow's user names and emails."""
    return user.strip().casefold()


def configured_users(business_owner: str | None, overrides: Iterable[tuple[str, str]]) -> list[str]:
    """Every user a profile names (its owner and the cost centers' owners), once each."""
    users = [business_owner] if business_owner else []
    users += [user for _cc, user in overrides]
    return list(dict.fromkeys(u.strip() for u in users if u and u.strip()))


def bill_owner(
    lines: Sequence[_LineLike], business_owner: str | None, overrides: Sequence[tuple[str, str]]
) -> tuple[str | None, str]:
    """The configured owner of a bill and where it comes from ("cost center X" or "the profile")."""
    shares: dict[str, tuple[Decimal, int, str, str]] = {}  # user -> (amount, first line, cost center, user)
    for position, line in enumerate(lines):
        found = _override(line, overrides)
        if found is None:
            continue
        center, user = found
        amount, first, _c, _u = shares.get(user, (Decimal(0), position, center, user))
        shares[user] = (amount + line.amount, first, center, user)
    if shares:
        _amount, _first, center, user = max(shares.values(), key=lambda s: (s[0], -s[1]))
        return user, f"cost center {center}"
    return (business_owner or None), "the profile"


def _override(line: _LineLike, overrides: Sequence[tuple[str, str]]) -> tuple[str, str] | None:
    for center, user in overrides:
        by_name = line.cost_center is not None and normalize_name(center) == normalize_name(line.cost_center)
        by_number = line.cost_center_number is not None and normalize_code(center) == normalize_code(
            line.cost_center_number
        )
        if by_name or by_number:
            return center, user
    return None


async def read_users(target: _UserReader, users: Sequence[str]) -> dict[str, str | None] | None:
    """Configured user (owner_key) -> the value to stage (email, else user name), None when unknown or
    inactive; None overall when ServiceNow's users could not be read."""
    if not users:
        return {}
    wanted = [u for u in users if "," not in u]  # IN splits on commas: such a value names no user
    found: dict[str, str | None] = {owner_key(u): None for u in users}
    try:
        records: list[dict[str, Any]] = []
        for column in ("user_name", "email"):
            if wanted:
                query = EncodedQuery().in_(column, wanted)
                records += await target.get_records(USER_TABLE, query, ["user_name", "email", "active"], None)
    except ServiceNowAPIError as exc:
        if not refused_read(exc):  # only a refused read of users is tolerated
            raise
        return None  # the application user may not read sys_user: the configured values go unverified
    for record in records:
        if str(record.get("active", "true")).lower() == "false":
            continue
        staged = str(record.get("email") or record.get("user_name") or "")
        for column in ("user_name", "email"):
            value = str(record.get(column) or "")
            if value and owner_key(value) in found and staged:
                found[owner_key(value)] = staged
    return found
