"""Typed Zoho Books records, tolerant of Zoho's quirks (zoho-ref §4.0).

- ids arrive as long numeric strings (sometimes bare ints in docs): always `str` here;
- missing numbers arrive as `""`: coerced to `None`;
- money is `Decimal`, never float;
- timestamps arrive with a colon-less offset (`2026-06-09T13:17:42-0400`): parsed to aware datetimes, and the
  exact string is kept too (`*_raw`) because cursors must be sent back in Zoho's own format.

A record that fails validation is reported as a `RecordError` by the client, never raised out of a page walk.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any

from pydantic import AliasChoices, BaseModel, BeforeValidator, ConfigDict, Field

_ZOHO_TS = re.compile(r"^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})([+-]\d{2}):?(\d{2})$")


def _to_id(value: Any) -> Any:
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return value


def _empty_to_none(value: Any) -> Any:
    if isinstance(value, str) and value.strip() == "":
        return None
    return value


# No amount, rate or quantity on a bill or payment comes near this; the engine's decimal arithmetic (28
# significant digits) must hold any of them times another and still quantize to cents. An engineering bound,
# not a documented Zoho limit: a value past it is a malformed record, failed with this reason.
MAX_MAGNITUDE = Decimal("1e15")


def _to_decimal(value: Any) -> Any:
    value = _empty_to_none(value)
    if value is None:
        return value
    if isinstance(value, bool):
        raise ValueError("a boolean is not an amount")
    if isinstance(value, Decimal):
        number = value
    elif isinstance(value, int | str):
        try:
            number = Decimal(str(value).replace(",", "")) if isinstance(value, str) else Decimal(value)
        except InvalidOperation as exc:
            raise ValueError(f"not a number: {value!r}") from exc
    elif isinstance(value, float):
        number = Decimal(repr(value))
    else:
        raise ValueError(f"not a number: {value!r}")
    if number.is_finite() and abs(number) >= MAX_MAGNITUDE:
        raise ValueError(f"{value!r} is out of range for an amount (1e15 or more)")
    return number


def parse_zoho_timestamp(value: str) -> datetime:
    """Parse `2026-06-09T13:17:42-0400` (or with a colon in the offset) to an aware datetime."""
    match = _ZOHO_TS.match(value.strip())
    if not match:
        raise ValueError(f"not a Zoho timestamp: {value!r}")
    return datetime.fromisoformat(f"{match.group(1)}{match.group(2)}:{match.group(3)}")


def format_zoho_timestamp(moment: datetime) -> str:
    """Render an aware datetime the way Zoho expects it in `last_modified_time` (colon-less offset)."""
    if moment.tzinfo is None:
        raise ValueError("naive datetime")
    return moment.strftime("%Y-%m-%dT%H:%M:%S%z")


def _to_timestamp(value: Any) -> Any:
    value = _empty_to_none(value)
    if value is None or isinstance(value, datetime):
        return value
    if isinstance(value, str):
        return parse_zoho_timestamp(value)
    raise ValueError(f"not a timestamp: {value!r}")


def _to_date(value: Any) -> Any:
    return _empty_to_none(value)


ZohoId = Annotated[str, BeforeValidator(_to_id)]
OptionalId = Annotated[str | None, BeforeValidator(lambda v: _empty_to_none(_to_id(v)))]
Money = Annotated[Decimal, BeforeValidator(_to_decimal)]
OptionalMoney = Annotated[Decimal | None, BeforeValidator(_to_decimal)]
OptionalText = Annotated[str | None, BeforeValidator(_empty_to_none)]
Timestamp = Annotated[datetime | None, BeforeValidator(_to_timestamp)]
OptionalDate = Annotated[date | None, BeforeValidator(_to_date)]
OptionalInt = Annotated[int | None, BeforeValidator(_empty_to_none)]


class ZohoModel(BaseModel):
    """Base: ignore the many fields we do not use; keep names as Zoho spells them."""

    model_config = ConfigDict(extra="ignore", populate_by_name=True, frozen=False)


class ZohoOrganization(ZohoModel):
    organization_id: ZohoId
    name: str
    time_zone: str = "UTC"
    currency_code: str = "USD"
    is_default_org: bool = False
    plan_name: OptionalText = None


class ZohoLineTag(ZohoModel):
    """A reporting tag on a bill line: `Cost Center = Consulting - London`."""

    tag_id: ZohoId
    tag_name: OptionalText = None
    tag_option_id: OptionalId = None
    tag_option_name: OptionalText = None


class ZohoLineTax(ZohoModel):
    """One tax Zoho computed on a line (`line_items[].line_item_taxes[]`): a tax group (GST + PST, state +
    city sales tax) has one per component. [INF] `tax_percentage` per entry is not in the recorded payload
    (zoho-ref §4.2 records `line_item_taxes: []` only); when absent, the line's percentage stands."""

    tax_id: OptionalId = None
    tax_name: OptionalText = None
    tax_amount: Money
    tax_percentage: OptionalMoney = None


