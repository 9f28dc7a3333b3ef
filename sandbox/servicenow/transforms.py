"""Transform maps from staging tables to targets: coalesce, reference validation, S2P side effects.

Generic flow per staging row (sn-ref §4.2-4.3):
1. a coalesce staging column is empty -> `skipped`;
2. references/values fail validation -> `error` with a clear `error_message`;
3. a target matches all coalesce values (case-insensitive unless configured) -> `updated`, or `ignored`
   ("No field values changed") when nothing differs; otherwise -> `inserted`.
Empty staging values never overwrite target values ("Copy empty fields" off, ServiceNow's default).

Coalesce keys ([I] where the OOB maps are undocumented):
- invoice: `u_external_invoice_number` + `u_erp_source` (configurable: `config.invoice_coalesce`);
- invoice line: header (by `u_external_invoice_number`) + `u_erp_line_number`;
- tax line: header + `u_erp_line_number` (may be empty) + `u_tax_type`;
- payment detail: `u_payment_reference_id` + `u_erp_invoice_number`;
- supplier: `u_erp_supplier_code`; cost center: `u_account_number`; GL account: `u_number`;
- supplier legal entity mapping: `u_supplier` + `u_legal_entity` (the supplier and legal entity they name);
- FX rate: `u_from_currency` + `u_to_currency` + `u_conversion_date` + `u_erp_source` [I].
`config.coalesce_overrides[staging_table]` replaces a map's coalesce columns (an empty tuple: no coalesce,
every row inserts - what the pre-flight must catch); other column sets are honoured by the invoice map only.

References resolve by number AND ERP source (the issue's reading of the S2P staging pages): a row that names
an ERP source only matches a supplier, cost center or GL account of that source. A payment detail matches its
invoice by ERP invoice number = the invoice's ERP number (and ERP source, and supplier), strictly
(sn-ref §7.6; the external invoice number never stands in for it).

(Over 400 lines: the transform maps of the staging tables, which share reference resolution and coalesce
rules; the tables themselves are declared in `schema.py`.)
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from .config import ServiceNowSandboxConfig
from .state import Database, Record

PAYMENT_METHODS = frozenset(
    {"bank_transfer", "cash_payment", "cheque", "credit_card", "debit_card", "wire_transfer"}
)
CANCEL_VALUES = frozenset({"canceled", "cancelled"})


class TransformError(Exception):
    """A row the map refuses; the message becomes the row's `error_message`."""


@dataclass(slots=True)
class Prepared:
    """What a map wants written: target values, coalesce target values, insert-only defaults, and values that
    fill a target field only while it is empty (on insert and on update)."""

    values: dict[str, str]
    coalesce: dict[str, str]
    insert_defaults: dict[str, str] = field(default_factory=dict)
    fill_empty: dict[str, str] = field(default_factory=dict)


@dataclass(slots=True)
class Outcome:
    """The result of transforming one staging row."""

    status: str  # inserted | updated | ignored | skipped | error
    target_sys_id: str = ""
    message: str = ""


@dataclass(frozen=True, slots=True)
class TransformMap:
    """One staging table's map: `prepare` turns a staging row into target values or raises TransformError.

    `field_map` (staging column -> target column) is what `sys_transform_entry` shows; `prepare` does the
    work.
    """

    name: str
    staging_table: str
    target_table: str
    display_field: str
    default_coalesce: Callable[[ServiceNowSandboxConfig], tuple[str, ...]]
    prepare: Callable[[Lookups, dict[str, str]], Prepared]
    after: Callable[[Lookups, Record], None] | None = None
    field_map: dict[str, str] = field(default_factory=dict)

    def coalesce_columns(self, config: ServiceNowSandboxConfig) -> tuple[str, ...]:
        """The staging columns this map coalesces on, as configured."""
        override = config.coalesce_overrides.get(self.staging_table)
        return override if override is not None else self.default_coalesce(config)


