"""Fixtures for integration tests: a real ServiceNow sandbox on a loopback socket, and clients of it."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest

from zbsn.core.clock import OffsetClock
from zbsn.core.servicenow.auth import ServiceNowAuth
from zbsn.core.servicenow.client import ServiceNowClient
from zbsn.core.servicenow.models import StagingRow
from zbsn.core.servicenow.requester import RetryPolicy
from zbsn.core.tokens import MemoryTokenStore
from zbsn.sandbox.company import Company
from zbsn.sandbox.company_generator import generate_company
from zbsn.sandbox.servicenow import (
    DEMO_CLIENT_ID,
    DEMO_CLIENT_SECRET,
    ServiceNowSandbox,
    create_servicenow_sandbox,
)

INVOICE = "sn_spend_intg_imp_invoice"
LINE = "sn_spend_intg_imp_invoice_line"
TAX_LINE = "sn_spend_intg_imp_invoice_tax_line"
PAYMENT = "sn_spend_intg_imp_invoice_payment_detail"
ERP_SOURCE = "Zoho Books"
FAST_RETRY = RetryPolicy(attempts=8, wait_initial_s=0.01, wait_max_s=0.05, wait_jitter_s=0.01)


@pytest.fixture(scope="session")
def company() -> Company:
    """The deterministic demo company (master data is what matters here)."""
    return generate_company(seed=7, bills=5)


@pytest.fixture
def sandbox(company: Company) -> Iterator[ServiceNowSandbox]:
    """A fresh instance per test, served over a real loopback socket."""
    instance = create_servicenow_sandbox(company, clock=OffsetClock()).start()
    try:
        yield instance
    finally:
        instance.stop()


@dataclass
class Harness:
    """A client of the sandbox with its own clock; `sleep` advances both clocks instead of waiting."""

    sandbox: ServiceNowSandbox
    clock: OffsetClock = field(default_factory=OffsetClock)
    store: MemoryTokenStore = field(default_factory=MemoryTokenStore)
    sleeps: list[float] = field(default_factory=list)

    def advance(self, seconds: float) -> None:
        """Move the instance and the client clocks together."""
        self.sandbox.advance_clock(seconds)
        self.clock.advance(seconds)

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.advance(seconds)

    def client(self, **options: Any) -> ServiceNowClient:
        """A client over real sockets; options go to ServiceNowClient."""
        auth = ServiceNowAuth(self.sandbox.url, DEMO_CLIENT_ID, DEMO_CLIENT_SECRET, self.store, self.clock)
        options.setdefault("retry", FAST_RETRY)
        options.setdefault("poll_interval_s", 0.02)
        options.setdefault("poll_timeout_s", 10)
        return ServiceNowClient(self.sandbox.url, auth, sleep=self.sleep, **options)


@pytest.fixture
def harness(sandbox: ServiceNowSandbox) -> Harness:
    """A client harness on the fresh sandbox."""
    return Harness(sandbox)


@pytest.fixture
def invoice_rows(company: Company) -> Callable[..., list[StagingRow]]:
    """Builds header (and optionally line) rows for `count` invoices from the company's real masters."""
    vendors = [v for v in company.vendors if v.exists_in_servicenow]
    centers = [c for c in company.cost_centers if c.exists_in_servicenow]
    accounts = [a for a in company.accounts if a.exists_in_servicenow and a.account_type == "expense"]

    def build(count: int, *, prefix: str = "INV", lines: bool = False) -> list[StagingRow]:
        headers: list[StagingRow] = []
        line_rows: list[StagingRow] = []
        for i in range(count):
            number = f"{prefix}-{i:05d}"
            vendor = vendors[i % len(vendors)]
            headers.append(
                StagingRow(
                    table=INVOICE,
                    source_ref=f"bill:{number}",
                    values={
                        "u_external_invoice_number": number,
                        "u_erp_source": ERP_SOURCE,
                        "u_supplier_invoice_number": f"S-{number}",
                        "u_supplier": vendor.supplier_code,
                        "u_invoice_date": "2026-10-01",
                        "u_currency": vendor.currency_code,
                        "u_subtotal": "100.00",
                        "u_shipping_amount": "0",
                        "u_legal_entity": company.legal_entity.company_code,
                    },
                )
            )
            if lines:
                line_rows.append(
                    StagingRow(
                        table=LINE,
                        source_ref=f"line:{number}:1",
                        values={
                            "u_external_invoice_number": number,
                            "u_erp_source": ERP_SOURCE,
                            "u_erp_line_number": "1",
                            "u_line_description": "Consulting",
                            "u_line_quantity": "1",
                            "u_line_unit_price": "100.00",
                            "u_subtotal": "100.00",
                            "u_cost_center": centers[i % len(centers)].account_number,
                            "u_gl_account": accounts[i % len(accounts)].code,
                        },
                    )
                )
        return headers + line_rows

    return build
