"""Multi-currency through ServiceNow's FX rate staging: a bill (or vendor credit) in a currency other than
the org's base currency stages, before its invoice, one row of `sn_fcms_intg_fx_rate_stage` (FX Rate Stage
inbound, spo-fx-rate-inbound-table.md [C]: Conversion date, ERP source, Exchange rate, From currency, To
currency are its fields; ERP source, Exchange rate, From and To currency are mandatory).

The row says: on the bill date, 1 unit of the bill's currency is worth Zoho's `exchange_rate` units of the
base currency (zoho-ref §4.2: `exchange_rate` converts the document currency to the base currency). Rows are
keyed `ZB-<org>-FX-<from>-<to>-<date>`: the same rate is sent once per batch (`staging_batch`), and staging
coalesces on from, to, date and ERP source [I], so a rate sent again by a later run updates the one
`sn_fin_fx_rate` row instead of adding one. [I] The staging column names are the labels' usual `u_` snake
case (the page gives labels only); the target `sn_fin_fx_rate` is named in sn-ref §7.1 (Finance Common
Architecture), its columns are [I].

A foreign-currency bill without a Zoho rate cannot be converted: it fails (MISSING_EXCHANGE_RATE) with the
reason rather than reach ServiceNow without a rate. When the base currency is unknown (no Zoho organization
read), no rate row is built [I].
"""

from __future__ import annotations

from decimal import Decimal

from zbsn.core.engine import columns as col
from zbsn.core.engine.ports import RunContext
from zbsn.core.engine.problems import ErrorCode, Problem
from zbsn.core.engine.staging_values import plain
from zbsn.core.servicenow.models import StagingRow


def is_foreign(currency: str | None, context: RunContext) -> bool:
    """True when `currency` is a real currency other than the org's (known) base currency."""
    base = (context.base_currency or "").upper()
    return bool(base and currency and currency.upper() != base)


def fx_rate_key(organization_id: str, from_currency: str, to_currency: str, on: str) -> str:
    """The FX rate row's source reference: one per (from, to, conversion date) and org."""
    return f"ZB-{organization_id}-FX-{from_currency}-{to_currency}-{on}"


def missing_rate(currency: str | None, rate: Decimal | None, context: RunContext) -> Problem | None:
    """A problem when a foreign-currency document has no usable Zoho exchange rate."""
    if not is_foreign(currency, context) or (rate is not None and rate > 0):
        return None
    message = (
        f"the bill is in {currency} but Zoho Books gives no exchange rate to the base currency "
        f"{context.base_currency}: set the rate on the bill in Zoho"
    )
    return Problem(ErrorCode.MISSING_EXCHANGE_RATE, message, currency)


def fx_staging_blocked(currency: str | None, context: RunContext, reason: str | None) -> Problem | None:
    """A problem when a foreign-currency document needs its rate staged and the instance cannot take it."""
    if reason is None or not is_foreign(currency, context):
        return None
    message = (
        f"the bill is in {currency}, and ServiceNow cannot stage its exchange rate: {reason}; "
        "replay it once the FX rate staging table and its transform are in place"
    )
    return Problem(ErrorCode.FX_STAGING_UNAVAILABLE, message, currency)


def fx_rate_row(
    currency: str, rate: Decimal | None, on: str | None, context: RunContext
) -> StagingRow | None:
    """The FX rate staging row a foreign-currency document needs (None: base currency, or no rate/date)."""
    if not is_foreign(currency, context) or rate is None or rate <= 0 or not on:
        return None
    base = (context.base_currency or "").upper()
    values = {
        "u_from_currency": currency.upper(),
        "u_to_currency": base,
        "u_conversion_date": on,
        "u_exchange_rate": plain(rate),
        "u_erp_source": context.erp_source,
    }
    key = fx_rate_key(context.organization_id, currency.upper(), base, on)
    return StagingRow(table=col.FX_RATE_TABLE, source_ref=key, values=values)


def describe_rate(row: StagingRow) -> str:
    """The FX rate row in words, as the preview shows it."""
    v = row.values
    return (
        f"FX rate {v['u_from_currency']}->{v['u_to_currency']} {v['u_exchange_rate']} on "
        f"{v['u_conversion_date']} staged before the invoice"
    )