class Lookups:
    """Reference resolution against the live tables; each raises TransformError with a readable message."""

    def __init__(self, db: Database, config: ServiceNowSandboxConfig) -> None:
        self.db = db
        self.config = config

    def _master(self, table: str, column: str, value: str, erp_source: str) -> Record | None:
        """The first `table` record whose `column` equals `value` (case-insensitively) and, when the row names
        an ERP source (`erp_source` is its sys_id), whose ERP source is that one."""
        for record in self.db.find_all(table, **{column: value}):
            if not erp_source or record.get("erp_source", "") == erp_source:
                return record
        return None

    def supplier(self, code: str, erp_source: str = "") -> str:
        record = self._master("sn_fin_supplier", "erp_supplier_code", code, erp_source)
        if record is None:
            raise TransformError(f"Supplier '{code}' not found")
        return record["sys_id"]

    def cost_center(self, account_number: str, erp_source: str = "") -> str:
        record = self._master("cmn_cost_center", "account_number", account_number, erp_source)
        if record is None:
            raise TransformError(f"Cost center '{account_number}' not found")
        return record["sys_id"]

    def gl_account(self, number: str, erp_source: str = "") -> str:
        record = self._master("sn_fin_gl_account", "number", number, erp_source)
        if record is None:
            raise TransformError(f"GL account '{number}' not found")
        return record["sys_id"]

    def row_erp_source(self, row: dict[str, str]) -> str:
        """The sys_id of the ERP source a staging row names ("" when it names none)."""
        name = row.get("u_erp_source", "").strip()
        return self.erp_source(name) if name else ""

    def legal_entity(self, code: str) -> str:
        record = self.db.find("sn_fin_legal_entity", erp_company_code=code) or self.db.find(
            "sn_fin_legal_entity", legal_name=code
        )
        if record is None:
            raise TransformError(f"Legal entity '{code}' not found")
        return record["sys_id"]

    def user(self, name_or_email: str) -> str:
        """The sys_id of the user a staging value names by user name or email; [I] an unknown value is kept
        as given (a reference to no record), which the exception engine reports as an invalid owner."""
        value = name_or_email.strip()
        if not value:
            return ""
        record = self.db.find("sys_user", user_name=value) or self.db.find("sys_user", email=value)
        return record["sys_id"] if record else value

    def currency(self, code: str) -> str:
        record = self.db.find("fx_currency", code=code)
        if record is None or record["code"] != code.upper():
            raise TransformError(f"Currency '{code}' is not a valid ISO 4217 currency code")
        return record["sys_id"]

    def erp_source(self, name: str) -> str:
        record = self.db.find("sn_fin_erp_source", name=name)
        if record is None:
            raise TransformError(f"ERP source '{name}' not found")
        return record["sys_id"]

    def invoice(self, external_number: str, erp_source_name: str) -> Record:
        criteria = {"external_invoice_number": external_number}
        if erp_source_name:
            criteria["erp_source"] = self.erp_source(erp_source_name)
        record = self.db.find("sn_shop_invoice", **criteria)
        if record is None:
            raise TransformError(f"Invoice with external invoice number '{external_number}' not found")
        return record

    def invoice_by_erp_number(self, number: str, erp_source: str = "") -> Record:
        """The invoice whose ERP number is `number` (of the row's ERP source, when it names one)."""
        for record in self.db.find_all("sn_shop_invoice", erp_number=number):
            if not erp_source or record.get("erp_source", "") in ("", erp_source):
                return record
        raise TransformError(f"Invoice with ERP invoice number '{number}' not found")

    def supplier_detail(self, supplier: str, legal_entity: str) -> Record | None:
        """The supplier <-> legal entity mapping (`sn_fin_supplier_detail`) of an invoice, if any."""
        if not supplier or not legal_entity:
            return None
        return self.db.find("sn_fin_supplier_detail", supplier=supplier, legal_entity=legal_entity)


# --- value checks ---------------------------------------------------------------------------------------


