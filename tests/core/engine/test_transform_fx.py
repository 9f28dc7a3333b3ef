"""Multi-currency through ServiceNow's FX rate staging: a foreign-currency bill stages, before its invoice,
one FX rate row (from the bill's currency to the base currency, on the bill date, Zoho's rate); the sandbox
loads it into sn_fin_fx_rate and its invoice checks use it; a rate is staged once per (from, to, date)."""

from __future__ import annotations

from collections import Counter
from decimal import Decimal

import sqlalchemy as sa
from sqlmodel import col, select

from zbsn.core.db.engine import session_scope
from zbsn.core.db.models import AuditRecord
from zbsn.core.domain import AuditStatus, RunStatus
from zbsn.core.engine.columns import FX_RATE_TABLE, INVOICE_TABLE, WRITTEN
from zbsn.core.engine.problems import ErrorCode
from zbsn.core.engine.service import EngineService
from zbsn.core.engine.staging_batch import _ordered_rows
from zbsn.core.engine.transform import bill_to_invoice
from zbsn.core.servicenow.labels import DEFAULT_LABELS

from .conftest import Sandboxes, company
from .expectations import Expected, key
from .harness import ClientFactories, create_profile
from .test_transform import CONTEXT, bill, index


def test_foreign_bill_carries_an_fx_rate_row_after_its_header_and_no_rate_column() -> None:
    foreign = bill_to_invoice(bill(exchange_rate="1.17250"), CONTEXT, index())
    header, fx = foreign.rows[0], foreign.rows[1]
    assert header.table == INVOICE_TABLE  # the record's outcome stays its header's
    assert "u_exchange_rate" not in header.values
    assert "u_exchange_rate" not in WRITTEN[INVOICE_TABLE]
    assert fx.table == FX_RATE_TABLE
    assert fx.source_ref == "ZB-200-FX-EUR-GBP-2026-07-01"
    assert fx.values == {
        "u_from_currency": "EUR",
        "u_to_currency": "GBP",
        "u_conversion_date": "2026-07-01",
        "u_exchange_rate": "1.1725",
        "u_erp_source": "Zoho Books",
    }
    assert set(fx.values) <= set(DEFAULT_LABELS[FX_RATE_TABLE])
    home = bill_to_invoice(bill(currency_code="GBP", exchange_rate=1), CONTEXT, index())
    assert home.ok
    assert [r.table for r in home.rows if r.table == FX_RATE_TABLE] == []


def test_foreign_bill_without_a_zoho_rate_fails_with_the_reason() -> None:
    for rate in (None, 0):
        unknown = bill_to_invoice(bill(exchange_rate=rate), CONTEXT, index())
        assert not unknown.ok
        assert unknown.rows == []
        assert [p.code for p in unknown.problems] == [ErrorCode.MISSING_EXCHANGE_RATE]
        assert "EUR" in unknown.problems[0].message
        assert "GBP" in unknown.problems[0].message


def test_a_batch_sends_a_shared_rate_once_and_before_the_invoices() -> None:
    first = bill_to_invoice(bill(bill_id="1"), CONTEXT, index())
    second = bill_to_invoice(bill(bill_id="2"), CONTEXT, index())
    other_day = bill_to_invoice(bill(bill_id="3", date="2026-07-02"), CONTEXT, index())
    rows = _ordered_rows([first.rows, second.rows, other_day.rows])
    refs = [r.source_ref for r in rows]
    assert len(refs) == len(set(refs))
    fx = [r for r in rows if r.table == FX_RATE_TABLE]
    assert [r.values["u_conversion_date"] for r in fx] == ["2026-07-01", "2026-07-02"]
    assert rows[: len(fx)] == fx  # staged before any invoice header


