"""What the seeded company should look like in ServiceNow after a sync (computed from the generator)."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from zbsn.sandbox.company import Bill, Company
from zbsn.sandbox.company_generator import line_taxes

from .harness import ORG_ID

CENT = Decimal("0.01")
AWAITING_APPROVAL = ("draft", "pending_approval")
NOT_STAGED = ("void", *AWAITING_APPROVAL)


def key(bill_id: str) -> str:
    return f"ZB-{ORG_ID}-{bill_id}"


@dataclass
class Expected:
    company: Company

    @property
    def missing_cost_centers(self) -> set[str]:
        return {c.tag_option_id for c in self.company.cost_centers if not c.exists_in_servicenow}

    @property
    def vendors_in_servicenow(self) -> set[str]:
        return {v.contact_id for v in self.company.vendors if v.exists_in_servicenow}

    def blocked_only_by_cost_center(self, bill: Bill) -> bool:
        return (
            bill.status not in NOT_STAGED
            and bill.defect is None
            and bill.vendor_id in self.vendors_in_servicenow
            and any(line.cost_center_option_id in self.missing_cost_centers for line in bill.lines)
        )

    def good(self, bill: Bill) -> bool:
        """Stageable on the first run (approved in Zoho, nothing missing)."""
        return (
            bill.status not in NOT_STAGED
            and bill.defect is None
            and bill.vendor_id in self.vendors_in_servicenow
            and not any(line.cost_center_option_id in self.missing_cost_centers for line in bill.lines)
        )

    @property
    def good_bills(self) -> list[Bill]:
        return [b for b in self.company.bills if self.good(b)]

    @property
    def credit_memo_numbers(self) -> set[str]:
        """The credit memos the seeded vendor credits become (all on good bills, by their vendor)."""
        return {f"ZB-{ORG_ID}-VC-{c.vendor_credit_id}" for c in self.company.vendor_credits}

    @property
    def credit_memo_lines(self) -> int:
        return sum(len(c.lines) for c in self.company.vendor_credits)

    @property
    def broken_bills(self) -> list[Bill]:
        return [b for b in self.company.bills if b.status not in NOT_STAGED and not self.good(b)]

    @property
    def waiting_bills(self) -> list[Bill]:
        """Bills waiting for approval in Zoho (skipped, staged once approved)."""
        return [b for b in self.company.bills if b.status in AWAITING_APPROVAL]

    def cost_center_number(self, option_id: str | None) -> str:
        return next(c.account_number for c in self.company.cost_centers if c.tag_option_id == option_id)

    def gl_number(self, account_id: str) -> str:
        return next(a.code for a in self.company.accounts if a.account_id == account_id)

    @staticmethod
    def line_tax(bill: Bill) -> dict[str, Decimal]:
        """Per taxed line, its tax (the sum of a tax group's components, each rounded to cents)."""
        taxes = {}
        for line in bill.lines:
            parts = line_taxes(line)
            if parts:
                taxes[line.line_item_id] = sum((part[3] for part in parts), Decimal(0))
        return taxes