def _amount(row: dict[str, str], column: str, label: str) -> str:
    text = row.get(column, "").strip()
    if not text:
        return ""
    try:
        value = Decimal(text)
    except InvalidOperation:
        raise TransformError(f"Invalid amount '{text}' for {label}") from None
    if not value.is_finite():
        raise TransformError(f"Invalid amount '{text}' for {label}")
    return text


def _date(row: dict[str, str], column: str, label: str) -> str:
    text = row.get(column, "").strip()
    if not text:
        return ""
    try:
        dt.date.fromisoformat(text)
    except ValueError:
        raise TransformError(f"Invalid date '{text}' for {label} (expected yyyy-mm-dd)") from None
    return text


def _required(row: dict[str, str], column: str, label: str) -> str:
    value = row.get(column, "").strip()
    if not value:
        raise TransformError(f"Mandatory field '{label}' is empty")
    return value


def _optional_ref(row: dict[str, str], column: str, resolve: Callable[[str], str]) -> str:
    value = row.get(column, "").strip()
    return resolve(value) if value else ""


def _non_empty(values: dict[str, str]) -> dict[str, str]:
    return {k: v for k, v in values.items() if v != ""}


def _decimal(text: str) -> Decimal:
    try:
        return Decimal(text) if text else Decimal(0)
    except InvalidOperation:
        return Decimal(0)


# --- the maps -------------------------------------------------------------------------------------------


def _mandatory(look: Lookups, row: dict[str, str], columns: dict[str, str]) -> None:
    """Refuse a row lacking documented mandatory fields, when the sandbox is told to enforce them."""
    if look.config.enforce_documented_mandatory:
        for column, label in columns.items():
            _required(row, column, label)


def _prepare_invoice(look: Lookups, row: dict[str, str]) -> Prepared:
    _mandatory(look, row, {"u_other_charges": "Other charges"})
    erp_source = look.row_erp_source(row)
    supplier = look.supplier(_required(row, "u_supplier", "Supplier"), erp_source)
    currency = look.currency(_required(row, "u_currency", "Currency"))
    legal_entity = _optional_ref(row, "u_legal_entity", look.legal_entity)
    amounts = {
        "subtotal": _amount(row, "u_subtotal", "Subtotal"),
        "tax_amount": _amount(row, "u_tax_amount", "Tax amount"),
        "shipping": _amount(row, "u_shipping_amount", "Shipping amount"),
        "other_charges": _amount(row, "u_other_charges", "Other charges"),
        "discounts": _amount(row, "u_discounts", "Discounts"),
        "invoice_amount": _amount(row, "u_amount_invoiced", "Amount invoiced"),
    }
    if not amounts["invoice_amount"] and amounts["subtotal"]:
        total = sum(
            (_decimal(amounts[k]) for k in ("subtotal", "tax_amount", "shipping", "other_charges")),
            Decimal(0),
        ) - _decimal(amounts["discounts"])
        amounts["invoice_amount"] = str(total)
    values = {
        "external_invoice_number": row.get("u_external_invoice_number", ""),
        "external_invoice_source": row.get("u_external_invoice_source", ""),
        "erp_source": erp_source,
        "erp_number": row.get("u_erp_number", ""),
        "supplier_invoice_number": row.get("u_supplier_invoice_number", ""),
        "supplier": supplier,
        "supplier_tax_id": row.get("u_supplier_tax_id", ""),
        "legal_entity": legal_entity,
        "purchase_order": row.get("u_purchase_order", ""),
        "invoice_date": _date(row, "u_invoice_date", "Invoice date"),
        "due_date": _date(row, "u_due_date", "Due date"),
        "payment_terms": row.get("u_payment_terms", ""),
        "currency": currency,
        "type": row.get("u_invoice_type", ""),
        "original_invoice": row.get("u_original_invoice", ""),
        "business_owner": look.user(row.get("u_business_owner", "")),
        "short_description": row.get("u_short_description", ""),
        **amounts,
    }
    requested_state = row.get("u_invoice_state", "").strip().lower()
    if requested_state in CANCEL_VALUES:
        values["state"] = "canceled"
    elif requested_state:
        raise TransformError(
            f"Invalid invoice state '{row['u_invoice_state']}' (only 'canceled' is accepted)"
        )
    coalesce_map = {
        "u_external_invoice_number": "external_invoice_number",
        "u_erp_source": "erp_source",
        "u_supplier": "supplier",
        "u_supplier_invoice_number": "supplier_invoice_number",
    }
    columns = look.config.coalesce_overrides.get("sn_spend_intg_imp_invoice", look.config.invoice_coalesce)
    coalesce = {coalesce_map[c]: values[coalesce_map[c]] for c in columns if c in coalesce_map}
    defaults = {"state": "draft", "channel": "integration"}
    # [I] an invoice without payment terms takes the supplier's for its legal entity (sn_fin_supplier_detail
    # has a Payment term field [C]), also when it is imported again (it used to take them on insert only, so
    # re-importing after the AP team mapped the supplier left them missing); without either, the exception
    # engine finds "Missing required information".
    fill: dict[str, str] = {}
    detail = look.supplier_detail(supplier, legal_entity)
    if detail is not None and detail["payment_term"]:
        fill["payment_terms"] = detail["payment_term"]
    # [I] imported invoices start in Draft (stored value `draft`), channel integration.
    return Prepared(_non_empty(values), coalesce, defaults, fill)


