"""FX Currency fields read back over the Table API: `<field>.amount`, `.currency`, `.reference_amount`,
`.reference_currency`, and a display value.

fx-currency-dot-walkable-fields.md and fx-currency-values-import-export.md [C]: an FX Currency field points
at a Currency Instance (`fx_currency2_instance`) whose fields are dot-walkable; values leave the platform as
their display value unless read by dot-walking. The sandbox stores the amount on the record and derives the
rest from it [I]: the currency is the record's (an invoice's `currency`; a line, tax line or payment falls
back to its invoice's), the reference currency is the legal entity's local currency, and the reference amount
converts with the FX rate loaded through FX Rate Stage (`sn_fin_fx_rate`, from the invoice currency to the
local currency, for the invoice date) when the two differ. The display value `GBP 1,234.56` is [I].

`rate_for` is also what the exception engine asks: [I] a rate applies on its conversion date, or within its
span (span start..span end) when it has one; how a real instance picks a rate (latest before the date,
rate type) is not documented.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from .state import Database, Record


def _code(db: Database, currency_sys_id: str) -> str:
    record = db.get("fx_currency", currency_sys_id) if currency_sys_id else None
    return record["code"] if record else ""


def _invoice_of(db: Database, table: str, record: Record) -> Record | None:
    if table == "sn_shop_invoice":
        return record
    return db.get("sn_shop_invoice", record.get("invoice", "")) if record.get("invoice") else None


def currency_of(db: Database, table: str, record: Record) -> str:
    """The ISO code an FX field of `record` is in."""
    own = _code(db, record.get("currency", ""))
    if own:
        return own
    invoice = _invoice_of(db, table, record)
    return _code(db, invoice.get("currency", "")) if invoice else ""


def local_currency(db: Database, invoice: Record) -> str:
    """The ISO code of the invoice's legal entity's local currency ("" when it has none)."""
    entity = db.get("sn_fin_legal_entity", invoice["legal_entity"]) if invoice.get("legal_entity") else None
    return _code(db, entity["local_currency"]) if entity else ""


def rate_for(db: Database, from_code: str, to_code: str, on: str) -> Decimal | None:
    """The `sn_fin_fx_rate` rate from one currency to another on a date (see the module docstring)."""
    from_id = db.find("fx_currency", code=from_code) if from_code else None
    to_id = db.find("fx_currency", code=to_code) if to_code else None
    if from_id is None or to_id is None or not on:
        return None
    pair = {"from_currency": from_id["sys_id"], "to_currency": to_id["sys_id"]}
    exact = db.find_all("sn_fin_fx_rate", **pair, conversion_date=on)
    for record in exact or db.find_all("sn_fin_fx_rate", **pair):
        start, end = record.get("span_start", ""), record.get("span_end", "")
        if record["conversion_date"] == on or (start and end and start <= on <= end):
            try:
                return Decimal(record["rate"])
            except InvalidOperation:
                return None
    return None


def invoice_rate(db: Database, invoice: Record) -> Decimal | None:
    """The rate converting the invoice's currency to its legal entity's local currency on its date."""
    currency = _code(db, invoice.get("currency", ""))
    local = local_currency(db, invoice)
    return rate_for(db, currency, local, invoice.get("invoice_date", ""))


def fx_part(db: Database, table: str, record: Record, field: str, part: str) -> str:
    """One dot-walked part of the FX field `field` of `record`."""
    amount = record.get(field, "")
    currency = currency_of(db, table, record)
    if part == "amount":
        return amount
    if part == "currency":
        return currency if amount else ""
    invoice = _invoice_of(db, table, record)
    entity = (
        db.get("sn_fin_legal_entity", invoice["legal_entity"])
        if invoice and invoice["legal_entity"]
        else None
    )
    reference = _code(db, entity["local_currency"]) if entity else currency
    if part == "reference_currency":
        return (reference or currency) if amount else ""
    if not amount or not invoice or not reference or reference == currency:
        return amount
    rate = invoice_rate(db, invoice)
    if rate is None:
        return amount
    try:
        return str((Decimal(amount) * rate).quantize(Decimal("0.01")))
    except InvalidOperation:
        return amount


def fx_display(db: Database, table: str, record: Record, field: str) -> str:
    """The display value of an FX field, e.g. `GBP 1,234.56` ("" when empty)."""
    amount = record.get(field, "")
    if not amount:
        return ""
    try:
        shown = f"{Decimal(amount):,.2f}"
    except InvalidOperation:
        shown = amount
    currency = currency_of(db, table, record)
    return f"{currency} {shown}" if currency else shown
