"""Zoho bills to ServiceNow invoice staging rows, with validation of everything a row needs (payments are
in `transform_payments`, vendors in `transform_suppliers`, the values they share in `staging_values`).

A bill becomes one invoice header, one row per line (with its cost center account number and GL number) and
one tax row per tax on a line (one per component of a tax group). Amounts are Zoho's own (`bill_amounts`):
its sub_total and tax_total, its adjustment as other charges (always sent), its discount as discounts; the
payment terms are Zoho's label or the profile's override (`payment_terms`). Amounts stay in the document
currency; a foreign-currency bill carries, after its header, the FX rate row staged before it (`fx_rates`;
the rate is also kept in the audit payload); dates are the org's local dates. A record with a problem is
never sent: `problems` says what is missing.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from zbsn.core.engine import columns as col
from zbsn.core.engine.bill_amounts import LineAmounts, TaxPart, header_amounts, line_amounts
from zbsn.core.engine.business_owner import bill_owner, owner_key
from zbsn.core.engine.fx_rates import describe_rate, fx_rate_row, fx_staging_blocked, missing_rate
from zbsn.core.engine.mapping_index import MappedRef, MappingIndex
from zbsn.core.engine.payment_terms import servicenow_payment_term
from zbsn.core.engine.ports import RunContext
from zbsn.core.engine.problems import ErrorCode, Problem
from zbsn.core.engine.staging_values import (
    check_currency,
    dedupe,
    local_date,
    money,
    plain,
    supplier_ref,
)
from zbsn.core.engine.supplier_legal_entity import bill_mapping
from zbsn.core.servicenow.models import StagingRow
from zbsn.core.zoho.models import ZohoBill, ZohoBillLine


@dataclass(frozen=True, slots=True)
class LinePreview:
    """One invoice line as it would be staged."""

    line_id: str
    description: str | None
    amount: Decimal
    tax: Decimal
    cost_center: str | None  # Zoho name
    cost_center_number: str | None  # cmn_cost_center account number (None: missing)
    gl_account: str | None  # Zoho account name
    gl_number: str | None  # sn_fin_gl_account number (None: missing)


@dataclass(slots=True)
class InvoiceDocument:
    """A bill mapped to staging rows (header first), or the problems that keep it back."""

    external_key: str
    bill_id: str
    bill_number: str
    vendor_id: str
    vendor_name: str | None
    supplier_code: str | None
    date: str | None
    currency: str
    exchange_rate: Decimal | None
    subtotal: Decimal
    tax: Decimal
    total: Decimal
    status: str
    lines: list[LinePreview] = field(default_factory=list)
    rows: list[StagingRow] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    adjustment: Decimal = Decimal(0)  # sent as other charges
    adjustment_description: str | None = None
    discount: Decimal = Decimal(0)
    payment_terms: str | None = None  # the ServiceNow payment term the header names
    business_owner: str | None = None  # the user the header names (as staged: email or user name)
    fx_rate: dict[str, str] | None = None  # the FX rate row's values staged before the invoice (fx_rates)
    # what the preview explains beside the rows (an FX rate staged, a mapping created, a warning)
    notes: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True when nothing is missing: the rows may be sent."""
        return not self.problems


def line_cost_center_key(line: ZohoBillLine, bill: ZohoBill, context: RunContext) -> str | None:
    """The Zoho key of the line's cost center: the configured tag's option, or the (line or bill) location."""
    if context.cost_center_source == "location":
        return line.location_id or bill.location_id
    wanted = context.cost_center_tag_name.casefold().strip()
    for tag in line.tags:
        if (tag.tag_name or "").casefold().strip() == wanted and tag.tag_option_id:
            return tag.tag_option_id
    return None