async def test_foreign_currency_invoices_get_their_rate_through_fx_rate_staging(
    sqlite_engine: sa.Engine, live: Sandboxes, factories: ClientFactories
) -> None:
    engine = sqlite_engine
    profile_id = create_profile(engine, live.endpoints)
    service = EngineService(engine, factories.zoho, factories.servicenow)
    await service.run(profile_id)

    seeded = company()
    base = seeded.organization.currency_code
    staged = {r["external_invoice_number"]: r for r in live.servicenow.table("sn_shop_invoice")}
    foreign = [b for b in Expected(seeded).good_bills if b.currency_code != base]
    assert foreign, "the seeded company has foreign-currency bills"
    assert {b.currency_code for b in foreign} >= {"EUR", "USD"}
    codes = {r["sys_id"]: r["code"] for r in live.servicenow.table("fx_currency")}
    rates = live.servicenow.table("sn_fin_fx_rate")
    loaded = {(codes[r["from_currency"]], codes[r["to_currency"]], r["conversion_date"]): r for r in rates}
    assert len(loaded) == len(rates), "one sn_fin_fx_rate per (from, to, date)"
    wanted = {(b.currency_code, base, b.date.isoformat()) for b in foreign}
    assert set(loaded) == wanted
    for zoho_bill in foreign:
        invoice = staged[key(zoho_bill.bill_id)]
        assert "exchange_rate" not in invoice
        rate = Decimal(loaded[(zoho_bill.currency_code, base, zoho_bill.date.isoformat())]["rate"])
        day = (zoho_bill.currency_code, zoho_bill.date)
        same_day = {b.exchange_rate for b in foreign if (b.currency_code, b.date) == day}
        assert rate in same_day  # the first bill of the day's rate (one row per day)
        exceptions = [f.description for f in live.servicenow.lifecycle.exceptions.findings(invoice)]
        assert not any("Exchange rate" in text for text in exceptions), exceptions
    staged_rows = live.servicenow.table(FX_RATE_TABLE)
    assert len(staged_rows) == len(wanted)  # one row per (from, to, date) within the run

    # a full re-run re-reads every bill: nothing staged twice, no second rate
    await service.run(profile_id, mode="full")
    assert len(live.servicenow.table("sn_fin_fx_rate")) == len(wanted)
    assert Counter(r["u_conversion_date"] for r in live.servicenow.table(FX_RATE_TABLE)) == Counter(
        r["u_conversion_date"] for r in staged_rows
    )


async def test_an_invoice_without_a_rate_for_its_date_gets_the_exception(
    sqlite_engine: sa.Engine, live: Sandboxes, factories: ClientFactories
) -> None:
    profile_id = create_profile(sqlite_engine, live.endpoints)
    await EngineService(sqlite_engine, factories.zoho, factories.servicenow).run(profile_id)
    seeded = company()
    base = seeded.organization.currency_code
    target = next(b for b in Expected(seeded).good_bills if b.currency_code != base)
    invoices = live.servicenow.table("sn_shop_invoice")
    invoice = next(r for r in invoices if r["external_invoice_number"] == key(target.bill_id))
    engine = live.servicenow.lifecycle.exceptions
    assert not any("Exchange rate" in f.description for f in engine.findings(invoice))
    with live.servicenow.db.lock:
        for rate in live.servicenow.table("sn_fin_fx_rate"):
            if rate["conversion_date"] == target.date.isoformat():
                live.servicenow.db.delete("sn_fin_fx_rate", rate["sys_id"])
    found = [f for f in engine.findings(invoice) if f.definition == "Missing required information"]
    assert len(found) == 1
    wanted = f"Exchange rate {target.currency_code} to {base} on {target.date.isoformat()}"
    assert wanted in found[0].description


async def test_an_instance_without_fx_rate_staging_fails_only_the_foreign_bills(
    sqlite_engine: sa.Engine, live: Sandboxes, factories: ClientFactories
) -> None:
    """FX rate staging is another store app than invoice staging: its absence is no reason to refuse a run of
    bills in the base currency, only the foreign ones fail (with the reason) and are replayed later."""
    profile_id = create_profile(sqlite_engine, live.endpoints)
    service = EngineService(sqlite_engine, factories.zoho, factories.servicenow)
    live.servicenow.remove_transform_map(FX_RATE_TABLE)
    try:
        summary = await service.run(profile_id)
    finally:
        live.servicenow.restore_transform_map(FX_RATE_TABLE)
    assert summary.status == RunStatus.COMPLETED_WITH_FAILURES, summary.message

    seeded = company()
    base = seeded.organization.currency_code
    good = Expected(seeded).good_bills
    foreign = {b.bill_id for b in good if b.currency_code != base}
    home = {b.bill_id for b in good if b.currency_code == base}
    assert foreign
    assert home
    staged = {r["external_invoice_number"] for r in live.servicenow.table("sn_shop_invoice")}
    assert {key(b) for b in home} <= staged
    assert not {key(b) for b in foreign} & staged
    assert live.servicenow.table(FX_RATE_TABLE) == []
    with session_scope(sqlite_engine) as session:
        rows = session.exec(select(AuditRecord).where(col(AuditRecord.zoho_id).in_(foreign))).all()
        failed = {(r.zoho_id, r.status, r.error_code) for r in rows}
        messages = [r.error_message or "" for r in rows]
    assert failed == {(b, AuditStatus.FAILED, ErrorCode.FX_STAGING_UNAVAILABLE) for b in foreign}
    assert all("no active transform map reads sn_fcms_intg_fx_rate_stage" in m for m in messages), messages[0]

    # the map back in place, a replay of the failed records stages them with their rates
    replayed = await service.replay(profile_id)  # every failed record
    assert replayed.status in (RunStatus.SUCCEEDED, RunStatus.COMPLETED_WITH_FAILURES)
    staged = {r["external_invoice_number"] for r in live.servicenow.table("sn_shop_invoice")}
    assert {key(b) for b in foreign} <= staged
    assert live.servicenow.table(FX_RATE_TABLE)
