"""Why a record cannot be staged: error codes and the problems a validation reports."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class ErrorCode(StrEnum):
    """Stable codes stored in `AuditRecord.error_code` and shown by the TUI and the CLI."""

    UNMAPPED_COST_CENTER = "UNMAPPED_COST_CENTER"
    UNMAPPED_GL_ACCOUNT = "UNMAPPED_GL_ACCOUNT"
    UNMAPPED_SUPPLIER = "UNMAPPED_SUPPLIER"
    MISSING_LEGAL_ENTITY = "MISSING_LEGAL_ENTITY"
    UNKNOWN_CURRENCY = "UNKNOWN_CURRENCY"
    # a bill in a foreign currency without Zoho's exchange rate to the base currency (fx_rates.py)
    MISSING_EXCHANGE_RATE = "MISSING_EXCHANGE_RATE"
    # a foreign-currency bill on an instance whose FX rate staging is not ready (pre-flight; fx_rates.py)
    FX_STAGING_UNAVAILABLE = "FX_STAGING_UNAVAILABLE"
    # the business owner configured for the bill (profile or cost center) is no active ServiceNow user
    UNKNOWN_BUSINESS_OWNER = "UNKNOWN_BUSINESS_OWNER"
    MALFORMED_RECORD = "MALFORMED_RECORD"
    INVOICE_NOT_STAGED = "INVOICE_NOT_STAGED"  # a payment for a bill that is not (yet) in staging
    STAGING_ERROR = "STAGING_ERROR"
    NOT_FOUND = "NOT_FOUND"  # the record is gone from Zoho
    SOURCE_UNAVAILABLE = "SOURCE_UNAVAILABLE"  # Zoho kept failing to serve this one record
    # A bill voided (deleted) in Zoho whose invoice is in ServiceNow: flagged, the AP team cancels it there.
    VOIDED_IN_ZOHO = "VOIDED_IN_ZOHO"
    DELETED_IN_ZOHO = "DELETED_IN_ZOHO"
    ATTACHMENT_TOO_LARGE = "ATTACHMENT_TOO_LARGE"  # the bill's document is over the size setting
    ATTACHMENT_FAILED = "ATTACHMENT_FAILED"  # Zoho could not serve it or ServiceNow refused it
    # A draft or pending-approval bill: skipped (never failed), staged by a later run once approved in Zoho.
    AWAITING_APPROVAL = "AWAITING_APPROVAL"
    STATUS_NOT_STAGED = "STATUS_NOT_STAGED"  # a bill status the profile leaves out (stage_bill_statuses)
    # A bill changed in Zoho after its invoice was approved, posted or paid in ServiceNow: flagged, its
    # invoice is not overwritten. Lines removed in Zoho: flagged, import sets cannot delete invoice lines.
    EDITED_AFTER_APPROVAL = "EDITED_AFTER_APPROVAL"
    LINES_REMOVED_IN_ZOHO = "LINES_REMOVED_IN_ZOHO"
    # A vendor payment deleted in Zoho whose payment details are in ServiceNow: flagged (not deletable there)
    PAYMENT_DELETED_IN_ZOHO = "PAYMENT_DELETED_IN_ZOHO"
    # A bill sent back to draft (or pending approval) in Zoho after its invoice was staged: flagged, nothing
    # written; it follows the normal path (edited-after-approval rule included) once approved again.
    RETURNED_TO_DRAFT_IN_ZOHO = "RETURNED_TO_DRAFT_IN_ZOHO"


@dataclass(frozen=True, slots=True)
class Problem:
    """One thing that keeps a record from being staged; `subject` names what is missing (a cost center...)."""

    code: ErrorCode
    message: str
    subject: str | None = None


def summarize(problems: list[Problem]) -> tuple[str, str]:
    """The audit row's error code (the first problem's) and a message listing every problem."""
    first = problems[0]
    seen: list[str] = []
    for problem in problems:
        if problem.message not in seen:
            seen.append(problem.message)
    return first.code.value, "; ".join(seen)