class ZohoBillLine(ZohoModel):
    line_item_id: ZohoId
    account_id: ZohoId
    account_name: OptionalText = None
    account_code: OptionalText = None
    description: OptionalText = None
    name: OptionalText = None
    quantity: Money = Decimal("1")
    rate: Money
    item_total: OptionalMoney = None
    tax_id: OptionalId = None
    tax_name: OptionalText = None
    tax_percentage: OptionalMoney = None
    location_id: OptionalId = None
    location_name: OptionalText = None
    item_order: int | None = None
    tags: list[ZohoLineTag] = Field(default_factory=list)
    line_item_taxes: list[ZohoLineTax] = Field(default_factory=list)


class ZohoBillTax(ZohoModel):
    tax_id: OptionalId = None
    tax_name: OptionalText = None
    tax_amount: Money


class ZohoAddress(ZohoModel):
    address: OptionalText = None
    street2: OptionalText = None
    city: OptionalText = None
    state: OptionalText = None
    state_code: OptionalText = None
    zip: OptionalText = None
    country: OptionalText = None
    country_code: OptionalText = None


def _object_or_none(value: Any) -> Any:
    """An address is an object; Zoho's `""` or `{}` for none becomes None."""
    return value if isinstance(value, dict) and value else None


OptionalAddress = Annotated[ZohoAddress | None, BeforeValidator(_object_or_none)]


class ZohoBillSummary(ZohoModel):
    """A row of `GET /bills` (no line items)."""

    bill_id: ZohoId
    bill_number: str
    vendor_id: ZohoId
    vendor_name: OptionalText = None
    status: str
    date: OptionalDate = None
    due_date: OptionalDate = None
    currency_code: str
    exchange_rate: OptionalMoney = None
    total: Money
    balance: OptionalMoney = None
    location_id: OptionalId = None
    created_time: Timestamp = None
    last_modified_time: Timestamp = None
    last_modified_time_raw: str | None = None  # filled by the client from the payload
    has_attachment: bool = False  # zoho-ref §4.2 list fields
    attachment_name: OptionalText = None


class ZohoDocument(ZohoModel):
    """A file attached to a bill (`documents[]` of `GET /bills/{id}`). [I] The item fields are those Zoho's
    attachment responses carry (`document_id`, `file_name`, `file_type`, `file_size`); bills.yml names the
    array but the reference does not record an item, so every field but the id is optional."""

    document_id: ZohoId
    file_name: OptionalText = None
    file_type: OptionalText = None
    file_size: Annotated[int | None, BeforeValidator(_empty_to_none)] = None


class ZohoBill(ZohoBillSummary):
    """`GET /bills/{id}`: the bill with its lines, taxes and payments."""

    reference_number: OptionalText = None
    location_name: OptionalText = None
    sub_total: OptionalMoney = None
    tax_total: OptionalMoney = None
    is_inclusive_tax: bool = False
    line_items: list[ZohoBillLine] = Field(default_factory=list)
    taxes: list[ZohoBillTax] = Field(default_factory=list)
    notes: OptionalText = None
    # total = sub_total + tax_total + adjustment - discount_total (zoho-ref §4.2; the discount's part [INF])
    adjustment: OptionalMoney = None
    adjustment_description: OptionalText = None
    discount_total: OptionalMoney = None
    is_discount_before_tax: bool | None = None
    payment_terms: OptionalInt = None
    payment_terms_label: OptionalText = None
    billing_address: OptionalAddress = None  # the vendor's billing address on the bill
    documents: list[ZohoDocument] = Field(default_factory=list)


