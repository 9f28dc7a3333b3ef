"""Generate the seeded demo company: "Northwind Advisory", a professional-services firm with three offices.

`generate_company(seed, bills)` is deterministic: the same seed and size give identical data, ids and
timestamps included (one `random.Random(seed)`, a fixed as-of date, ids from a counter).

What the demo relies on:
- a "Cost Center" reporting tag with 8 practice-line options; exactly two have `exists_in_servicenow=False`
  (`MISSING_COST_CENTER_NUMBERS`), and about `BLOCKED_BILL_SHARE` of the bills carry one of them on a line;
- one vendor missing in ServiceNow, one vendor whose name carries encoded-query metacharacters;
- ~10% foreign-currency bills, ~3% void, statuses consistent with the payments;
- a few deliberately broken bills (`Bill.defect`): "deleted_account", "malformed_amount", "missing_vendor";
- the bill lifecycle and complete invoices (`_lifecycle_and_charges`, its own random stream so the rest of
  the data set is unchanged): bills waiting for approval (draft, pending_approval), adjustments (other
  charges), discounts, a US sales-tax group (state + city) with Zoho's own per-line taxes, vendors with
  payment terms and full billing addresses (ISO 3166 country codes).

(Over 400 lines: one deterministic generator, whose random streams must stay in one order for a seed to
give the same company; the waiting bills, documents and credits are post-passes in their own modules.)
"""

from __future__ import annotations

import datetime as dt
import random
from decimal import ROUND_HALF_UP, Decimal
from zoneinfo import ZoneInfo

from zbsn.sandbox.company import (
    Bill,
    BillLine,
    Company,
    CostCenter,
    LedgerAccount,
    LegalEntity,
    Office,
    Organization,
    PaymentAllocation,
    TaxComponent,
    User,
    Vendor,
    VendorPayment,
)
from zbsn.sandbox.company_credits import add_vendor_credits
from zbsn.sandbox.documents import attach_documents

AS_OF = dt.date(2026, 11, 1)  # bills fall in the four months before this date
FIRST_BILL_DATE = dt.date(2026, 7, 1)
TIME_ZONE = "Europe/London"
ORGANIZATION_ID = "20098765432"
ID_PREFIX = "46023700000"  # 11 digits + a 7-digit counter = Zoho-style 18-digit ids

# Ids the broken records point at: guaranteed absent from the chart of accounts / the contacts.
DELETED_ACCOUNT_ID = "460237000009999001"
DELETED_ACCOUNT_NAME = "Legacy Project Costs"
DELETED_ACCOUNT_CODE = "6999"
MISSING_VENDOR_ID = "460237000009999002"
MISSING_VENDOR_NAME = "Orphaned Supplier Ltd"

DEFECT_KINDS = ("deleted_account", "malformed_amount", "missing_vendor")
MISSING_COST_CENTER_NUMBERS = ("CC-LON-300", "CC-EDI-200")
BLOCKED_BILL_SHARE = 0.10
FOREIGN_RATES = {"EUR": Decimal("0.8560"), "USD": Decimal("0.7870")}  # to GBP, jittered per bill
VAT_TAX_ID = "460237000008888001"  # outside the counter range, like the two below
CENT = Decimal("0.01")

_OFFICES = (("London", "United Kingdom", "LON"), ("Manchester", "United Kingdom", "MAN"),
            ("Edinburgh", "United Kingdom", "EDI"))  # fmt: skip