def _prepare_invoice_line(look: Lookups, row: dict[str, str]) -> Prepared:
    invoice = look.invoice(row.get("u_external_invoice_number", ""), row.get("u_erp_source", ""))
    erp_source = look.row_erp_source(row)
    values = {
        "invoice": invoice["sys_id"],
        "erp_line_number": row.get("u_erp_line_number", ""),
        "line_description": row.get("u_line_description", ""),
        "invoiced_quantity": _amount(row, "u_line_quantity", "Line quantity"),
        "line_unit_price": _amount(row, "u_line_unit_price", "Line unit price"),
        "line_amount": _amount(row, "u_line_amount_invoiced", "Line amount invoiced"),
        "sub_total": _amount(row, "u_subtotal", "Subtotal"),
        "tax_amount": _amount(row, "u_tax_amount", "Tax amount"),
        "cost_center": _optional_ref(row, "u_cost_center", lambda v: look.cost_center(v, erp_source)),
        "ledger_account": _optional_ref(row, "u_gl_account", lambda v: look.gl_account(v, erp_source)),
        "tax_code": row.get("u_tax_code", ""),
        "order_line": row.get("u_purchase_order_line", ""),
        "supplier_part_number": row.get("u_supplier_part_number", ""),
        "uom": row.get("u_uom", ""),
        "currency": _optional_ref(row, "u_currency", look.currency),
    }
    coalesce = {"invoice": values["invoice"], "erp_line_number": values["erp_line_number"]}
    return Prepared(_non_empty(values), coalesce, {"state": "draft"})


def _prepare_tax_line(look: Lookups, row: dict[str, str]) -> Prepared:
    invoice = look.invoice(row.get("u_external_invoice_number", ""), row.get("u_erp_source", ""))
    line_number = row.get("u_erp_line_number", "").strip()
    invoice_line = ""
    if line_number:
        line = look.db.find("sn_shop_invoice_line", invoice=invoice["sys_id"], erp_line_number=line_number)
        if line is None:
            raise TransformError(
                f"Invoice line '{line_number}' of invoice '{invoice['external_invoice_number']}' not found"
            )
        invoice_line = line["sys_id"]
    values = {
        "invoice": invoice["sys_id"],
        "invoice_line": invoice_line,
        "tax_type": row.get("u_tax_type", ""),
        "tax_amount": _amount(row, "u_tax_amount", "Tax amount"),
        "taxable_amount": _amount(row, "u_taxable_amount", "Taxable amount"),
        "supplier_tax_rate": _amount(row, "u_supplier_tax_rate", "Supplier tax rate"),
        "currency": _optional_ref(row, "u_currency", look.currency),
    }
    coalesce = {"invoice": values["invoice"], "invoice_line": invoice_line, "tax_type": values["tax_type"]}
    return Prepared(_non_empty(values), coalesce)


