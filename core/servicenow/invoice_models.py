"""What zbsn reads about an invoice after staging: state, open exceptions, import errors, outbound posting.

Table and column names come from the Source-to-Pay pages of ServiceNowDocs (see the client module
`invoice_followup.py` and the sandbox's schema for which are confirmed and which are inferred [I]).
Values arrive as strings; amounts are read from FX Currency fields by dot-walking (`invoice_amount.amount`,
`invoice_amount.currency`), so they never depend on the reading user's locale.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class _Model(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


class InvoiceState:
    """Stored values of `sn_shop_invoice.state` (invoice-status.md; Draft and Canceled are [I])."""

    DRAFT = "draft"
    EXCEPTIONS_FOUND = "exceptions_found"
    PENDING_APPROVAL = "pending_approval"
    APPROVED = "approved"
    PENDING_PAYMENT = "pending_payment"
    PAID = "paid"
    CANCELED = "canceled"


class IntegrationStatus:
    """`sn_spend_intg_outbound_invoice.integration_status` values ([I]; labels New, In progress, Processed,
    error are documented in working-with-outbound-invoice.md and integration-errors-in-staging-tables.md)."""

    NEW = "new"
    IN_PROGRESS = "in_progress"
    PROCESSED = "processed"
    ERROR = "error"


class SNInvoiceStatus(_Model):
    """`sn_shop_invoice` as the AP team sees it now."""

    sys_id: str
    number: str | None = None
    state: str | None = None
    external_invoice_number: str | None = None
    erp_number: str | None = None
    erp_posting_date: str | None = None
    amount: Decimal | None = None  # invoice_amount.amount
    currency: str | None = None  # invoice_amount.currency (ISO code)
    amount_paid: Decimal | None = None
    updated_on: str | None = None


class SNInvoiceException(_Model):
    """An open exception of an invoice (`sn_ap_apm_exception`, or `sn_ap_apm_line_exception` for a line)."""

    sys_id: str
    invoice_sys_id: str
    level: Literal["header", "line"]
    number: str | None = None
    state: str | None = None
    definition: str | None = None  # the exception definition's display value, e.g. "Valid coding required"
    short_description: str | None = None
    description: str | None = None
    invoice_line_sys_id: str | None = None
    line_number: str | None = None  # the invoice line's ERP line number


class SNImportError(_Model):
    """A transform error of one of the invoice's staging rows (`sn_spend_intg_import_error`)."""

    sys_id: str
    invoice_sys_id: str
    error_message: str | None = None
    source_table: str | None = None
    supplier_invoice_number: str | None = None
    supplier_invoice_line_number: str | None = None
    created_on: str | None = None


class SNOutboundInvoice(_Model):
    """The invoice's copy in `sn_spend_intg_outbound_invoice`: its posting to the ERP."""

    sys_id: str
    invoice_sys_id: str
    number: str | None = None
    integration_status: str | None = None
    processing_message: str | None = None
    erp_number: str | None = None
    erp_posting_date: str | None = None
    invoice_status: str | None = None
    created_on: str | None = None


class InvoiceFollowUp(_Model):
    """Everything read about one staged invoice in one refresh. `status` is None when the invoice is gone."""

    invoice_sys_id: str
    status: SNInvoiceStatus | None = None
    exceptions: list[SNInvoiceException] = Field(default_factory=list)
    import_errors: list[SNImportError] = Field(default_factory=list)
    outbound: list[SNOutboundInvoice] = Field(default_factory=list)  # oldest first

    @property
    def latest_outbound(self) -> SNOutboundInvoice | None:
        """The newest outbound record ("Send to ERP" again creates a new one)."""
        return self.outbound[-1] if self.outbound else None

    @property
    def outbound_to_post(self) -> SNOutboundInvoice | None:
        """The outbound record waiting for the ERP side (New), if any."""
        latest = self.latest_outbound
        return latest if latest is not None and latest.integration_status == IntegrationStatus.NEW else None