DASH = "\u2013"  # the en dash of practice-line names, e.g. "Consulting – London"  # noqa: RUF003
_COST_CENTERS = (
    (f"Consulting {DASH} London", "CC-LON-100", 0),
    (f"Advisory {DASH} London", "CC-LON-200", 0),
    (f"Technology {DASH} London", "CC-LON-300", 0),
    (f"Consulting {DASH} Manchester", "CC-MAN-100", 1),
    (f"Audit {DASH} Manchester", "CC-MAN-200", 1),
    (f"Consulting {DASH} Edinburgh", "CC-EDI-100", 2),
    (f"Tax {DASH} Edinburgh", "CC-EDI-200", 2),
    (f"Operations {DASH} Edinburgh", "CC-EDI-300", 2),
)
_EXPENSE_ACCOUNTS = (
    ("6100", "Subcontractor Fees"), ("6110", "Travel"), ("6120", "Accommodation"),
    ("6130", "Meals and Entertainment"), ("6200", "Software Subscriptions"), ("6210", "IT Equipment"),
    ("6220", "Telecommunications"), ("6300", "Office Rent"), ("6310", "Utilities"),
    ("6320", "Office Supplies"), ("6400", "Legal Fees"), ("6410", "Accounting and Audit Fees"),
    ("6500", "Insurance"), ("6600", "Training and Development"), ("6700", "Marketing and Advertising"),
)  # fmt: skip
# (name, currency, city, country, tax-id prefix)
_VENDORS = (
    ("Albion Office Supplies Ltd", "GBP", "London", "United Kingdom", "GB"),
    ("Brightline Couriers", "GBP", "Manchester", "United Kingdom", "GB"),
    ("Cedar & Vale Legal LLP", "GBP", "London", "United Kingdom", "GB"),
    ("Dunmore IT Services", "GBP", "Edinburgh", "United Kingdom", "GB"),
    ("Elmstead Facilities Management", "GBP", "London", "United Kingdom", "GB"),
    ("Fairway Travel Partners", "GBP", "Manchester", "United Kingdom", "GB"),
    ("Greywell Insurance Brokers", "GBP", "London", "United Kingdom", "GB"),
    ("Highgate Recruitment", "GBP", "London", "United Kingdom", "GB"),
    ("Ironbridge Telecom", "GBP", "Birmingham", "United Kingdom", "GB"),
    ("Juniper Catering Co", "GBP", "Edinburgh", "United Kingdom", "GB"),
    ("Kingsway Property Holdings", "GBP", "London", "United Kingdom", "GB"),
    ("Larchmont Training Academy", "GBP", "Leeds", "United Kingdom", "GB"),
    ("Meridian Cloud Software", "GBP", "Reading", "United Kingdom", "GB"),
    ("Northgate Utilities", "GBP", "Manchester", "United Kingdom", "GB"),
    ("Oakridge Audit Associates", "GBP", "Edinburgh", "United Kingdom", "GB"),
    ("Pemberton Marketing Group", "GBP", "London", "United Kingdom", "GB"),
    ("Quayside Hotels", "GBP", "Glasgow", "United Kingdom", "GB"),
    ("Redfern Print & Design", "GBP", "Manchester", "United Kingdom", "GB"),
    ("Stirling Contractors Ltd", "GBP", "Edinburgh", "United Kingdom", "GB"),
    ("Thameside Hardware", "GBP", "London", "United Kingdom", "GB"),
    ("Acme^ORactive=false^NQname=x Supplies Ltd", "GBP", "London", "United Kingdom", "GB"),
    ("Berliner Beratung GmbH", "EUR", "Berlin", "Germany", "DE"),
    ("Lumière Conseil SARL", "EUR", "Paris", "France", "FR"),
    ("Harborview Analytics Inc", "USD", "Boston", "United States", "US"),
    ("Vantage Data Systems Inc", "USD", "Austin", "United States", "US"),
)
# ServiceNow users owning the invoices (a profile's business owner, one cost center's override) and one who
# has left (inactive): added without touching the random stream
USERS = (
    User("alex.morgan", "Alex Morgan", "alex.morgan@northwind.example"),
    User("priya.shah", "Priya Shah", "priya.shah@northwind.example"),
    User("sam.former", "Sam Former", "sam.former@northwind.example", active=False),
)
BUSINESS_OWNER = "alex.morgan@northwind.example"
COST_CENTER_OWNERS = {"CC-LON-200": "priya.shah@northwind.example"}  # Advisory - London
VENDOR_MISSING_IN_SERVICENOW = "Brightline Couriers"
# in ServiceNow, but not yet mapped to the legal entity (no sn_fin_supplier_detail): zbsn stages the mapping
VENDOR_WITHOUT_LEGAL_ENTITY_MAPPING = "Lumière Conseil SARL"
# city -> (street, state or province, postcode, ISO 3166-1 alpha-2): the vendors' billing addresses
_ADDRESSES = {
    "London": ("14 Cheapside", "Greater London", "EC2V 6DN", "GB"),
    "Manchester": ("3 Piccadilly Place", "Greater Manchester", "M1 3BN", "GB"),
    "Edinburgh": ("21 George Street", "City of Edinburgh", "EH2 2PB", "GB"),
    "Birmingham": ("8 Colmore Row", "West Midlands", "B3 2QD", "GB"),
    "Leeds": ("40 Park Row", "West Yorkshire", "LS1 5JL", "GB"),
    "Reading": ("2 Forbury Square", "Berkshire", "RG1 3EU", "GB"),
    "Glasgow": ("95 Bothwell Street", "Glasgow City", "G2 7JZ", "GB"),
    "Berlin": ("Friedrichstraße 68", "Berlin", "10117", "DE"),
    "Paris": ("12 Rue de la Paix", "Île-de-France", "75002", "FR"),
    "Boston": ("100 Federal Street", "MA", "02110", "US"),
    "Austin": ("600 Congress Avenue", "TX", "78701", "US"),
}
# Zoho payment terms (days, label), assigned to vendors in turn: a bill's due date follows its vendor's
_PAYMENT_TERMS = ((30, "Net 30"), (15, "Net 15"), (30, "Net 30"), (45, "Net 45"), (0, "Due on Receipt"),
                  (60, "Net 60"))  # fmt: skip
