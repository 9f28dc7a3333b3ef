"""What the engine needs from Zoho Books and ServiceNow (satisfied by the real clients and by test fakes),
and the profile settings a run works with.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any, Protocol

from zbsn.core.servicenow.invoice_models import InvoiceFollowUp, SNOutboundInvoice
from zbsn.core.servicenow.models import (
    SNCostCenter,
    SNGLAccount,
    SNLegalEntity,
    SNSupplier,
    StagingOutcome,
    StagingRow,
)
from zbsn.core.servicenow.preflight_report import PreflightReport
from zbsn.core.servicenow.query import EncodedQuery
from zbsn.core.zoho.models import (
    RecordError,
    ZohoAccount,
    ZohoBill,
    ZohoBillSummary,
    ZohoLocation,
    ZohoOrganization,
    ZohoReportingTag,
    ZohoVendor,
    ZohoVendorPayment,
)


class ZohoSource(Protocol):
    """The read side: one Zoho Books organization."""

    @property
    def request_count(self) -> int:
        """Requests sent so far (the run's `zoho_requests` counter)."""
        ...

    async def get_organization(self) -> ZohoOrganization | RecordError: ...

    def iter_bills(
        self, modified_since: str | None = None, date_start: date | None = None, date_end: date | None = None
    ) -> AsyncIterator[ZohoBillSummary | RecordError]: ...

    async def get_bill(self, bill_id: str) -> ZohoBill | RecordError: ...

    def iter_vendors(self) -> AsyncIterator[ZohoVendor | RecordError]: ...

    async def get_vendor(self, vendor_id: str) -> ZohoVendor | RecordError: ...

    def iter_vendor_payments(
        self, modified_since: str | None = None
    ) -> AsyncIterator[ZohoVendorPayment | RecordError]: ...

    async def get_vendor_payment(self, payment_id: str) -> ZohoVendorPayment | RecordError: ...

    async def list_accounts(self) -> list[ZohoAccount | RecordError]: ...

    async def list_reporting_tags(self) -> list[ZohoReportingTag | RecordError]: ...

    async def list_locations(self) -> list[ZohoLocation | RecordError]: ...


class ServiceNowTarget(Protocol):
    """The write side: one ServiceNow instance (checked before staging, masters read, staging tables written,
    staged invoices followed and, as the ERP, their outbound records posted)."""

    @property
    def request_count(self) -> int:
        """Requests sent so far (the run's `servicenow_requests` counter)."""
        ...

    async def list_cost_centers(self) -> list[SNCostCenter]: ...

    async def list_gl_accounts(self) -> list[SNGLAccount]: ...

    async def list_suppliers(self) -> list[SNSupplier]: ...

    async def list_legal_entities(self) -> list[SNLegalEntity]: ...

    async def get_records(
        self, table: str, query: EncodedQuery, fields: Sequence[str], limit: int | None = None
    ) -> list[dict[str, Any]]: ...

    async def stage(self, rows: Sequence[StagingRow]) -> list[StagingOutcome]: ...

    async def preflight(
        self, tables: Sequence[str], written: Mapping[str, Iterable[str]] | None = None
    ) -> PreflightReport: ...

    def apply_preflight(self, report: PreflightReport) -> None: ...

    async def follow_invoices(self, invoice_sys_ids: Iterable[str]) -> dict[str, InvoiceFollowUp]: ...

    async def mark_outbound_processed(
        self, outbound_sys_id: str, erp_number: str, posting_date: date
    ) -> SNOutboundInvoice: ...


@dataclass(frozen=True, slots=True)
class RunContext:
    """One profile's settings, resolved for a run (the org's id and time zone included)."""

    profile_id: int
    organization_id: str
    time_zone: str = "UTC"
    base_currency: str | None = None
    cost_center_source: str = "reporting_tag"  # "reporting_tag" | "location"
    cost_center_tag_name: str = "Cost Center"
    allow_supplier_create: bool = False
    erp_source: str = "Zoho Books"
    legal_entity: str | None = None
    overlap_seconds: int = 300
    full_sweep_hours: int = 24
    post_outbound_as_erp: bool = True  # Zoho Books is the ERP: zbsn posts the outbound invoices it staged
    # the Zoho bill statuses staged (bill_lifecycle.APPROVED_BILL_STATUSES); any other waits for approval
    stage_bill_statuses: tuple[str, ...] = ("open", "overdue", "partially_paid", "paid")
    # Zoho payment_terms_label -> ServiceNow payment term name (payment_terms.py); overrides, as pairs
    payment_terms_overrides: tuple[tuple[str, str], ...] = ()
    # the invoices' business owner (a ServiceNow user name or email), and per cost center overrides as pairs
    # (Zoho cost center name or ServiceNow account number -> user); business_owner.py
    business_owner: str | None = None
    cost_center_owners: tuple[tuple[str, str], ...] = ()