def _prepare_payment(look: Lookups, row: dict[str, str]) -> Prepared:
    _mandatory(
        look,
        row,
        {
            f"u_remit_to_{part}": f"Remit-to {part.replace('_', ' ')}"
            for part in ("street", "city", "state_or_province", "zip_or_postal_code", "country")
        },
    )
    erp_source = look.row_erp_source(row)
    invoice = look.invoice_by_erp_number(row.get("u_erp_invoice_number", ""), erp_source)
    supplier = _optional_ref(row, "u_erp_supplier_code", lambda v: look.supplier(v, erp_source))
    if supplier and invoice["supplier"] and supplier != invoice["supplier"]:
        raise TransformError(f"Supplier '{row['u_erp_supplier_code']}' does not match the invoice's supplier")
    method = row.get("u_payment_method", "").strip()
    if method and method not in PAYMENT_METHODS:
        raise TransformError(
            f"Invalid payment method '{method}' (one of {', '.join(sorted(PAYMENT_METHODS))})"
        )
    values = {
        "invoice": invoice["sys_id"],
        "supplier": supplier or invoice["supplier"],
        "erp_source": _optional_ref(row, "u_erp_source", look.erp_source),
        "erp_invoice_number": row.get("u_erp_invoice_number", ""),
        "payment_reference_id": row.get("u_payment_reference_id", ""),
        "payment_amount": _amount(row, "u_payment_amount", "Payment amount"),
        "currency": _optional_ref(row, "u_currency", look.currency),
        "payment_date": _date(row, "u_payment_date", "Payment date"),
        "payment_method": method,
        "scheduled_payment_date": _date(row, "u_scheduled_payment_date", "Scheduled payment date"),
        **{
            f"remit_to_{k}": row.get(f"u_remit_to_{k}", "")
            for k in ("street", "city", "state_or_province", "zip_or_postal_code", "country")
        },
    }
    coalesce = {
        "payment_reference_id": values["payment_reference_id"],
        "erp_invoice_number": values["erp_invoice_number"],
    }
    return Prepared(_non_empty(values), coalesce)


def _after_payment(look: Lookups, payment: Record) -> None:
    """Roll payments up onto the invoice; fully paid moves it to `paid` (sn-ref §7.6)."""
    invoice = look.db.get("sn_shop_invoice", payment["invoice"])
    if invoice is None:
        return
    payments = [
        p
        for p in look.db.find_all("sn_shop_invoice_payment_detail", invoice=invoice["sys_id"])
        if p["invoice"] == invoice["sys_id"]
    ]
    paid = sum((_decimal(p["payment_amount"]) for p in payments), Decimal(0))
    changes = {"amount_paid": str(paid)}
    due = _decimal(invoice["invoice_amount"])
    if due > 0 and paid >= due and invoice["state"] != "canceled":
        changes["state"] = "paid"
        changes["payment_date"] = max((p["payment_date"] for p in payments), default="")
    look.db.update("sn_shop_invoice", invoice["sys_id"], changes)


def _prepare_supplier(look: Lookups, row: dict[str, str]) -> Prepared:
    name = row.get("u_name", "") or row.get("u_legal_name", "")
    status = row.get("u_status", "").strip().lower()
    values = {
        "name": name,
        "legal_name": row.get("u_legal_name", "") or name,
        "erp_supplier_code": row.get("u_erp_supplier_code", ""),
        "erp_company_code": row.get("u_erp_company_code", ""),
        "erp_source": _optional_ref(row, "u_erp_source", look.erp_source),
        "tax_id": row.get("u_tax_id", ""),
        "payment_term": row.get("u_payment_term", ""),
        "active": {"inactive": "false", "active": "true"}.get(status, ""),
        **{
            k: row.get(f"u_{k}", "")
            for k in ("email", "street", "city", "state", "zip", "country", "website", "phone")
        },
    }
    return Prepared(
        _non_empty(values), {"erp_supplier_code": values["erp_supplier_code"]}, {"active": "true"}
    )