# a US sales-tax group on the Austin vendor's open bills: Texas state tax plus the city's (zoho-ref §4.2:
# `line_item_taxes[]` carries one entry per component)
SALES_TAX_GROUP_ID = "460237000008888010"
SALES_TAX_GROUP = (
    TaxComponent("460237000008888011", "TX State Sales Tax (6.25%)", Decimal("6.25")),
    TaxComponent("460237000008888012", "Austin City Sales Tax (2%)", Decimal(2)),
)
SALES_TAX_GROUP_NAME = "TX + Austin Sales Tax (8.25%)"
AWAITING_APPROVAL_SHARE = 0.03  # of the bills, each of draft and pending_approval
ADJUSTMENT_SHARE = 0.15  # of the unpaid bills
DISCOUNT_SHARE = 0.08
_ADJUSTMENTS = (("Freight", Decimal("12.50")), ("Rounding", Decimal("-0.37")), ("Late fee", Decimal(25)),
                ("Rounding", Decimal("0.42")))  # fmt: skip
_LINE_TEXT = ("Professional services", "Monthly subscription", "Travel to client site", "Hardware",
              "Consulting days", "Facilities charge", "Training course", "Printing", "Support contract",
              "Disbursements")  # fmt: skip


class _Ids:
    """Sequential Zoho-style ids: deterministic and unique within one company."""

    def __init__(self) -> None:
        self._n = 0

    def next(self) -> str:
        self._n += 1
        return f"{ID_PREFIX}{self._n:07d}"


def _below(rng: random.Random, n: int) -> int:
    """A fast `rng.randrange(n)` (the hot loop calls it millions of times for 100k bills)."""
    return int(rng.random() * n)


