"""The seeded company's vendor credits (debit notes): a few per hundred bills, each a refund on part of one
good bill's first line (same vendor, account and cost center), two in three of them applied to that bill.

`add_vendor_credits(bills, vendors, missing_options, seed)` uses its own random stream, so the rest of the
company is the same with or without credits.
"""

from __future__ import annotations

import datetime as dt
import random
from decimal import Decimal

from zbsn.sandbox.company import Bill, BillLine, CreditApplication, Vendor, VendorCredit

CREDIT_SHARE = 0.02  # one bill in fifty gets a credit (at least three in a company)
CREDIT_ID_PREFIX = "46023700008"  # its own id range: adding credits moves no other id
CREDIT_LINE_ID_PREFIX = "46023700009"
APPLICATION_ID_PREFIX = "46023700006"


def add_vendor_credits(
    bills: list[Bill], vendors: list[Vendor], missing_options: set[str], seed: int
) -> list[VendorCredit]:
    """Vendor credits on good bills (no defect, every cost center and the vendor known to ServiceNow)."""
    rng = random.Random(f"vendor-credits-{seed}")
    known_vendors = {v.contact_id for v in vendors if v.exists_in_servicenow}
    good = [
        b
        for b in bills
        if b.defect is None
        # Zoho applies a credit only to what is still owed on an approved bill: not to a paid or void one,
        # nor to a draft or one pending approval
        and b.status in ("open", "overdue", "partially_paid")
        and b.vendor_id in known_vendors
        and not any(line.cost_center_option_id in missing_options for line in b.lines)
    ]
    wanted = min(len(good), max(3, round(len(bills) * CREDIT_SHARE)))
    made: list[VendorCredit] = []
    for number, bill in enumerate(sorted(rng.sample(good, wanted), key=lambda b: b.created_time), start=1):
        first = bill.lines[0]
        amount = (first.rate * Decimal(rng.randint(5, 30)) / 100).quantize(Decimal("0.01"))
        created = bill.created_time + dt.timedelta(days=rng.randint(1, 20))
        line = BillLine(
            line_item_id=f"{CREDIT_LINE_ID_PREFIX}{number:07d}",
            account_id=first.account_id,
            description=f"Credit on {bill.bill_number}: {first.description}",
            quantity=Decimal(1),
            rate=amount,
            cost_center_option_id=first.cost_center_option_id,
            location_id=first.location_id,
            tax_id=first.tax_id,
            tax_name=first.tax_name,
            tax_percentage=first.tax_percentage,
            tax_components=first.tax_components,  # a tax group's credit is taxed by the same components
        )
        total = (amount * (1 + first.tax_percentage / 100)).quantize(Decimal("0.01"))
        applied = rng.random() < 2 / 3
        applications = (
            [CreditApplication(bill.bill_id, total, created.date(), f"{APPLICATION_ID_PREFIX}{number:07d}")]
            if applied
            else []
        )
        made.append(
            VendorCredit(
                vendor_credit_id=f"{CREDIT_ID_PREFIX}{number:07d}",
                vendor_credit_number=f"DN-{number:05d}",
                vendor_id=bill.vendor_id,
                date=created.date(),
                currency_code=bill.currency_code,
                exchange_rate=bill.exchange_rate,
                reference_number=bill.bill_number,
                lines=[line],
                applications=applications,
                created_time=created,
                last_modified_time=created,
                status="closed" if applied else "open",
            )
        )
    return made
