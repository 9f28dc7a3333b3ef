"""The exchange rate travels in its own column: transform -> insertMultiple by label -> sn_shop_invoice."""

from __future__ import annotations

from decimal import Decimal

import sqlalchemy as sa

from zbsn.core.engine.columns import EXCHANGE_RATE, INVOICE_TABLE
from zbsn.core.engine.service import EngineService
from zbsn.core.engine.transform import bill_to_invoice
from zbsn.core.servicenow.labels import DEFAULT_LABELS

from .conftest import Sandboxes, company
from .expectations import Expected, key
from .harness import ClientFactories, create_profile
from .test_transform import CONTEXT, bill, index


def test_foreign_bill_header_carries_its_rate_and_base_currency_bill_rate_one() -> None:
    foreign = bill_to_invoice(bill(exchange_rate="1.17250"), CONTEXT, index())
    assert foreign.rows[0].values[EXCHANGE_RATE] == "1.1725"
    home = bill_to_invoice(bill(currency_code="GBP", exchange_rate=1), CONTEXT, index())
    assert home.rows[0].values[EXCHANGE_RATE] == "1"
    unknown = bill_to_invoice(bill(exchange_rate=None), CONTEXT, index())
    assert unknown.rows[0].values[EXCHANGE_RATE] == ""  # empty never overwrites in staging
    assert DEFAULT_LABELS[INVOICE_TABLE][EXCHANGE_RATE] == "Exchange rate"


async def test_foreign_currency_invoices_carry_their_rate_in_servicenow(
    engine: sa.Engine, live: Sandboxes, factories: ClientFactories
) -> None:
    profile_id = create_profile(engine, live.endpoints)
    await EngineService(engine, factories.zoho, factories.servicenow).run(profile_id)

    base = company().organization.currency_code
    staged = {r["external_invoice_number"]: r for r in live.servicenow.table("sn_shop_invoice")}
    foreign = [b for b in Expected(company()).good_bills if b.currency_code != base]
    assert foreign, "the seeded company has foreign-currency bills"
    for zoho_bill in foreign:
        invoice = staged[key(zoho_bill.bill_id)]
        assert Decimal(invoice["exchange_rate"]) == zoho_bill.exchange_rate != 1
        assert "rate" not in invoice["short_description"]