def _prepare_supplier_legal_entity(look: Lookups, row: dict[str, str]) -> Prepared:
    """A supplier <-> legal entity mapping: both named by their ERP codes (or names) [I]."""
    code = _required(row, "u_supplier", "Supplier")
    supplier = look.db.find("sn_fin_supplier", erp_supplier_code=code) or look.db.find(
        "sn_fin_supplier", name=code
    )
    if supplier is None:
        raise TransformError(f"Supplier '{code}' not found")
    legal_entity = look.legal_entity(_required(row, "u_legal_entity", "Legal entity"))
    values = {
        "supplier": supplier["sys_id"],
        "legal_entity": legal_entity,
        "payment_term": row.get("u_payment_term", "").strip(),
    }
    coalesce = {"supplier": supplier["sys_id"], "legal_entity": legal_entity}
    held = "true" if supplier["name"] in look.config.held_supplier_names else "false"  # [I] see config
    return Prepared(_non_empty(values), coalesce, {"hold_payment": held, "hold_posting": "false"})


def _prepare_fx_rate(look: Lookups, row: dict[str, str]) -> Prepared:
    """An FX rate: 1 unit of the from currency in the to currency, on the conversion date."""
    rate = _amount(row, "u_exchange_rate", "Exchange rate")
    if not rate:
        raise TransformError("Mandatory field 'Exchange rate' is empty")
    if Decimal(rate) <= 0:
        raise TransformError(f"Invalid exchange rate '{rate}' (must be greater than zero)")
    values = {
        "from_currency": look.currency(_required(row, "u_from_currency", "From currency")),
        "to_currency": look.currency(_required(row, "u_to_currency", "To currency")),
        "conversion_date": _date(row, "u_conversion_date", "Conversion date"),
        "rate": rate,
        "rate_type": row.get("u_rate_type", ""),
        "span_start": _date(row, "u_span_start", "Span start"),
        "span_end": _date(row, "u_span_end", "Span end"),
        "erp_source": look.erp_source(_required(row, "u_erp_source", "ERP source")),
    }
    coalesce = {k: values[k] for k in ("from_currency", "to_currency", "conversion_date", "erp_source")}
    return Prepared(_non_empty(values), coalesce)


def _prepare_cost_center(look: Lookups, row: dict[str, str]) -> Prepared:
    manager = row.get("u_manager", "").strip()
    manager_record = look.db.find("sys_user", user_name=manager) if manager else None
    values = {
        "account_number": row.get("u_account_number", ""),
        "name": row.get("u_name", ""),
        "code": row.get("u_code", ""),
        "valid_from": _date(row, "u_valid_from", "Valid from"),
        "valid_to": _date(row, "u_valid_to", "Valid to"),
        "erp_source": _optional_ref(row, "u_erp_source", look.erp_source),
        "legal_entity": _optional_ref(row, "u_legal_entity", look.legal_entity),
        "manager": manager_record["sys_id"] if manager_record else "",
    }
    return Prepared(_non_empty(values), {"account_number": values["account_number"]}, {"active": "true"})


def _prepare_gl_account(look: Lookups, row: dict[str, str]) -> Prepared:
    inactive = row.get("u_inactive", "").strip().lower()
    values = {
        "number": row.get("u_number", ""),
        "name": row.get("u_account_name", ""),
        "currency": _optional_ref(row, "u_account_currency", look.currency),
        "category": row.get("u_category", ""),
        "type": row.get("u_type", ""),
        "legal_entity": _optional_ref(row, "u_entity", look.legal_entity),
        "erp_source": _optional_ref(row, "u_erp_source", look.erp_source),
        "short_description": row.get("u_short_description", ""),
        "active": {"true": "false", "false": "true"}.get(inactive, ""),
    }
    return Prepared(_non_empty(values), {"number": values["number"]}, {"active": "true"})


def _fixed(*columns: str) -> Callable[[ServiceNowSandboxConfig], tuple[str, ...]]:
    return lambda _config: columns


