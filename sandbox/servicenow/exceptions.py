"""The exception engine of Accounts Payable Invoice Processing, for the rules zbsn's invoices can trip.

Source: work-with-invoice-exceptions.md (ServiceNowDocs, Source-to-Pay operations) [C] for the definitions and
their conditions; exception-form-fields.md [C] for the record's fields. Modelled here:
- "Missing required information" (header): payment terms, invoice type, supplier, invoice amount, invoice date
  or legal entity missing; [I] also an invoice in a currency other than its legal entity's local currency
  with no FX rate (`sn_fin_fx_rate`, loaded through FX Rate Stage) for its date: the amounts cannot be
  converted (the docs name no exception for it; this is the sandbox's reading);
- "Invalid or blocked supplier" (header): no supplier, no `sn_fin_supplier_detail` row for the invoice's
  supplier and legal entity, Hold Payment or Hold Posting set, or the supplier inactive [I];
- "Invoice isn't balanced" (header): the lines' subtotals do not sum to the header subtotal (a cent per line
  of tolerance [I]) - what an invoice whose line failed staging shows;
- "Valid coding required" (line): a line without a ledger account or cost center;
- "Missing or invalid business owner" (header): the business owner is missing or inactive [C]; the sandbox
  seeds this definition inactive [I] (whether it is active out of the box is not documented, and a profile
  without a business owner would otherwise meet it on every invoice): `set_exception_active` turns it on.
Records: `sn_ap_apm_exception` (header) and `sn_ap_apm_line_exception` (line) with number, state, exception
definition (a reference to `sn_ap_apm_exception_definition`), invoice, [invoice line], short description and
description. States open | resolved | bypassed are [I]. Evaluating an invoice again resolves exceptions whose
condition no longer holds, re-opens resolved ones whose condition still holds, and leaves bypassed ones alone.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from .fx import invoice_rate, local_currency
from .state import Database, Record

OPEN, RESOLVED, BYPASSED = "open", "resolved", "bypassed"
HEADER_TABLE = "sn_ap_apm_exception"
LINE_TABLE = "sn_ap_apm_line_exception"
DEFINITION_TABLE = "sn_ap_apm_exception_definition"

MISSING_INFORMATION = "Missing required information"
BLOCKED_SUPPLIER = "Invalid or blocked supplier"
NOT_BALANCED = "Invoice isn't balanced"
VALID_CODING = "Valid coding required"
BUSINESS_OWNER = "Missing or invalid business owner"
DEFINITIONS: dict[str, str] = {  # name -> level
    MISSING_INFORMATION: "header",
    BLOCKED_SUPPLIER: "header",
    NOT_BALANCED: "header",
    VALID_CODING: "line",
    BUSINESS_OWNER: "header",
}
INACTIVE_BY_DEFAULT = frozenset({BUSINESS_OWNER})  # [I] see the module docstring
REQUIRED_FIELDS = {
    "payment_terms": "Payment terms",
    "type": "Invoice type",
    "supplier": "Supplier",
    "invoice_amount": "Invoice amount",
    "invoice_date": "Invoice date",
    "legal_entity": "Legal entity",
}


@dataclass(frozen=True, slots=True)
class Finding:
    """One exception condition that holds for an invoice (or one of its lines)."""

    definition: str
    description: str
    line: str = ""  # the invoice line's sys_id for a line exception


def seed_definitions(db: Database) -> None:
    """Create the exception definitions the engine raises."""
    for name, level in DEFINITIONS.items():
        active = "false" if name in INACTIVE_BY_DEFAULT else "true"
        db.insert(
            DEFINITION_TABLE, {"name": name, "level": level, "short_description": name, "active": active}
        )


def _decimal(text: str) -> Decimal:
    try:
        return Decimal(text) if text else Decimal(0)
    except InvalidOperation:
        return Decimal(0)


class ExceptionEngine:
    """Finds the exceptions of an invoice and keeps its exception records in step (caller holds the lock)."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def findings(self, invoice: Record) -> list[Finding]:
        """Every exception condition that holds for `invoice` now."""
        found: list[Finding] = []
        missing = [label for column, label in REQUIRED_FIELDS.items() if not invoice.get(column, "")]
        missing += self._missing_rate(invoice)
        if missing:
            found.append(Finding(MISSING_INFORMATION, f"The invoice is missing: {', '.join(missing)}."))
        supplier_problem = self._supplier_problem(invoice)
        if supplier_problem:
            found.append(Finding(BLOCKED_SUPPLIER, supplier_problem))
        owner_problem = self._owner_problem(invoice) if self._active(BUSINESS_OWNER) else ""
        if owner_problem:
            found.append(Finding(BUSINESS_OWNER, owner_problem))
        lines = [
            line
            for line in self.db.find_all("sn_shop_invoice_line", invoice=invoice["sys_id"])
            if line["invoice"] == invoice["sys_id"]
        ]
        total = sum((_decimal(line["sub_total"]) for line in lines), Decimal(0))
        subtotal = _decimal(invoice.get("subtotal", ""))
        if abs(total - subtotal) > Decimal("0.01") * max(1, len(lines)):
            found.append(
                Finding(
                    NOT_BALANCED,
                    f"The lines' subtotals ({total}) do not add up to the invoice subtotal ({subtotal}).",
                )
            )
        for line in lines:
            gaps = [
                label
                for column, label in (("ledger_account", "ledger account"), ("cost_center", "cost center"))
                if not line[column]
            ]
            if gaps:
                number = line["erp_line_number"] or line["number"]
                found.append(
                    Finding(VALID_CODING, f"Line {number} has no {' and no '.join(gaps)}.", line["sys_id"])
                )
        return found

    def _missing_rate(self, invoice: Record) -> list[str]:
        """`Exchange rate <from> to <to> on <date>` when a foreign-currency invoice has no rate then."""
        currency = self.db.get("fx_currency", invoice["currency"]) if invoice.get("currency") else None
        local = local_currency(self.db, invoice)
        code = currency["code"] if currency else ""
        if not code or not local or code == local or not invoice.get("invoice_date"):
            return []
        if invoice_rate(self.db, invoice) is not None:
            return []
        return [f"Exchange rate {code} to {local} on {invoice['invoice_date']}"]

    def _active(self, definition: str) -> bool:
        record = self.db.find(DEFINITION_TABLE, name=definition)
        return record is not None and record.get("active", "true") != "false"

    def _owner_problem(self, invoice: Record) -> str:
        """Why the invoice's business owner is missing or invalid ("" when it is an active user)."""
        owner = invoice.get("business_owner", "")
        if not owner:
            return "The invoice has no business owner."
        user = self.db.get("sys_user", owner)
        if user is None:
            return f"Business owner {owner} is not a user."
        if user.get("active") == "false":
            return f"Business owner {user['name'] or user['user_name']} is inactive."
        return ""

    def _supplier_problem(self, invoice: Record) -> str:
        supplier_id, entity_id = invoice.get("supplier", ""), invoice.get("legal_entity", "")
        if not supplier_id:
            return "The invoice has no supplier."
        supplier = self.db.get("sn_fin_supplier", supplier_id)
        name = supplier["name"] if supplier else supplier_id
        if supplier is not None and supplier.get("active") == "false":
            return f"Supplier {name} is inactive."
        if not entity_id:
            return f"Supplier {name} has no legal entity on this invoice."
        detail = self.db.find("sn_fin_supplier_detail", supplier=supplier_id, legal_entity=entity_id)
        entity = self.db.display_value("sn_fin_legal_entity", entity_id) or entity_id
        if detail is None:
            return f"No supplier legal entity mapping for {name} and {entity}."
        if detail.get("hold_payment") == "true":
            return f"Hold payment is set for {name} and {entity}."
        if detail.get("hold_posting") == "true":
            return f"Hold posting is set for {name} and {entity}."
        return ""

    def evaluate(self, invoice: Record) -> int:
        """Bring `invoice`'s exception records in step with its findings; the number left open."""
        findings = {(f.definition, f.line): f for f in self.findings(invoice)}
        existing = self.records_of(invoice["sys_id"])
        seen: set[tuple[str, str]] = set()
        open_count = 0
        for table, record in existing:
            name = self.db.display_value(DEFINITION_TABLE, record["exception_definition"])
            key = (name, record.get("invoice_line", ""))
            if key in seen:
                continue
            seen.add(key)
            finding = findings.get(key)
            if record["state"] == BYPASSED:
                continue
            if finding is None:
                if record["state"] == OPEN:
                    self.db.update(table, record["sys_id"], {"state": RESOLVED})
                continue
            self.db.update(table, record["sys_id"], {"state": OPEN, "description": finding.description})
            open_count += 1
        for key, finding in findings.items():
            if key in seen:
                continue
            self._raise(invoice, finding)
            open_count += 1
        return open_count

    def records_of(self, invoice_sys_id: str) -> list[tuple[str, Record]]:
        """The header and line exception records of an invoice, with their table."""
        return [
            (table, record)
            for table in (HEADER_TABLE, LINE_TABLE)
            for record in self.db.find_all(table, invoice=invoice_sys_id)
            if record["invoice"] == invoice_sys_id
        ]

    def open_count(self, invoice_sys_id: str) -> int:
        """How many exceptions of an invoice are open."""
        return sum(1 for _table, record in self.records_of(invoice_sys_id) if record["state"] == OPEN)

    def _raise(self, invoice: Record, finding: Finding) -> None:
        definition = self.db.find(DEFINITION_TABLE, name=finding.definition)
        values = {
            "state": OPEN,
            "exception_definition": definition["sys_id"] if definition else "",
            "invoice": invoice["sys_id"],
            "short_description": finding.definition,
            "description": finding.description,
        }
        if finding.line:
            self.db.insert(LINE_TABLE, {**values, "invoice_line": finding.line})
        else:
            self.db.insert(HEADER_TABLE, values)