def _money(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def line_taxes(line: BillLine) -> list[tuple[str | None, str | None, Decimal, Decimal]]:
    """A line's taxes as Zoho computes them: (tax id, name, percentage, amount), one per tax-group
    component (each rounded to cents on the line amount), or the one tax."""
    amount = _money(line.quantity * line.rate)
    if line.tax_components:
        return [
            (c.tax_id, c.tax_name, c.percentage, _money(amount * c.percentage / 100))
            for c in line.tax_components
        ]
    if not line.tax_percentage:
        return []
    return [(line.tax_id, line.tax_name, line.tax_percentage, _money(amount * line.tax_percentage / 100))]


def bill_total(bill: Bill) -> Decimal:
    """Sub-total plus tax (rounded per line and tax to 2 decimals, as the sandbox renders it), plus the
    adjustment, less the discount."""
    total = Decimal(0)
    for line in bill.lines:
        total += _money(line.quantity * line.rate) + sum((t[3] for t in line_taxes(line)), Decimal(0))
    return total + bill.adjustment - bill.discount


def _timestamp(rng: random.Random, day: dt.date, tz: ZoneInfo) -> dt.datetime:
    minutes = 8 * 60 + _below(rng, 10 * 60)
    return dt.datetime(day.year, day.month, day.day, minutes // 60, minutes % 60, _below(rng, 60), tzinfo=tz)


def _master_data(ids: _Ids, rng: random.Random) -> tuple[list[Office], list[CostCenter], list[LedgerAccount],
                                                         list[Vendor]]:  # fmt: skip
    offices = [Office(ids.next(), f"{city} Office", city, country) for city, country, _ in _OFFICES]
    cost_centers = [
        CostCenter(ids.next(), name, number, offices[office].location_id,
                   exists_in_servicenow=number not in MISSING_COST_CENTER_NUMBERS)
        for name, number, office in _COST_CENTERS
    ]  # fmt: skip
    accounts = [
        LedgerAccount(ids.next(), "2100", "Accounts Payable", "accounts_payable"),
        LedgerAccount(ids.next(), "1200", "Business Current Account", "bank"),
        LedgerAccount(ids.next(), "2200", "VAT Control", "other_current_liability"),
    ]
    accounts += [LedgerAccount(ids.next(), code, name, "expense") for code, name in _EXPENSE_ACCOUNTS]
    vendors = []
    for index, (name, currency, city, country, prefix) in enumerate(_VENDORS):
        digits = "".join(str(rng.randrange(10)) for _ in range(9))
        tax_id = f"{digits[:2]}-{digits[2:]}" if prefix == "US" else f"{prefix}{digits}"
        slug = "".join(ch for ch in name.lower().split()[0] if ch.isalnum()) or "vendor"
        street, state, postcode, country_code = _ADDRESSES[city]
        days, label = _PAYMENT_TERMS[index % len(_PAYMENT_TERMS)]
        vendors.append(
            Vendor(ids.next(), name, f"SUP-{1001 + index:05d}", tax_id, currency, f"ap@{slug}.example",
                   city, country, exists_in_servicenow=name != VENDOR_MISSING_IN_SERVICENOW,
                   held_in_servicenow=name == VENDOR_MISSING_IN_SERVICENOW,
                   mapped_in_servicenow=name != VENDOR_WITHOUT_LEGAL_ENTITY_MAPPING,
                   street=street, state=state, zip=postcode, country_code=country_code,
                   payment_terms=days, payment_terms_label=label)
        )  # fmt: skip
    return offices, cost_centers, accounts, vendors


def generate_company(seed: int = 7, bills: int = 200) -> Company:
    """Build the demo company deterministically from `seed` with `bills` bills (50..100,000 tested)."""
    if bills < 1:
        raise ValueError("bills must be positive")
    rng = random.Random(seed)
    tz = ZoneInfo(TIME_ZONE)
    ids = _Ids()
    offices, cost_centers, accounts, vendors = _master_data(ids, rng)
    cost_center_tag_id = ids.next()
    expense_ids = [a.account_id for a in accounts if a.account_type == "expense"]
    mapped_by_office: dict[str, list[str]] = {}
    missing_by_office: dict[str, list[str]] = {}
    for cc in cost_centers:
        target = mapped_by_office if cc.exists_in_servicenow else missing_by_office
        target.setdefault(cc.office_location_id, []).append(cc.tag_option_id)
    missing_all = [cc.tag_option_id for cc in cost_centers if not cc.exists_in_servicenow]
    bank_id = next(a.account_id for a in accounts if a.account_type == "bank")

    # Domestic vendors weigh 3, foreign ones 2: about 10% of the bills are in EUR/USD.
    vendor_pool = [v for v in vendors for _ in range(3 if v.currency_code == "GBP" else 2)]
    span = (AS_OF - FIRST_BILL_DATE).days
    dates = sorted(FIRST_BILL_DATE + dt.timedelta(days=rng.randrange(span)) for _ in range(bills))
    bill_list: list[Bill] = []
    totals: list[Decimal] = []
    for index, day in enumerate(dates):
        vendor = vendor_pool[_below(rng, len(vendor_pool))]
        office = offices[_below(rng, len(offices))].location_id
        blocked = rng.random() < BLOCKED_BILL_SHARE
        n_lines = 1 + _below(rng, 5)
        blocked_line = _below(rng, n_lines) if blocked else -1
        domestic = vendor.currency_code == "GBP"
        lines = []
        for line_no in range(n_lines):
            if line_no == blocked_line:
                option = missing_by_office.get(office) or missing_all
            else:
                option = mapped_by_office[office]
            vat = domestic and rng.random() < 0.6
            lines.append(
                BillLine(
                    line_item_id=ids.next(),
                    account_id=expense_ids[_below(rng, len(expense_ids))],
                    description=_LINE_TEXT[_below(rng, len(_LINE_TEXT))],
                    quantity=Decimal(1 + _below(rng, 8)),
                    rate=Decimal(2500 + _below(rng, 247500)).scaleb(-2),
                    cost_center_option_id=option[_below(rng, len(option))],
                    location_id=office,
                    tax_id=VAT_TAX_ID if vat else None,
                    tax_name="Standard Rate (20%)" if vat else None,
                    tax_percentage=Decimal(20) if vat else Decimal(0),
                )
            )
        rate = Decimal(1)
        if not domestic:
            jitter = Decimal(rng.randrange(-200, 200)) / 10000
            rate = (FOREIGN_RATES[vendor.currency_code] + jitter).quantize(Decimal("0.0001"))
        created = _timestamp(rng, day, tz)
        bill = Bill(
            bill_id=ids.next(),
            bill_number=f"BILL-{index + 1:06d}",
            vendor_id=vendor.contact_id,
            date=day,
            due_date=day + dt.timedelta(days=vendor.payment_terms),
            currency_code=vendor.currency_code,
            exchange_rate=rate,
            status="open",
            location_id=office,
            reference_number=f"PO-{rng.randrange(10000, 99999)}" if rng.random() < 0.3 else "",
            lines=lines,
            created_time=created,
            last_modified_time=created,
            # A vendor new to ServiceNow is new in Zoho too: its terms are not set yet, so its bills name none
            # (ServiceNow then raises "Missing required information" until the supplier's term is mapped).
            payment_terms=vendor.payment_terms if vendor.exists_in_servicenow else None,
            payment_terms_label=vendor.payment_terms_label if vendor.exists_in_servicenow else "",
        )
        bill_list.append(bill)
        totals.append(bill_total(bill))

    payments = _settle(bill_list, totals, rng, ids, tz, bank_id, {v.contact_id: v for v in vendors})
    _break_some(bill_list, rng, set(missing_all))
    _lifecycle_and_charges(bill_list, vendors, set(missing_all), seed)
    attach_documents(bill_list, seed)  # its own random stream: the rest of the company is unchanged
    # so does this one; after the lifecycle, so no credit is applied to a bill still waiting for approval
    vendor_credits = add_vendor_credits(bill_list, vendors, set(missing_all), seed)
    return Company(
        seed=seed,
        organization=Organization(ORGANIZATION_ID, "Northwind Advisory Ltd", TIME_ZONE, "GBP"),
        legal_entity=LegalEntity("NWA-UK", "Northwind Advisory Ltd", "GBP"),
        cost_center_tag_id=cost_center_tag_id,
        cost_center_tag_name="Cost Center",
        offices=offices,
        cost_centers=cost_centers,
        accounts=accounts,
        vendors=vendors,
        bills=bill_list,
        payments=payments,
        currencies=["GBP", "EUR", "USD"],
        vendor_credits=vendor_credits,
        users=list(USERS),
        business_owner=BUSINESS_OWNER,
        cost_center_owners=dict(COST_CENTER_OWNERS),
    )


def _settle(
    bills: list[Bill],
    totals: list[Decimal],
    rng: random.Random,
    ids: _Ids,
    tz: ZoneInfo,
    bank_id: str,
    vendors: dict[str, Vendor],
) -> list[VendorPayment]:
    """Void ~3%, pay most older bills (some payments settle two bills), leave the rest open/overdue."""
    payments: list[VendorPayment] = []
    waiting: dict[str, int] = {}  # vendor_id -> index of a fully paid bill waiting to share a payment
    plans: list[tuple[dt.date, list[int], list[Decimal]]] = []
    for index, bill in enumerate(bills):
        roll = rng.random()
        pay_day = bill.date + dt.timedelta(days=rng.randint(3, 45))
        if roll < 0.03:
            bill.status = "void"
            continue
        if pay_day >= AS_OF or roll > 0.75:
            bill.status = "overdue" if bill.due_date < AS_OF else "open"
            continue
        if roll > 0.68:  # partially paid: 20%..80% of the total
            part = _money(totals[index] * Decimal(rng.randint(20, 80)) / 100)
            plans.append((pay_day, [index], [part]))
            continue
        other = waiting.pop(bill.vendor_id, None)
        if other is not None:
            plans.append((max(pay_day, bills[other].date), [other, index], [totals[other], totals[index]]))
        elif rng.random() < 0.25:
            waiting[bill.vendor_id] = index
        else:
            plans.append((pay_day, [index], [totals[index]]))
    for index in waiting.values():
        plans.append((bills[index].date + dt.timedelta(days=14), [index], [totals[index]]))
    plans.sort(key=lambda plan: (plan[0], plan[1][0]))
    for number, (day, indexes, amounts) in enumerate(plans, start=1):
        first = bills[indexes[0]]
        created = _timestamp(rng, min(day, AS_OF - dt.timedelta(days=1)), tz)
        mode = rng.random()
        payment = VendorPayment(
            payment_id=ids.next(),
            payment_number=str(number),
            vendor_id=first.vendor_id,
            date=created.date(),
            amount=sum(amounts, Decimal(0)),
            currency_code=vendors[first.vendor_id].currency_code,
            payment_mode="Bank Transfer" if mode < 0.85 else ("Check" if mode < 0.95 else "Cash"),
            reference_number=f"BACS-{rng.randrange(100000, 999999)}" if mode < 0.85 else "",
            paid_through_account_id=bank_id,
            allocations=[
                PaymentAllocation(bills[i].bill_id, a) for i, a in zip(indexes, amounts, strict=True)
            ],
            created_time=created,
            last_modified_time=created,
        )
        payments.append(payment)
        for i, amount in zip(indexes, amounts, strict=True):
            bill = bills[i]
            bill.status = "paid" if amount >= totals[i] else "partially_paid"
            bill.last_modified_time = max(bill.last_modified_time, created)
    return payments


def _break_some(bills: list[Bill], rng: random.Random, missing_options: set[str]) -> None:
    """Mark a few unpaid bills (never one using a missing cost center) with each defect kind."""
    per_kind = max(1, len(bills) // 150)
    candidates = [
        bill
        for bill in bills
        if bill.status in ("open", "overdue")
        and not any(line.cost_center_option_id in missing_options for line in bill.lines)
    ]
    chosen = rng.sample(candidates, min(len(candidates), per_kind * len(DEFECT_KINDS)))
    for position, bill in enumerate(chosen):
        bill.defect = DEFECT_KINDS[position % len(DEFECT_KINDS)]
        if bill.defect == "deleted_account":
            bill.lines[0].account_id = DELETED_ACCOUNT_ID
        elif bill.defect == "missing_vendor":
            bill.vendor_id = MISSING_VENDOR_ID
        # "malformed_amount" is rendered by the sandbox: the first line's rate becomes a non-numeric string.


def _lifecycle_and_charges(
    bills: list[Bill], vendors: list[Vendor], missing_options: set[str], seed: int
) -> None:
    """Among unpaid, unbroken, unblocked bills: some wait for approval (draft, pending_approval), some carry
    an adjustment or a discount, and the Austin vendor's carry a sales-tax group. Its own random stream, so
    the rest of the company is the same as without it; only unpaid bills change, so payments still agree."""
    rng = random.Random(seed * 7919 + 16)
    austin = {v.contact_id for v in vendors if v.city == "Austin"}
    candidates = [
        bill
        for bill in bills
        if bill.status in ("open", "overdue")
        and bill.defect is None
        and not any(line.cost_center_option_id in missing_options for line in bill.lines)
    ]
    waiting = max(1, int(len(bills) * AWAITING_APPROVAL_SHARE))
    chosen = rng.sample(candidates, min(len(candidates), 2 * waiting))
    for position, bill in enumerate(chosen):
        bill.status = "draft" if position % 2 == 0 else "pending_approval"
    for bill in candidates:
        if bill.vendor_id in austin:
            for line in bill.lines:
                line.tax_id, line.tax_name = SALES_TAX_GROUP_ID, SALES_TAX_GROUP_NAME
                line.tax_percentage = sum((c.percentage for c in SALES_TAX_GROUP), Decimal(0))
                line.tax_components = SALES_TAX_GROUP
        roll = rng.random()
        if roll < ADJUSTMENT_SHARE:
            bill.adjustment_description, bill.adjustment = _ADJUSTMENTS[_below(rng, len(_ADJUSTMENTS))]
        elif roll < ADJUSTMENT_SHARE + DISCOUNT_SHARE:
            sub_total = sum((_money(line.quantity * line.rate) for line in bill.lines), Decimal(0))
            bill.discount = _money(sub_total * Decimal("0.02"))  # 2% for early payment
