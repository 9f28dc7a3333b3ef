"""FX Currency fields read back over the Table API: `<field>.amount`, `.currency`, `.reference_amount`,
`.reference_currency`, and a display value.

fx-currency-dot-walkable-fields.md and fx-currency-values-import-export.md [C]: an FX Currency field points
at a Currency Instance (`fx_currency2_instance`) whose fields are dot-walkable; values leave the platform as
their display value unless read by dot-walking. The sandbox stores the amount on the record and derives the
rest from it [I]: the currency is the record's (an invoice's `currency`; a line, tax line or payment falls
back to its invoice's), the reference currency is the legal entity's local currency, and the reference amount
converts with the invoice's exchange rate (document -> local) when the two differ. The display value
`GBP 1,234.56` is [I].
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
    rate = invoice.get("exchange_rate", "") if invoice else ""
    if not amount or not rate or not reference or reference == currency:
        return amount
    try:
        return str((Decimal(amount) * Decimal(rate)).quantize(Decimal("0.01")))
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
