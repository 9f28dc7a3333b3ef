"""A bill's amounts as Zoho computed them: per line its net, its tax and each tax of a tax group; per bill
Zoho's own `sub_total`, `tax_total`, `adjustment` and discount, checked against each other.

Zoho is the system of record, so zbsn sends its figures rather than recomputing them: a line's tax is the
sum of its `line_item_taxes[]` (one per component of a tax group such as GST + PST, or state + city sales
tax); only a payload without them (an older or trimmed one) falls back to the line's `tax_percentage`. The
header sends `sub_total` and `tax_total` when Zoho gives them, the adjustment as other charges and the
discount as discounts: total = sub_total + tax_total + adjustment - discount (zoho-ref §4.2; [INF] the
discount's place in that sum: Zoho's `tax_total` already reflects a discount taken before tax, so the sum is
the same either way). Figures that do not add up are a malformed bill, with the reason: ServiceNow would
otherwise find "Invoice isn't balanced" (sn-ref §7.3).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

from zbsn.core.engine.problems import ErrorCode, Problem
from zbsn.core.engine.staging_values import CENT, money
from zbsn.core.zoho.models import ZohoBill, ZohoBillLine


@dataclass(frozen=True, slots=True)
class TaxPart:
    """One tax on a line: its name (the tax type), amount and rate (None when Zoho gives none)."""

    tax_id: str | None
    name: str
    amount: Decimal
    rate: Decimal | None


@dataclass(frozen=True, slots=True)
class LineAmounts:
    """A line's net amount, its tax, and that tax per component."""

    net: Decimal
    tax: Decimal
    parts: tuple[TaxPart, ...] = ()


@dataclass(frozen=True, slots=True)
class HeaderAmounts:
    """What the invoice header sends, and what does not add up."""

    subtotal: Decimal
    tax: Decimal
    adjustment: Decimal
    discount: Decimal
    total: Decimal
    problems: list[Problem] = field(default_factory=list)


def _cents(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def line_amounts(line: ZohoBillLine, inclusive: bool) -> LineAmounts:
    """The line's net and tax (raises ArithmeticError on amounts past decimal precision)."""
    gross = _cents(line.item_total if line.item_total is not None else line.quantity * line.rate)
    if line.line_item_taxes:
        parts = tuple(
            TaxPart(
                t.tax_id,
                t.tax_name or line.tax_name or "Tax",
                _cents(t.tax_amount),
                t.tax_percentage if t.tax_percentage is not None else _single_rate(line),
            )
            for t in line.line_item_taxes
        )
        tax = sum((p.amount for p in parts), Decimal(0))
        return LineAmounts(gross - tax if inclusive else gross, tax, parts)
    rate = line.tax_percentage or Decimal(0)
    if rate <= 0:
        return LineAmounts(gross, Decimal(0))
    tax = _cents(gross * rate / (100 + rate)) if inclusive else _cents(gross * rate / 100)
    part = TaxPart(line.tax_id, line.tax_name or "Tax", tax, rate)
    return LineAmounts(gross - tax if inclusive else gross, tax, (part,))


def _single_rate(line: ZohoBillLine) -> Decimal | None:
    """The line's percentage stands for its one tax; a group's components have none of their own."""
    return line.tax_percentage if len(line.line_item_taxes) == 1 else None


def header_amounts(bill: ZohoBill, lines_net: Decimal, lines_tax: Decimal) -> HeaderAmounts:
    """The header's amounts (Zoho's own when it gives them), with a problem for each one that disagrees."""
    problems: list[Problem] = []
    tolerance = CENT * max(1, len(bill.line_items))
    # [INF] with tax-inclusive prices Zoho's sub_total may include the tax: the lines' nets stand then
    subtotal = lines_net
    if bill.sub_total is not None and not bill.is_inclusive_tax:
        subtotal = _cents(bill.sub_total)
        if bill.line_items and abs(subtotal - lines_net) > tolerance:
            problems.append(
                Problem(
                    ErrorCode.MALFORMED_RECORD,
                    f"the lines add up to {money(lines_net)} but Zoho's sub_total is {money(subtotal)}",
                )
            )
    tax = lines_tax
    if bill.tax_total is not None:
        tax = _cents(bill.tax_total)
        if bill.line_items and abs(tax - lines_tax) > tolerance:
            problems.append(
                Problem(
                    ErrorCode.MALFORMED_RECORD,
                    f"the lines' taxes add up to {money(lines_tax)} but Zoho's tax_total is {money(tax)}",
                )
            )
    adjustment = _cents(bill.adjustment or Decimal(0))
    discount = _cents(bill.discount_total or Decimal(0))
    if discount < 0:
        problems.append(Problem(ErrorCode.MALFORMED_RECORD, f"the discount {money(discount)} is negative"))
    expected = subtotal + tax + adjustment - discount
    if bill.line_items and abs(expected - bill.total) > tolerance:
        parts = f"lines {money(subtotal)} + tax {money(tax)}"
        if adjustment:
            parts += f" + adjustment {money(adjustment)}"
        if discount:
            parts += f" - discount {money(discount)}"
        problems.append(
            Problem(ErrorCode.MALFORMED_RECORD, f"total {money(bill.total)} does not equal {parts}")
        )
    return HeaderAmounts(subtotal, tax, adjustment, discount, bill.total, problems)