def bill_to_invoice(bill: ZohoBill, context: RunContext, index: MappingIndex) -> InvoiceDocument:
    """Map and validate one bill; `rows` is filled only when nothing is missing."""
    key = col.invoice_key(context.organization_id, bill.bill_id)
    problems: list[Problem] = []
    supplier, problem = supplier_ref(bill.vendor_id, bill.vendor_name, index)
    if problem:
        problems.append(problem)
    if index.legal_entity is None:
        problems.append(
            Problem(ErrorCode.MISSING_LEGAL_ENTITY, index.legal_entity_problem or "no legal entity")
        )
    currency_problem = check_currency(bill.currency_code, index)
    if currency_problem:
        problems.append(currency_problem)
    rate_problem = missing_rate(bill.currency_code, bill.exchange_rate, context)
    if rate_problem:
        problems.append(rate_problem)
    staging_problem = fx_staging_blocked(bill.currency_code, context, index.fx_staging_problem)
    if staging_problem:
        problems.append(staging_problem)
    if not bill.line_items:
        problems.append(Problem(ErrorCode.MALFORMED_RECORD, "the bill has no lines"))
    # a line's id is its coalesce key in staging (u_erp_line_number): a blank or repeated one would stage
    # the header and fail or merge the lines, so the bill fails whole before anything is written
    line_ids = [str(line.line_item_id).strip() for line in bill.line_items]
    if any(not line_id for line_id in line_ids):
        problems.append(Problem(ErrorCode.MALFORMED_RECORD, "a line has no line_item_id"))
    elif len(set(line_ids)) != len(line_ids):
        problems.append(Problem(ErrorCode.MALFORMED_RECORD, "two lines share a line_item_id"))
    doc_date = local_date(bill.date, bill.created_time, context.time_zone)
    if doc_date is None:
        problems.append(Problem(ErrorCode.MALFORMED_RECORD, "the bill has no date"))

    lines: list[LinePreview] = []
    line_rows: list[StagingRow] = []
    tax_rows: list[StagingRow] = []
    subtotal = tax_total = Decimal(0)
    for position, line in enumerate(bill.line_items, start=1):
        try:
            amounts = line_amounts(line, bill.is_inclusive_tax)
        except ArithmeticError:  # e.g. a huge tax percentage: the product no longer fits 28 digits
            problems.append(Problem(ErrorCode.MALFORMED_RECORD, f"line {position}: amounts out of range"))
            amounts = LineAmounts(Decimal(0), Decimal(0))
        net, tax = amounts.net, amounts.tax
        if line.quantity < 0 or line.rate < 0:
            problems.append(
                Problem(ErrorCode.MALFORMED_RECORD, f"line {position} has a negative quantity or rate")
            )
        subtotal += net
        tax_total += tax
        cc_key = line_cost_center_key(line, bill, context)
        cc = index.cost_centers.get(cc_key) if cc_key else None
        if cc_key is None:
            problems.append(
                Problem(ErrorCode.UNMAPPED_COST_CENTER, f"line {position} has no {_dimension_label(context)}")
            )
        elif cc is None or cc.sn_value is None:
            name = cc.zoho_name if cc else (_tag_option_name(line, cc_key) or cc_key)
            message = f"cost center {name!r} is not mapped to a ServiceNow cost center"
            problems.append(Problem(ErrorCode.UNMAPPED_COST_CENTER, message, name))
        gl = index.gl_accounts.get(line.account_id)
        if gl is None or gl.sn_value is None:
            name = gl.zoho_name if gl else (line.account_name or line.account_id)
            where = "" if gl else " (not in the Zoho chart of accounts)"
            message = f"GL account {name!r}{where} is not mapped to a ServiceNow ledger account"
            problems.append(Problem(ErrorCode.UNMAPPED_GL_ACCOUNT, message, name))
        lines.append(
            LinePreview(
                line.line_item_id,
                line.description or line.name,
                net,
                tax,
                cc.zoho_name if cc else _tag_option_name(line, cc_key),
                cc.sn_value if cc else None,
                gl.zoho_name if gl else line.account_name,
                gl.sn_value if gl else None,
            )
        )
        line_rows.append(_line_row(key, line, net, tax, cc, gl, bill.currency_code, context))
        taxed = [part for part in amounts.parts if part.amount]
        for part in taxed:
            suffix = "" if len(taxed) == 1 else f".{part.tax_id or taxed.index(part) + 1}"
            tax_rows.append(_tax_row(key, line, net, part, suffix, bill.currency_code, context))
    header = header_amounts(bill, subtotal, tax_total)
    problems.extend(header.problems)
    owner, owner_note = _business_owner(lines, context, index, problems)
    terms = servicenow_payment_term(
        bill.payment_terms_label, bill.payment_terms, context.payment_terms_overrides
    )
    document = InvoiceDocument(
        external_key=key,
        bill_id=bill.bill_id,
        bill_number=bill.bill_number,
        vendor_id=bill.vendor_id,
        vendor_name=bill.vendor_name,
        supplier_code=supplier.sn_value if supplier else None,
        date=doc_date,
        currency=bill.currency_code,
        exchange_rate=bill.exchange_rate,
        subtotal=header.subtotal,
        tax=header.tax,
        total=bill.total,
        status=bill.status,
        lines=lines,
        problems=dedupe(problems),
        adjustment=header.adjustment,
        adjustment_description=bill.adjustment_description,
        discount=header.discount,
        payment_terms=terms,
        business_owner=owner,
    )
    if owner_note:
        document.notes.append(owner_note)
    if document.ok:
        header_row = StagingRow(
            table=col.INVOICE_TABLE,
            source_ref=key,
            values={
                "u_external_invoice_number": key,
                "u_external_invoice_source": context.erp_source,
                "u_erp_source": context.erp_source,
                "u_erp_number": col.erp_invoice_number(bill.bill_id),
                "u_third_party_import_id": key,
                "u_supplier_invoice_number": bill.bill_number,
                "u_supplier": document.supplier_code or "",
                "u_supplier_tax_id": (supplier.tax_id or "") if supplier else "",
                "u_invoice_date": doc_date or "",
                "u_due_date": local_date(bill.due_date, None, context.time_zone) or "",
                "u_currency": bill.currency_code,
                "u_subtotal": money(header.subtotal),
                "u_tax_amount": money(header.tax),
                "u_shipping_amount": "0.00",
                # Zoho's adjustment, signed [I]: a negative one (a rounding off) lowers the amount as it does
                # in Zoho; always sent, so the documented mandatory column is never empty (sn-ref §7.4)
                "u_other_charges": money(header.adjustment),
                "u_discounts": money(header.discount),
                "u_amount_invoiced": money(bill.total),
                "u_payment_terms": terms or "",
                "u_legal_entity": index.legal_entity or "",
                "u_business_owner": owner or "",
                "u_invoice_type": col.INVOICE_TYPE,
                "u_invoice_line_count": str(len(bill.line_items)),
                "u_short_description": f"Zoho Books bill {bill.bill_number}"[:160],
            },
        )
        # the header stays first (its outcome is the record's); the batch stages the supplier's legal entity
        # mapping and the FX rate (when needed) before it
        fx_row = fx_rate_row(bill.currency_code, bill.exchange_rate, doc_date, context)
        if fx_row is not None:
            document.fx_rate = dict(fx_row.values)
            document.notes.append(describe_rate(fx_row))
        mapping, mapping_note = bill_mapping(document.supplier_code, terms, context, index)
        if mapping_note:
            document.notes.append(mapping_note)
        prerequisites = [row for row in (mapping, fx_row) if row is not None]
        document.rows = [header_row, *prerequisites, *line_rows, *tax_rows]
    return document


