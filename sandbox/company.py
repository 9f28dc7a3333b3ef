"""The seeded demo company both sandboxes serve: one deterministic data set, two systems.

`generate_company(seed, bills)` (in `sandbox.company_generator`) builds a `Company`. The Zoho sandbox serves
it as Zoho Books records; the ServiceNow sandbox seeds its master data (cost centers, GL accounts, suppliers,
legal entity) from the same object, leaving out the entries marked `exists_in_servicenow=False`, so the
demo has something to fix and replay.

Money is `Decimal`; ids are Zoho-style 18-digit strings; dates are ISO `yyyy-mm-dd`; timestamps are
timezone-aware datetimes (the Zoho sandbox renders them with Zoho's colon-less offset).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal


@dataclass(slots=True)
class Organization:
    organization_id: str
    name: str
    time_zone: str  # IANA name, e.g. "Europe/London"
    currency_code: str  # base currency
    plan_name: str = "Professional"


@dataclass(slots=True)
class Office:
    """A regional office: a Zoho location."""

    location_id: str
    name: str
    city: str
    country: str


@dataclass(slots=True)
class CostCenter:
    """An option of the "Cost Center" reporting tag; `account_number` is its cmn_cost_center number."""

    tag_option_id: str
    name: str
    account_number: str
    office_location_id: str
    exists_in_servicenow: bool = True


@dataclass(slots=True)
class LedgerAccount:
    """A chart-of-accounts entry; expense accounts carry a code that ServiceNow knows as the GL number."""

    account_id: str
    code: str
    name: str
    account_type: str  # Zoho account_type, e.g. "expense", "accounts_payable"
    exists_in_servicenow: bool = True


@dataclass(slots=True)
class Vendor:
    contact_id: str
    name: str
    supplier_code: str  # the ERP supplier code on the ServiceNow side
    tax_id: str
    currency_code: str
    email: str
    city: str
    country: str
    exists_in_servicenow: bool = True
    # the billing address (the remit-to of payments) and the payment terms on the vendor's contact
    street: str = ""
    state: str = ""
    zip: str = ""
    country_code: str = ""  # ISO 3166-1 alpha-2
    payment_terms: int = 30
    payment_terms_label: str = "Net 30"
    # the demo story: the AP team holds payment on this vendor's legal entity mapping when it first appears
    # in ServiceNow (zbsn stages it), until they have checked the new vendor ("Invalid or blocked supplier")
    held_in_servicenow: bool = False
    # in ServiceNow without a mapping to the legal entity (sn_fin_supplier_detail): zbsn stages it
    mapped_in_servicenow: bool = True


@dataclass(frozen=True, slots=True)
class TaxComponent:
    """One tax of a tax group on a line (GST + PST, state + city sales tax): Zoho's `line_item_taxes[]`."""

    tax_id: str
    tax_name: str
    percentage: Decimal


@dataclass(slots=True)
class BillLine:
    line_item_id: str
    account_id: str
    description: str
    quantity: Decimal
    rate: Decimal
    cost_center_option_id: str | None  # reporting-tag option on the line
    location_id: str | None
    tax_id: str | None = None
    tax_name: str | None = None
    tax_percentage: Decimal = Decimal("0")
    # a tax group: its components, each taxed on the line amount (tax_id/tax_name then name the group and
    # tax_percentage is their sum); empty for a single tax
    tax_components: tuple[TaxComponent, ...] = ()


@dataclass(slots=True)
class BillDocument:
    """A file attached to a bill in Zoho (the vendor's invoice as a PDF); its bytes come from
    `sandbox.documents.pdf_bytes` so a 100,000-bill company holds no file contents."""

    document_id: str
    file_name: str
    padding: int = 0  # filler bytes in the PDF's content stream (how the seeded files vary in size)


@dataclass(slots=True)
class Bill:
    bill_id: str
    bill_number: str
    vendor_id: str
    date: dt.date
    due_date: dt.date
    currency_code: str
    exchange_rate: Decimal
    status: str  # open | paid | partially_paid | overdue | void | draft | pending_approval
    location_id: str | None
    reference_number: str
    lines: list[BillLine]
    created_time: dt.datetime
    last_modified_time: dt.datetime
    # Why this bill is deliberately broken (None for a good bill), e.g. "deleted_account",
    # "malformed_amount", "unknown_vendor". The sandbox renders the defect into the payload.
    defect: str | None = None
    # Zoho's adjustment (total = sub_total + tax_total + adjustment - discount), signed, with its label
    adjustment: Decimal = Decimal("0")
    adjustment_description: str = ""
    discount: Decimal = Decimal("0")  # an entity-level discount amount, applied after tax
    payment_terms: int | None = 30  # None and an empty label: the bill names no payment terms
    payment_terms_label: str = "Net 30"
    documents: list[BillDocument] = field(default_factory=list)


@dataclass(slots=True)
class PaymentAllocation:
    bill_id: str
    amount_applied: Decimal


@dataclass(slots=True)
class VendorPayment:
    payment_id: str
    payment_number: str
    vendor_id: str
    date: dt.date
    amount: Decimal
    currency_code: str
    payment_mode: str  # Zoho payment_mode label, e.g. "Bank Transfer", "Check", "Cash"
    reference_number: str
    paid_through_account_id: str
    allocations: list[PaymentAllocation]
    created_time: dt.datetime
    last_modified_time: dt.datetime


@dataclass(slots=True)
class CreditApplication:
    """Part of a vendor credit applied to a bill of the same vendor (Zoho's `bills_credited`)."""

    bill_id: str
    amount: Decimal
    date: dt.date
    application_id: str = ""  # Zoho's vendor_credit_bill_id


@dataclass(slots=True)
class VendorCredit:
    """A vendor credit (debit note): lines like a bill's, and the bills it was applied to."""

    vendor_credit_id: str
    vendor_credit_number: str
    vendor_id: str
    date: dt.date
    currency_code: str
    exchange_rate: Decimal
    reference_number: str
    lines: list[BillLine]
    applications: list[CreditApplication]
    created_time: dt.datetime
    last_modified_time: dt.datetime
    status: str = "open"  # open | closed (fully applied) | void | draft


@dataclass(slots=True)
class LegalEntity:
    """The ServiceNow sn_fin_legal_entity invoices are booked to."""

    company_code: str
    name: str
    currency_code: str


@dataclass(frozen=True, slots=True)
class User:
    """A ServiceNow user (sys_user) the seeded company's invoices can name as business owner."""

    user_name: str
    name: str
    email: str
    active: bool = True


@dataclass(slots=True)
class Company:
    seed: int
    organization: Organization
    legal_entity: LegalEntity
    cost_center_tag_id: str
    cost_center_tag_name: str
    offices: list[Office]
    cost_centers: list[CostCenter]
    accounts: list[LedgerAccount]
    vendors: list[Vendor]
    bills: list[Bill]
    payments: list[VendorPayment]
    currencies: list[str] = field(default_factory=list)  # ISO codes known to ServiceNow
    vendor_credits: list[VendorCredit] = field(default_factory=list)
    # ServiceNow users (sys_user) beside the integration user: the invoices' business owners
    users: list[User] = field(default_factory=list)
    business_owner: str = ""  # the email of the user owning the company's invoices (a profile's setting)
    # cost center account number -> the email of the user owning its bills instead
    cost_center_owners: dict[str, str] = field(default_factory=dict)