def _same(*names: str) -> dict[str, str]:
    """Field maps `u_<name>` -> `<name>`."""
    return {f"u_{name}": name for name in names}


_REMIT = tuple(
    f"remit_to_{k}" for k in ("street", "city", "state_or_province", "zip_or_postal_code", "country")
)
INVOICE_FIELDS = {
    **_same(
        "external_invoice_number",
        "external_invoice_source",
        "erp_source",
        "erp_number",
        "supplier_invoice_number",
        "supplier",
        "supplier_tax_id",
        "legal_entity",
        "purchase_order",
        "invoice_date",
        "due_date",
        "payment_terms",
        "currency",
        "business_owner",
        "short_description",
        "original_invoice",
        "subtotal",
        "tax_amount",
        "other_charges",
        "discounts",
    ),
    "u_invoice_type": "type",
    "u_shipping_amount": "shipping",
    "u_amount_invoiced": "invoice_amount",
    "u_invoice_state": "state",
}
LINE_FIELDS = {
    **_same(
        "erp_line_number",
        "line_description",
        "line_unit_price",
        "tax_amount",
        "cost_center",
        "tax_code",
        "supplier_part_number",
        "uom",
        "currency",
    ),
    "u_external_invoice_number": "invoice",
    "u_line_quantity": "invoiced_quantity",
    "u_line_amount_invoiced": "line_amount",
    "u_subtotal": "sub_total",
    "u_gl_account": "ledger_account",
    "u_purchase_order_line": "order_line",
}
TAX_LINE_FIELDS = {
    **_same("tax_type", "tax_amount", "taxable_amount", "supplier_tax_rate", "currency"),
    "u_external_invoice_number": "invoice",
    "u_erp_line_number": "invoice_line",
}
PAYMENT_FIELDS = {
    **_same(
        "erp_invoice_number",
        "erp_source",
        "payment_reference_id",
        "payment_amount",
        "currency",
        "payment_date",
        "payment_method",
        "scheduled_payment_date",
        *_REMIT,
    ),
    "u_erp_supplier_code": "supplier",
}
SUPPLIER_FIELDS = {
    **_same(
        "erp_supplier_code",
        "name",
        "legal_name",
        "erp_company_code",
        "erp_source",
        "tax_id",
        "payment_term",
        "email",
        "street",
        "city",
        "state",
        "zip",
        "country",
        "website",
        "phone",
    ),
    "u_status": "active",
}
COST_CENTER_FIELDS = _same(
    "account_number", "name", "code", "valid_from", "valid_to", "erp_source", "legal_entity", "manager"
)
SUPPLIER_LEGAL_ENTITY_FIELDS = _same("supplier", "legal_entity", "payment_term")
FX_RATE_FIELDS = {
    **_same("from_currency", "to_currency", "conversion_date", "rate_type", "span_start", "span_end"),
    "u_exchange_rate": "rate",
    "u_erp_source": "erp_source",
}
GL_ACCOUNT_FIELDS = {
    **_same("number", "category", "type", "erp_source", "short_description"),
    "u_account_name": "name",
    "u_account_currency": "currency",
    "u_entity": "legal_entity",
    "u_inactive": "active",
}


