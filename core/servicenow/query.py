"""Encoded queries built from parts, so no caller ever concatenates a `sysparm_query` string.

How ServiceNow parses an encoded query (sn-ref §3.3): `^` joins conditions with AND, `^OR` joins
the condition before it with OR, `^NQ` starts a new OR-ed query, `^EQ` ends one, `ORDERBY<col>` /
`ORDERBYDESC<col>` sort. Each condition is `<field><operator><value>`; the parser finds the first operator
after the field name, so `=` or `!=` inside a value are harmless. The only separator inside a value is `^`,
and ServiceNow reads a doubled `^^` as one literal caret. So a supplier named `Acme^ORactive=false`,
written raw, becomes two conditions (`name=Acme` OR `active=false`) and widens the query; escaped it is
`name=Acme^^ORactive=false`, one condition on the literal name.

What `escape_value` does beyond doubling `^`, and why:
- refuses newlines and other control characters: they have no business in a key and ServiceNow's handling
  of them in `sysparm_query` is undocumented [I];
- refuses values starting with `javascript:` (any case, leading spaces ignored): ServiceNow evaluates such
  values as server-side script (`javascript:gs.beginningOfToday()`), so data must never start that way;
- refuses the empty string: `name=` does not mean "name is empty" reliably (use ISEMPTY) and an invalid
  condition is silently dropped, which widens the query.
`in_` / `not_in` values additionally refuse `,`: IN splits its value on commas and there is no escape for one.
`dynamic` takes only a 32-hex dynamic filter id (e.g. `ME_FILTER`, the requesting user).
Field names are checked against `[A-Za-z_][A-Za-z0-9_]*` (dots allowed for dot-walking), because a field
name cannot be escaped at all. Note that an unknown (but well-formed) field is ignored by ServiceNow unless
`glide.invalid_query.returns_no_rows=true`; the caller must name real columns.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

_FIELD = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$")
# The "Me" dynamic filter: `<field>DYNAMIC<this id>` matches the requesting user's sys_id (seen in public
# instance code and list URLs [S]; the Table API evaluates it server-side).
ME_FILTER = "90d1921e5f510100a9ad2572f2b477fe"
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_SCRIPT = re.compile(r"^\s*javascript:", re.IGNORECASE)


def escape_value(value: str) -> str:
    """The one escaping function for encoded-query values: `^` → `^^`; refuses what cannot be made safe."""
    if not isinstance(value, str):
        raise TypeError(f"encoded-query values are strings, got {type(value).__name__}")
    if value == "":
        raise ValueError("empty encoded-query value: an empty condition is ambiguous (use ISEMPTY)")
    if _CONTROL.search(value):
        raise ValueError(f"encoded-query value contains a newline or control character: {value!r}")
    if _SCRIPT.match(value):
        raise ValueError(f"encoded-query value would be evaluated as script by ServiceNow: {value!r}")
    return value.replace("^", "^^")


def check_field(field: str) -> str:
    """`field` if it is a plain (optionally dot-walked) column name; ValueError otherwise."""
    if not _FIELD.match(field):
        raise ValueError(f"not a column name: {field!r}")
    return field


@dataclass(frozen=True, slots=True)
class Condition:
    """One `<field><operator><value>` condition, escaped when rendered."""

    field: str
    operator: str
    values: tuple[str, ...]

    def render(self) -> str:
        """The condition as encoded-query text."""
        if self.operator in ("IN", "NOT IN"):
            for value in self.values:
                if "," in value:
                    raise ValueError(f"IN values cannot contain ',': {value!r}")
            text = ",".join(escape_value(v) for v in self.values)
        else:
            text = escape_value(self.values[0])
        return f"{check_field(self.field)}{self.operator}{text}"


def _condition(field: str, operator: str, *values: str) -> Condition:
    check_field(field)
    for value in values:
        escape_value(value)  # fail at build time, not at send time
    return Condition(field, operator, values)


def eq(field: str, value: str) -> Condition:
    """`field` equals `value`."""
    return _condition(field, "=", value)


def ne(field: str, value: str) -> Condition:
    """`field` differs from `value`."""
    return _condition(field, "!=", value)


def in_(field: str, values: Iterable[str]) -> Condition:
    """`field` is one of `values` (at least one; none may contain a comma)."""
    items = tuple(values)
    if not items:
        raise ValueError("in_() needs at least one value")
    condition = _condition(field, "IN", *items)
    condition.render()
    return condition


def not_in(field: str, values: Iterable[str]) -> Condition:
    """`field` is none of `values` (at least one; none may contain a comma)."""
    items = tuple(values)
    if not items:
        raise ValueError("not_in() needs at least one value")
    condition = _condition(field, "NOT IN", *items)
    condition.render()
    return condition


def dynamic(field: str, filter_sys_id: str) -> Condition:
    """`field` matches a dynamic filter, e.g. ME_FILTER: the requesting user (`userDYNAMIC<id>`)."""
    if not re.fullmatch(r"[0-9a-f]{32}", filter_sys_id):
        raise ValueError(f"not a dynamic filter sys_id: {filter_sys_id!r}")
    return _condition(field, "DYNAMIC", filter_sys_id)


def starts_with(field: str, prefix: str) -> Condition:
    """`field` starts with `prefix`."""
    return _condition(field, "STARTSWITH", prefix)


def like(field: str, fragment: str) -> Condition:
    """`field` contains `fragment`."""
    return _condition(field, "LIKE", fragment)


@dataclass(frozen=True, slots=True)
class AnyOf:
    """Conditions joined with `^OR` (ServiceNow binds `^OR` tighter than `^`)."""

    conditions: tuple[Condition, ...]

    def render(self) -> str:
        """The group as encoded-query text."""
        return "^OR".join(c.render() for c in self.conditions)


Term = Condition | AnyOf


@dataclass(frozen=True, slots=True)
class EncodedQuery:
    """An immutable AND of terms plus a sort order; every method returns a new query."""

    terms: tuple[Term, ...] = ()
    ordering: tuple[tuple[str, bool], ...] = ()

    def and_(self, *terms: Term | EncodedQuery) -> EncodedQuery:
        """AND more conditions, OR-groups or whole queries (their sort order is appended too)."""
        new_terms = list(self.terms)
        ordering = list(self.ordering)
        for term in terms:
            if isinstance(term, EncodedQuery):
                new_terms.extend(term.terms)
                ordering.extend(term.ordering)
            else:
                new_terms.append(term)
        return EncodedQuery(tuple(new_terms), tuple(ordering))

    def or_(self, *conditions: Condition) -> EncodedQuery:
        """AND one group that holds when any of `conditions` holds."""
        if not conditions:
            raise ValueError("or_() needs at least one condition")
        return self.and_(AnyOf(tuple(conditions)))

    def eq(self, field: str, value: str) -> EncodedQuery:
        """AND `field` = `value`."""
        return self.and_(eq(field, value))

    def ne(self, field: str, value: str) -> EncodedQuery:
        """AND `field` != `value`."""
        return self.and_(ne(field, value))

    def in_(self, field: str, values: Iterable[str]) -> EncodedQuery:
        """AND `field` IN `values`."""
        return self.and_(in_(field, values))

    def not_in(self, field: str, values: Iterable[str]) -> EncodedQuery:
        """AND `field` NOT IN `values`."""
        return self.and_(not_in(field, values))

    def dynamic(self, field: str, filter_sys_id: str) -> EncodedQuery:
        """AND `field` DYNAMIC `filter_sys_id`."""
        return self.and_(dynamic(field, filter_sys_id))

    def starts_with(self, field: str, prefix: str) -> EncodedQuery:
        """AND `field` STARTSWITH `prefix`."""
        return self.and_(starts_with(field, prefix))

    def like(self, field: str, fragment: str) -> EncodedQuery:
        """AND `field` LIKE `fragment`."""
        return self.and_(like(field, fragment))

    def order_by(self, field: str, *, descending: bool = False) -> EncodedQuery:
        """Sort by `field` after any sort already given."""
        return EncodedQuery(self.terms, (*self.ordering, (check_field(field), descending)))

    def render(self) -> str:
        """The `sysparm_query` text."""
        parts = [term.render() for term in self.terms]
        parts += [f"ORDERBY{'DESC' if desc else ''}{field}" for field, desc in self.ordering]
        return "^".join(parts)

    def __str__(self) -> str:
        return self.render()
