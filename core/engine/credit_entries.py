"""Audit entries of vendor credits: what `begin` writes before the credit memo and its settlements go out."""

from __future__ import annotations

from zbsn.core.domain import AuditStatus, RecordKind
from zbsn.core.engine.audit_writer import AuditEntry
from zbsn.core.engine.mapping_index import MappingIndex
from zbsn.core.engine.ports import RunContext
from zbsn.core.engine.problems import summarize
from zbsn.core.engine.transform_credits import credit_key, credit_to_memo
from zbsn.core.zoho.models import ZohoVendorCredit, ZohoVendorCreditSummary

# A credit in these states is not (yet, or any more) a credit memo for ServiceNow.
NOT_STAGED_STATES = {"draft": "a draft in Zoho Books: staged once it is open", "void": "voided in Zoho Books"}


def credit_entry(
    credit: ZohoVendorCredit,
    context: RunContext,
    index: MappingIndex,
    staged_bills: set[str],
    marker: str | None,
) -> AuditEntry:
    """The audit entry of a vendor credit: pending with its rows, or failed with what is missing. The
    settlements (bill id and amount applied) travel in the mapped payload for reconcile and the audit."""
    document = credit_to_memo(credit, context, index, staged_bills)
    memo = document.memo
    entry = AuditEntry(
        kind=RecordKind.VENDOR_CREDIT,
        zoho_id=credit.vendor_credit_id,
        external_key=credit_key(context.organization_id, credit.vendor_credit_id),
        zoho_number=credit.vendor_credit_number,
        zoho_modified=marker,
        vendor_name=credit.vendor_name,
        amount=credit.total,
        currency=credit.currency_code,
        doc_date=memo.date,
        source_payload=credit.model_dump_json(),
        rows=document.rows,
        extra={
            "settlements": [
                {"bill_id": bill, "amount": str(amount)} for bill, amount in document.settlements
            ],
            "exchange_rate": str(credit.exchange_rate) if credit.exchange_rate is not None else None,
        },
    )
    if not document.ok:
        entry.status = AuditStatus.FAILED
        entry.error_code, entry.error_message = summarize(document.problems)
        entry.problems = list(document.problems)
    return entry


def unstaged_credit_entry(
    credit: ZohoVendorCreditSummary, context: RunContext, marker: str | None, already_staged: bool
) -> AuditEntry | None:
    """The entry of a draft or void credit (skipped: nothing goes to ServiceNow), None for any other state.
    A void credit whose memo is already in ServiceNow is skipped too, with a reason that says so: reversing
    it there is the AP team's action, as cancelling an invoice is."""
    why = NOT_STAGED_STATES.get(credit.status)
    if why is None:
        return None
    if credit.status == "void" and already_staged:
        why += "; its credit memo stays in ServiceNow (reversing it is an AP specialist's action there)"
    return AuditEntry(
        kind=RecordKind.VENDOR_CREDIT,
        zoho_id=credit.vendor_credit_id,
        external_key=credit_key(context.organization_id, credit.vendor_credit_id),
        status=AuditStatus.SKIPPED,
        zoho_number=credit.vendor_credit_number,
        zoho_modified=marker,
        vendor_name=credit.vendor_name,
        amount=credit.total,
        currency=credit.currency_code,
        source_payload=credit.model_dump_json(),
        error_message=why,
    )