TRANSFORM_MAPS: dict[str, TransformMap] = {
    m.staging_table: m
    for m in (
        TransformMap(
            "Invoice import",
            "sn_spend_intg_imp_invoice",
            "sn_shop_invoice",
            "number",
            lambda config: config.invoice_coalesce,
            _prepare_invoice,
            field_map=INVOICE_FIELDS,
        ),
        TransformMap(
            "Invoice line import",
            "sn_spend_intg_imp_invoice_line",
            "sn_shop_invoice_line",
            "number",
            _fixed("u_external_invoice_number", "u_erp_line_number"),
            _prepare_invoice_line,
            field_map=LINE_FIELDS,
        ),
        TransformMap(
            "Invoice tax line import",
            "sn_spend_intg_imp_invoice_tax_line",
            "sn_shop_invoice_tax_line",
            "tax_type",
            _fixed("u_external_invoice_number", "u_tax_type"),
            _prepare_tax_line,
            field_map=TAX_LINE_FIELDS,
        ),
        TransformMap(
            "Invoice payment detail import",
            "sn_spend_intg_imp_invoice_payment_detail",
            "sn_shop_invoice_payment_detail",
            "payment_reference_id",
            _fixed("u_payment_reference_id", "u_erp_invoice_number"),
            _prepare_payment,
            _after_payment,
            PAYMENT_FIELDS,
        ),
        TransformMap(
            "Master data supplier",
            "sn_fcms_intg_imp_supplier",
            "sn_fin_supplier",
            "name",
            _fixed("u_erp_supplier_code"),
            _prepare_supplier,
            field_map=SUPPLIER_FIELDS,
        ),
        TransformMap(
            "Master data cost center",
            "sn_fcms_intg_imp_cost_center",
            "cmn_cost_center",
            "name",
            _fixed("u_account_number"),
            _prepare_cost_center,
            field_map=COST_CENTER_FIELDS,
        ),
        TransformMap(
            "GL account load data",
            "sn_fcms_intg_gl_account_stage",
            "sn_fin_gl_account",
            "number",
            _fixed("u_number"),
            _prepare_gl_account,
            field_map=GL_ACCOUNT_FIELDS,
        ),
        TransformMap(
            "Supplier legal entity mapping",
            "sn_fcms_intg_supplier_legal_entity_inbound",
            "sn_fin_supplier_detail",
            "payment_term",
            _fixed("u_supplier", "u_legal_entity"),
            _prepare_supplier_legal_entity,
            field_map=SUPPLIER_LEGAL_ENTITY_FIELDS,
        ),
        TransformMap(
            "FX rate stage",
            "sn_fcms_intg_fx_rate_stage",
            "sn_fin_fx_rate",
            "conversion_date",
            _fixed("u_from_currency", "u_to_currency", "u_conversion_date", "u_erp_source"),
            _prepare_fx_rate,
            field_map=FX_RATE_FIELDS,
        ),
    )
}


class TransformEngine:
    """Runs a staging row through its map against the live tables (caller holds `db.lock`)."""

    def __init__(self, db: Database, config: ServiceNowSandboxConfig) -> None:
        self.db = db
        self.config = config
        self.lookups = Lookups(db, config)

    def run(self, transform: TransformMap, row: dict[str, str]) -> Outcome:
        """Transform one staging row (values keyed by column name)."""
        coalescing = transform.coalesce_columns(self.config)
        empty = [c for c in coalescing if not row.get(c, "").strip()]
        if empty:
            return Outcome("skipped", message=f"Row skipped: coalesce field(s) {', '.join(empty)} empty")
        try:
            prepared = transform.prepare(self.lookups, row)
        except TransformError as exc:
            return Outcome("error", message=str(exc))
        # a map without coalesce inserts every row (ServiceNow's rule: no coalesce, no match)
        existing = self._find(transform.target_table, prepared.coalesce) if coalescing else None
        if existing is None:
            values = {**prepared.insert_defaults, **prepared.fill_empty, **prepared.values}
            record = self.db.insert(transform.target_table, values)
            outcome = Outcome("inserted", record["sys_id"])
        else:
            changed = {k: v for k, v in prepared.values.items() if existing.get(k, "") != v}
            changed |= {k: v for k, v in prepared.fill_empty.items() if not existing.get(k, "")}
            if not changed:
                return Outcome("ignored", existing["sys_id"], "No field values changed")
            record = self.db.update(transform.target_table, existing["sys_id"], changed)
            outcome = Outcome("updated", record["sys_id"])
        if transform.after is not None:
            transform.after(self.lookups, record)
        return outcome

    def _find(self, table: str, coalesce: dict[str, str]) -> Record | None:
        if self.config.coalesce_case_sensitive:
            for record in self.db.find_all(table, **coalesce):
                if all(record.get(k, "") == v for k, v in coalesce.items()):
                    return record
            return None
        return self.db.find(table, **coalesce)