def _business_owner(
    lines: list[LinePreview], context: RunContext, index: MappingIndex, problems: list[Problem]
) -> tuple[str | None, str | None]:
    """The business owner the header names (as staged) and the preview's note; an unknown user is a
    problem (business_owner.py)."""
    configured, origin = bill_owner(lines, context.business_owner, context.cost_center_owners)
    if configured is None:
        return None, (
            "warning: no business owner configured (profile or cost center): the invoice will meet "
            "'Missing or invalid business owner' where ServiceNow checks it"
        )
    if index.owners is None:  # ServiceNow's users were not read: sent as configured
        return configured, f"business owner {configured} (from {origin}, not checked)"
    staged = index.owners.get(owner_key(configured))
    if staged is None:
        message = (
            f"business owner {configured!r} (from {origin}) is not an active ServiceNow user (sys_user, by "
            "user name or email)"
        )
        problems.append(Problem(ErrorCode.UNKNOWN_BUSINESS_OWNER, message, configured))
        return None, None
    return staged, f"business owner {staged} (from {origin})"


def _line_row(
    key: str,
    line: ZohoBillLine,
    net: Decimal,
    tax: Decimal,
    cc: MappedRef | None,
    gl: MappedRef | None,
    currency: str,
    context: RunContext,
) -> StagingRow:
    values = {
        "u_external_invoice_number": key,
        "u_erp_source": context.erp_source,
        "u_erp_line_number": line.line_item_id,
        "u_line_description": (line.description or line.name or "")[:100],
        "u_line_quantity": plain(line.quantity),
        "u_line_unit_price": plain(line.rate),
        "u_line_amount_invoiced": money(net + tax),
        "u_subtotal": money(net),
        "u_tax_amount": money(tax),
        "u_cost_center": (cc.sn_value or "") if cc else "",
        "u_gl_account": (gl.sn_value or "") if gl else "",
        "u_tax_code": line.tax_name or "",
        "u_currency": currency,
    }
    # built from typed values only, so validation is skipped: this runs for every line of every bill
    return StagingRow.model_construct(
        table=col.INVOICE_LINE_TABLE, source_ref=f"{key}#L{line.line_item_id}", values=values
    )


def _tax_row(
    key: str,
    line: ZohoBillLine,
    net: Decimal,
    part: TaxPart,
    suffix: str,
    currency: str,
    context: RunContext,
) -> StagingRow:
    """One tax of a line: the line's one tax, or one component of its tax group (`suffix` tells them apart:
    the sandbox coalesces tax lines on invoice, line and tax type, [I] as an instance likely does)."""
    values = {
        "u_external_invoice_number": key,
        "u_erp_source": context.erp_source,
        "u_erp_line_number": line.line_item_id,
        "u_tax_type": part.name,
        "u_tax_amount": money(part.amount),
        "u_taxable_amount": money(net),
        "u_supplier_tax_rate": plain(part.rate) if part.rate is not None else "",
        "u_currency": currency,
    }
    return StagingRow(
        table=col.INVOICE_TAX_LINE_TABLE, source_ref=f"{key}#T{line.line_item_id}{suffix}", values=values
    )


def _dimension_label(context: RunContext) -> str:
    return "location" if context.cost_center_source == "location" else f"{context.cost_center_tag_name!r} tag"


def _tag_option_name(line: ZohoBillLine, key: str | None) -> str | None:
    for tag in line.tags:
        if key and tag.tag_option_id == key:
            return tag.tag_option_name
    if key and line.location_id == key:
        return line.location_name
    return None
