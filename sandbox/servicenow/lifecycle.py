"""What happens to an invoice after staging: processing, approval, posting to the ERP, payment.

Sources (ServiceNowDocs, Source-to-Pay operations):
- create-invoice-using-integration.md [C]: an imported invoice starts in Draft; a scheduled job every 30
minutes   moves invoices with their required fields and no exceptions on (to Approved in the docs; here to
Pending   approval unless `auto_approve`, so a run's invoices wait for the AP team [I]).
- work-with-invoice-exceptions.md [C]: the exception engine (exceptions.py); an invoice with open exceptions
  is in Exceptions found.
- working-with-outbound-invoice.md, integration-errors-in-staging-tables.md, integration-errors-during-erp-
  posting.md [C]: an approved invoice is copied to `sn_spend_intg_outbound_invoice` with Integration status
  New; the ERP side sets In progress, then Processed with the ERP number and posting date (the invoice moves
  to Pending payment), or error with a Processing message (the invoice case shows ERP integration status
  Failed); "Send to ERP" creates a new outbound record.
- invoice-payment-detail-staging-table.md [C]: a payment posted against an invoice moves it to Paid
  (transforms.py, `_after_payment`).

States (`sn_shop_invoice.state`): draft -> exceptions_found | pending_approval -> approved -> pending_payment
-> paid; canceled through staging. Stored values of Draft and Canceled are [I]; the others are [C].
Outbound integration status values new | in_progress | processed | error are [I] (labels [C]).
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from .config import ServiceNowSandboxConfig
from .exceptions import BYPASSED, OPEN, RESOLVED, ExceptionEngine
from .state import Database, Record

INVOICE = "sn_shop_invoice"
OUTBOUND = "sn_spend_intg_outbound_invoice"
PROCESSABLE = frozenset({"draft", "exceptions_found"})
INTEGRATION_STATUSES = frozenset({"new", "in_progress", "processed", "error"})


class LifecycleError(ValueError):
    """An AP action that does not apply to the record in its current state."""


class InvoiceLifecycle:
    """The invoice states after staging and the outbound posting (caller holds `db.lock`)."""

    def __init__(self, db: Database, config: ServiceNowSandboxConfig) -> None:
        self.db = db
        self.config = config
        self.exceptions = ExceptionEngine(db)

    # --- the scheduled job ---------------------------------------------------------------------------------
    def run_processing(self) -> dict[str, int]:
        """One run of the scheduled job: every Draft or Exceptions-found invoice, checked and moved on."""
        moved: Counter[str] = Counter()
        for invoice in [r for r in self.db.records(INVOICE) if r["state"] in PROCESSABLE]:
            moved[self._process(invoice)] += 1
        return {"processed": sum(moved.values()), **dict(moved)}

    def validate(self, invoice_sys_id: str) -> Record:
        """Run the exception engine on one invoice now (the AP team's "check for exceptions") and move it
        on."""
        invoice = self._invoice(invoice_sys_id)
        if invoice["state"] in PROCESSABLE or invoice["state"] == "pending_approval":
            self._process(invoice)
        else:
            self.exceptions.evaluate(invoice)
        return self.db.get(INVOICE, invoice_sys_id) or invoice

    def _process(self, invoice: Record) -> str:
        if self.exceptions.evaluate(invoice):
            state = "exceptions_found"
        elif self.config.auto_approve:
            return self._approve(invoice)
        else:
            state = "pending_approval"
        self.db.update(INVOICE, invoice["sys_id"], {"state": state})
        return state

    # --- AP actions ----------------------------------------------------------------------------------------
    def approve(self, invoice_sys_id: str) -> Record:
        """Approve an invoice awaiting approval (a Draft one is checked first); refused with open
        exceptions."""
        invoice = self._invoice(invoice_sys_id)
        if invoice["state"] in PROCESSABLE:
            self._process(invoice)
            invoice = self._invoice(invoice_sys_id)
        if invoice["state"] == "exceptions_found":
            count = self.exceptions.open_count(invoice_sys_id)
            raise LifecycleError(f"invoice {invoice['number']} has {count} open exception(s)")
        if invoice["state"] != "pending_approval":
            raise LifecycleError(f"invoice {invoice['number']} is {invoice['state']}, not pending approval")
        self._approve(invoice)
        return self._invoice(invoice_sys_id)

    def _approve(self, invoice: Record) -> str:
        self.db.update(INVOICE, invoice["sys_id"], {"state": "approved"})
        self.send_to_erp(invoice["sys_id"])
        return "approved"

    def send_to_erp(self, invoice_sys_id: str) -> Record:
        """Copy an approved invoice to the outbound table with Integration status New (a new record each
        time)."""
        invoice = self._invoice(invoice_sys_id)
        if invoice["state"] != "approved":
            raise LifecycleError(f"invoice {invoice['number']} is {invoice['state']}, not approved")
        currency = self.db.get("fx_currency", invoice["currency"]) if invoice["currency"] else None
        return self.db.insert(
            OUTBOUND,
            {
                "number": invoice["number"],
                "invoice": invoice["sys_id"],
                "invoice_status": "approved",
                "integration_status": "new",
                "erp_source": self.db.display_value("sn_fin_erp_source", invoice["erp_source"]),
                "invoice_type": invoice["type"],
                "supplier": invoice["supplier"],
                "supplier_invoice_number": invoice["supplier_invoice_number"],
                "legal_entity": invoice["legal_entity"],
                "invoice_date": invoice["invoice_date"],
                "payment_terms": invoice["payment_terms"],
                "currency": currency["code"] if currency else "",
                "subtotal": invoice["subtotal"],
                "tax_amount": invoice["tax_amount"],
                "shipping_amount": invoice["shipping"],
                "other_charges": invoice["other_charges"],
                "discounts": invoice["discounts"],
                "amount_invoiced": invoice["invoice_amount"],
            },
        )

    def resolve_exception(self, table: str, exception_sys_id: str, bypass_reason: str = "") -> Record:
        """Mark an exception resolved (checked again at once) or, with a reason, bypassed (never
        re-raised)."""
        record = self.db.get(table, exception_sys_id) if table.startswith("sn_ap_apm_") else None
        if record is None or "exception_definition" not in record:
            raise LifecycleError(f"no exception {exception_sys_id} in {table}")
        if bypass_reason:
            self.db.update(table, exception_sys_id, {"state": BYPASSED, "bypass_reason": bypass_reason})
        else:
            self.db.update(table, exception_sys_id, {"state": RESOLVED})
        self.validate(record["invoice"])
        return self.db.get(table, exception_sys_id) or record

    # --- outbound updates over the Table API ----------------------------------------------------------------
    def check_update(self, table: str, record: Record, values: dict[str, Any]) -> str | None:
        """A data-policy refusal of an update, or None ([I]: Processed needs an ERP number)."""
        if table != OUTBOUND or str(values.get("integration_status", "")) != "processed":
            return None
        erp_number = str(values.get("erp_number", record.get("erp_number", "")) or "")
        if not erp_number.strip():
            return "Data Policy Exception: \n\tThe following fields are mandatory: ERP number"
        return None

    def after_update(self, table: str, before: Record, after: Record) -> None:
        """Move the invoice when its outbound record's integration status changes."""
        if table != OUTBOUND or before.get("integration_status") == after.get("integration_status"):
            return
        invoice = self.db.get(INVOICE, after.get("invoice", ""))
        if invoice is None:
            return
        status = after["integration_status"]
        if status == "processed":
            changes = {
                "erp_number": after["erp_number"],
                "erp_posting_date": after["erp_posting_date"],
                "erp_integration_status": "processed",
            }
            if invoice["state"] == "approved":
                changes["state"] = "pending_payment"
            self.db.update(INVOICE, invoice["sys_id"], changes)
            self.db.update(
                OUTBOUND, after["sys_id"], {"invoice_status": self._invoice(invoice["sys_id"])["state"]}
            )
        elif status == "error":
            self.db.update(INVOICE, invoice["sys_id"], {"erp_integration_status": "failed"})
        elif status == "in_progress":
            self.db.update(INVOICE, invoice["sys_id"], {"erp_integration_status": "in_progress"})

    def _invoice(self, sys_id: str) -> Record:
        invoice = self.db.get(INVOICE, sys_id)
        if invoice is None:
            raise LifecycleError(f"no invoice {sys_id}")
        return invoice


__all__ = ["INTEGRATION_STATUSES", "OPEN", "InvoiceLifecycle", "LifecycleError"]