class ZohoVendor(ZohoModel):
    """A contact with `contact_type=vendor`."""

    contact_id: ZohoId
    contact_name: str
    company_name: OptionalText = None
    contact_type: str = "vendor"
    status: str = "active"
    email: OptionalText = None
    currency_code: OptionalText = None
    tax_id_value: OptionalText = None
    vat_reg_no: OptionalText = None
    gst_no: OptionalText = None
    tax_reg_no: OptionalText = None
    billing_address: ZohoAddress | None = None
    # the vendor's default terms (zoho-ref §4.3: list rows and the detail carry both) [REC]
    payment_terms: Annotated[int | None, BeforeValidator(_empty_to_none)] = None
    payment_terms_label: OptionalText = None
    last_modified_time: Timestamp = None

    @property
    def tax_id(self) -> str | None:
        """The first tax identifier the vendor carries, whichever regional field holds it."""
        return self.tax_id_value or self.vat_reg_no or self.gst_no or self.tax_reg_no


class ZohoPaymentAllocation(ZohoModel):
    """A bill paid (fully or partly) by a vendor payment."""

    bill_id: ZohoId
    bill_number: OptionalText = None
    amount_applied: Money
    bill_payment_id: OptionalId = None


class ZohoVendorPayment(ZohoModel):
    payment_id: ZohoId
    payment_number: OptionalText = None
    vendor_id: ZohoId
    vendor_name: OptionalText = None
    date: OptionalDate = None
    amount: Money
    currency_code: OptionalText = None
    exchange_rate: OptionalMoney = None
    payment_mode: OptionalText = None
    reference_number: OptionalText = None
    created_time: Timestamp = None
    last_modified_time: Timestamp = None  # some payments lack it: fall back to created_time
    last_modified_time_raw: str | None = None
    bills: list[ZohoPaymentAllocation] = Field(default_factory=list)
    billing_address: OptionalAddress = None  # the vendor's address: the remit-to of its payment details


class ZohoAccount(ZohoModel):
    account_id: ZohoId
    account_name: str
    account_code: OptionalText = None
    account_type: str
    is_active: bool = True


class ZohoTagOption(ZohoModel):
    tag_option_id: ZohoId
    tag_option_name: str
    is_active: bool = True


class ZohoReportingTag(ZohoModel):
    tag_id: ZohoId
    tag_name: str
    tag_options: list[ZohoTagOption] = Field(default_factory=list)


class ZohoLocation(ZohoModel):
    location_id: ZohoId
    location_name: str
    status: str = "active"
    is_primary: bool = False


class ZohoCreditApplication(ZohoModel):
    """Part of a vendor credit applied to a bill (`bills_credited[]`). [S] The item fields
    (`vendor_credit_bill_id`, `bill_id`, `bill_number`, `amount`, `date`) are those a public integration's
    recorded detail carries; [I] Zoho's apply call takes `amount_applied`, so both names are read. `date` is
    reported to be the bill's date, not the application's (see `transform_credits`)."""

    bill_id: ZohoId
    bill_number: OptionalText = None
    vendor_credit_bill_id: OptionalId = None
    date: OptionalDate = None
    amount: Money = Field(validation_alias=AliasChoices("amount", "amount_applied"))


class ZohoVendorCreditSummary(ZohoModel):
    """A row of `GET /vendorcredits` (no line items)."""

    vendor_credit_id: ZohoId
    vendor_credit_number: str
    vendor_id: ZohoId
    vendor_name: OptionalText = None
    status: str
    date: OptionalDate = None
    currency_code: str
    exchange_rate: OptionalMoney = None
    total: Money
    balance: OptionalMoney = None
    reference_number: OptionalText = None
    created_time: Timestamp = None
    last_modified_time: Timestamp = None
    last_modified_time_raw: str | None = None  # filled by the client from the payload


class ZohoVendorCredit(ZohoVendorCreditSummary):
    """`GET /vendorcredits/{id}`: the credit with its lines and the bills it was applied to."""

    sub_total: OptionalMoney = None
    tax_total: OptionalMoney = None
    is_inclusive_tax: bool = False
    line_items: list[ZohoBillLine] = Field(default_factory=list)
    taxes: list[ZohoBillTax] = Field(default_factory=list)
    bills_credited: list[ZohoCreditApplication] = Field(default_factory=list)
    notes: OptionalText = None


class ZohoAttachmentFile(BaseModel):
    """The bytes of a bill's attachment (`GET /bills/{id}/attachment`) and what the response says of them."""

    bill_id: str
    file_name: str | None
    content_type: str
    content: bytes

    @property
    def size(self) -> int:
        return len(self.content)


class RecordError(BaseModel):
    """A record Zoho sent that we could not read: failed with a reason, the walk goes on."""

    entity: str  # "bill" | "vendor" | "vendorpayment" | ...
    record_id: str | None
    reason: str
    raw: dict[str, Any] = Field(default_factory=dict)
