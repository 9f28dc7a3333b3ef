"""Parse and evaluate the encoded-query subset the sandbox supports (sn-ref §3.3).

Grammar: groups joined by `^NQ` (OR of groups); inside a group, terms joined by `^` (AND) or `^OR` (OR with
the previous term: `^OR` binds only the terms right next to it); `ORDERBY<col>` / `ORDERBYDESC<col>` terms
sort. Operators: `=`, `!=`, `<`, `<=`, `>`, `>=`, `IN`, `NOT IN`, `STARTSWITH`, `ENDSWITH`, `LIKE`,
`NOT LIKE`, `ISEMPTY`, `ISNOTEMPTY`, `ANYTHING`, `EMPTYSTRING`, `BETWEEN` (`a@b`, inclusive).
Values are case-sensitive (§3.3). Dot-walking follows references.

Escaping [I]: a literal caret inside a value is written `^^`. The fact sheet is silent on escaping; `^^` is
the convention zbsn's project brief settled on (it is how ServiceNow tooling is commonly said to escape a
caret, but that is not verified on an instance). The splitter turns `^^` into a literal `^`
*before* looking for separators, so `name=Acme^^ORactive=false` is ONE term whose value is
`Acme^ORactive=false` - it cannot widen the query. An unescaped `^OR` is always a separator.

Invalid terms (unknown column, unknown operator) are ignored, as ServiceNow does unless
`glide.invalid_query.returns_no_rows=true` (the `invalid_returns_no_rows` flag here).

Dynamic filters: `<field>DYNAMIC<filter sys_id>` compares with a value the instance computes. Only the "Me"
filter (`90d1921e5f510100a9ad2572f2b477fe`, the requesting user's sys_id; seen in public instance code [S])
is known here; `with_dynamic_values` turns it into `field=<user sys_id>`, any other filter into a term that
matches nothing [I].
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import TypeVar

T = TypeVar("T")

ME_FILTER = "90d1921e5f510100a9ad2572f2b477fe"
_OPERATORS = (
    "DYNAMIC",
    "BETWEEN",
    "ANYTHING",
    "EMPTYSTRING",
    "NOT LIKE",
    "NOT IN",
    "ISNOTEMPTY",
    "ISEMPTY",
    "STARTSWITH",
    "ENDSWITH",
    "LIKE",
    "IN",
    "!=",
    "<=",
    ">=",
    "=",
    "<",
    ">",
)
_TERM = re.compile(r"^([a-z_][a-z0-9_.]*)(" + "|".join(re.escape(op) for op in _OPERATORS) + r")(.*)$", re.S)


@dataclass(frozen=True, slots=True)
class Term:
    """One condition `<field><operator><value>`."""

    field: str
    operator: str
    value: str


@dataclass(slots=True)
class EncodedQuery:
    """`groups` is an OR of groups; a group is an AND of clauses; a clause is an OR of terms."""

    groups: list[list[list[Term]]] = field(default_factory=list)
    order_by: list[tuple[str, bool]] = field(default_factory=list)  # (column, descending)
    invalid_terms: list[str] = field(default_factory=list)


def split_tokens(query: str) -> list[tuple[str, str]]:
    """Split on unescaped carets into (joiner, text) pairs; joiner is "", "AND", "OR" or "NQ"."""
    tokens: list[tuple[str, str]] = []
    joiner, buffer, i = "", [], 0
    while i < len(query):
        char = query[i]
        if char != "^":
            buffer.append(char)
            i += 1
            continue
        if query.startswith("^^", i):  # escaped literal caret
            buffer.append("^")
            i += 2
            continue
        tokens.append((joiner, "".join(buffer)))
        buffer = []
        rest = query[i + 1 :]
        if rest.startswith("NQ"):
            joiner, i = "NQ", i + 3
        elif rest.startswith("OR") and not rest.startswith("ORDERBY"):
            joiner, i = "OR", i + 3
        else:
            joiner, i = "AND", i + 1
    tokens.append((joiner, "".join(buffer)))
    return [(j, t) for j, t in tokens if t != "" or j == ""]


def parse(query: str, known_field: Callable[[str], bool]) -> EncodedQuery:
    """Parse `query`; `known_field(path)` tells whether a (possibly dot-walked) column exists."""
    parsed = EncodedQuery()
    group: list[list[Term]] = []
    for joiner, text in split_tokens(query or ""):
        if not text or text == "EQ":
            continue
        if joiner == "NQ" and group:
            parsed.groups.append(group)
            group = []
        if text.startswith("ORDERBYDESC") or text.startswith("ORDERBY"):
            descending = text.startswith("ORDERBYDESC")
            column = text[len("ORDERBYDESC") :] if descending else text[len("ORDERBY") :]
            if known_field(column):
                parsed.order_by.append((column, descending))
            else:
                parsed.invalid_terms.append(text)
            continue
        term = _parse_term(text)
        if term is None or not known_field(term.field):
            parsed.invalid_terms.append(text)
            continue
        if joiner == "OR" and group:
            group[-1].append(term)
        else:
            group.append([term])
    if group:
        parsed.groups.append(group)
    return parsed


def with_dynamic_values(query: EncodedQuery, me: str) -> EncodedQuery:
    """`query` with its DYNAMIC terms resolved for the user whose sys_id is `me`."""

    def resolved(term: Term) -> Term:
        if term.operator != "DYNAMIC":
            return term
        return Term(term.field, "=", me if term.value == ME_FILTER and me else "\x00no-match")

    groups = [[[resolved(term) for term in clause] for clause in group] for group in query.groups]
    return EncodedQuery(groups, query.order_by, query.invalid_terms)


def has_dynamic(query: EncodedQuery) -> bool:
    """Whether `query` holds a DYNAMIC term (its answer then depends on the user)."""
    return any(term.operator == "DYNAMIC" for group in query.groups for clause in group for term in clause)


def _parse_term(text: str) -> Term | None:
    match = _TERM.match(text)
    if match is None:
        return None
    field_name, operator, value = match.groups()
    if operator in ("ISEMPTY", "ISNOTEMPTY", "ANYTHING", "EMPTYSTRING") and value:
        return None
    return Term(field_name, operator, value)


def _as_number(text: str) -> Decimal | None:
    try:
        return Decimal(text)
    except (InvalidOperation, ValueError):
        return None


def _compare(left: str, right: str) -> int:
    a, b = _as_number(left), _as_number(right)
    if a is not None and b is not None:
        return (a > b) - (a < b)
    return (left > right) - (left < right)


def term_matches(term: Term, actual: str) -> bool:
    """Whether a record's (resolved) value satisfies one term."""
    op, value = term.operator, term.value
    if op == "=":
        return actual == value
    if op == "!=":
        return actual != value
    if op in ("IN", "NOT IN"):
        inside = actual in value.split(",")
        return inside if op == "IN" else not inside
    if op == "STARTSWITH":
        return actual.startswith(value)
    if op == "ENDSWITH":
        return actual.endswith(value)
    if op == "LIKE":
        return value in actual
    if op == "NOT LIKE":
        return value not in actual
    if op == "ISEMPTY":
        return actual == ""
    if op == "ISNOTEMPTY":
        return actual != ""
    if op == "ANYTHING":
        return True
    if op == "EMPTYSTRING":
        return actual == ""
    if op == "BETWEEN":
        low, _, high = value.partition("@")
        return actual != "" and _compare(actual, low) >= 0 and _compare(actual, high) <= 0
    if actual == "":
        return False
    order = _compare(actual, value)
    return {"<": order < 0, "<=": order <= 0, ">": order > 0, ">=": order >= 0}[op]


def matches(query: EncodedQuery, resolve: Callable[[str], str]) -> bool:
    """Evaluate `query` against one record; `resolve(path)` returns the record's value for a column path."""
    if not query.groups:
        return True
    return any(
        all(any(term_matches(term, resolve(term.field)) for term in clause) for clause in group)
        for group in query.groups
    )


def sort_records(
    records: Iterable[T], order_by: list[tuple[str, bool]], key: Callable[[T, str], str]
) -> list[T]:
    """Stable multi-key sort: numbers compare as numbers, everything else as text."""
    result = list(records)
    for column, descending in reversed(order_by):
        result.sort(key=lambda record: _sort_key(key(record, column)), reverse=descending)
    return result


def _sort_key(value: str) -> tuple[int, Decimal, str]:
    number = _as_number(value)
    if number is not None and number.is_finite():
        return (0, number, "")
    return (1, Decimal(0), value)
