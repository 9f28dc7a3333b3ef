"""A staged invoice's ServiceNow status, from one follow-up read (`ServiceNowClient.follow_invoices`).

The status (`domain.ServiceNowStatus`) comes from the invoice's state (sn-ref §7.3), its open exceptions
(§7.3, "Exception types") and its latest outbound record (§7.5): Approved with an outbound record in error is
"posting failed", Pending payment is "posted". Import errors (`sn_spend_intg_import_error`) count only when
they are newer than the record's last staging (sn-ref §14: the import-error staging table keeps them; older
ones belong to earlier attempts and are history). Their `sys_created_on` is the instance's UTC time, compared
with zbsn's clock to the second [I]: a clock skew of more than the time between two stagings of the same
record would misfile one.

Who can fix what keeps an invoice back: re-staging fixes what zbsn sends (an unbalanced invoice whose lines
failed to import, a line without valid coding, a header missing required information that the import fills
[I]) and every current import error; everything else (a blocked supplier, a hold, ...) is the AP team's,
in ServiceNow. `replay_fixes` is true only when every open problem is of the first kind: that is when a
replay can move the invoice on.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime
from decimal import Decimal

from zbsn.core.domain import ServiceNowStatus
from zbsn.core.servicenow.invoice_models import (
    IntegrationStatus,
    InvoiceFollowUp,
    SNImportError,
    SNInvoiceException,
)

# Exception definitions (their display values, sn-ref §7.3) that re-staging the invoice can clear.
REPLAY_FIXES = frozenset({"invoice isn't balanced", "valid coding required", "missing required information"})
# sn_shop_invoice.state values, as stored (sn-ref §7.3: [C] where documented, else snake_case labels [I]).
_BEFORE_CHECK = frozenset(
    {"draft", "no_invoice", "received", "accepted", "no_exceptions_found", "po_matching_completed"}
)
_NEEDS_AP_TEAM = frozenset(
    {"exceptions_found", "po_matching_error", "po_mapping_error", "suspected_duplicate", "rejected"}
)
_BY_STATE: dict[str, ServiceNowStatus] = {
    "pending_approval": ServiceNowStatus.PENDING_APPROVAL,
    "approval_recalled": ServiceNowStatus.PENDING_APPROVAL,
    "approved": ServiceNowStatus.APPROVED,
    "pending_payment": ServiceNowStatus.POSTED,
    "paid": ServiceNowStatus.PAID,
    "canceled": ServiceNowStatus.CANCELED,
    "cancelled": ServiceNowStatus.CANCELED,
    "confirmed_duplicate": ServiceNowStatus.CANCELED,
}
_SN_TIME = "%Y-%m-%d %H:%M:%S"


@dataclass(frozen=True, slots=True)
class ExceptionNote:
    """An open exception as the operator reads it."""

    level: str  # header | line
    definition: str
    description: str
    line: str | None = None  # the invoice line's ERP line number
    number: str | None = None

    @property
    def replay_fixes(self) -> bool:
        """Whether re-staging the invoice can clear it."""
        return self.definition.casefold() in REPLAY_FIXES


@dataclass(frozen=True, slots=True)
class ImportErrorNote:
    """A transform error of the invoice's last staging."""

    message: str
    source_table: str | None = None
    line: str | None = None
    created_on: str | None = None


@dataclass(frozen=True, slots=True)
class StatusReading:
    """Everything one refresh learnt about one invoice, and the sentence that says it."""

    status: ServiceNowStatus
    invoice_sys_id: str
    state: str | None = None
    number: str | None = None
    erp_number: str | None = None
    erp_posting_date: str | None = None
    amount: Decimal | None = None
    currency: str | None = None
    amount_paid: Decimal | None = None
    exceptions: tuple[ExceptionNote, ...] = ()
    import_errors: tuple[ImportErrorNote, ...] = ()
    outbound_sys_id: str | None = None
    outbound_status: str | None = None
    processing_message: str | None = None
    replay_fixes: bool = False
    summary: str = ""
    to_post: bool = field(default=False, compare=False)  # an outbound record waits for the ERP (New)
    # What ServiceNow said of an invoice zbsn then posted in the same refresh (its approval, kept for history)
    read_as: StatusReading | None = field(default=None, compare=False)

    def posted(self, erp_number: str, posting_date: date) -> StatusReading:
        """This reading once zbsn marked the outbound record Processed as the ERP."""
        return replace(
            self,
            read_as=self,
            status=ServiceNowStatus.POSTED,
            state="pending_payment",
            erp_number=erp_number,
            erp_posting_date=posting_date.isoformat(),
            outbound_status=IntegrationStatus.PROCESSED,
            to_post=False,
            summary=(
                f"Posted by zbsn, Zoho Books being the ERP: ERP number {erp_number}, posting date "
                f"{posting_date.isoformat()}; waiting for payment."
            ),
        )


def _exception(found: SNInvoiceException) -> ExceptionNote:
    definition = found.definition or found.short_description or "Exception"
    return ExceptionNote(
        level=found.level,
        definition=definition,
        description=found.description or found.short_description or definition,
        line=found.line_number,
        number=found.number,
    )


def _created(text: str | None) -> datetime | None:
    if not text:
        return None
    try:
        return datetime.strptime(text[:19], _SN_TIME).replace(tzinfo=UTC)
    except ValueError:
        return None


def current_import_errors(errors: list[SNImportError], last_sent: datetime | None) -> list[SNImportError]:
    """The errors no older than the record's last staging (all of them when that is unknown or their time
    cannot be read)."""
    if last_sent is None:
        return list(errors)
    cutoff = last_sent.astimezone(UTC).replace(microsecond=0)
    return [e for e in errors if (created := _created(e.created_on)) is None or created >= cutoff]


def status_of_state(state: str | None) -> ServiceNowStatus:
    """The status an invoice state alone says (no exceptions or outbound record known)."""
    return _status(state, False, None)


def _status(state: str | None, problems: bool, outbound: str | None) -> ServiceNowStatus:
    if state is None:
        return ServiceNowStatus.NOT_FOUND
    state = state.casefold()
    if state in _NEEDS_AP_TEAM or (problems and state in _BEFORE_CHECK):
        return ServiceNowStatus.EXCEPTIONS_FOUND
    if state in _BEFORE_CHECK:
        return ServiceNowStatus.DRAFT
    found = _BY_STATE.get(state, ServiceNowStatus.OTHER)
    if found is ServiceNowStatus.APPROVED and outbound == IntegrationStatus.ERROR:
        return ServiceNowStatus.POSTING_FAILED
    return found


def _names(notes: tuple[ExceptionNote, ...]) -> str:
    return ", ".join(dict.fromkeys(n.definition for n in notes))


def _summary(reading: StatusReading) -> str:
    status = reading.status
    if status is ServiceNowStatus.NOT_FOUND:
        return "ServiceNow no longer has this invoice (deleted there?); a replay stages it again."
    if status is ServiceNowStatus.EXCEPTIONS_FOUND:
        ours = tuple(n for n in reading.exceptions if n.replay_fixes)
        theirs = tuple(n for n in reading.exceptions if not n.replay_fixes)
        parts = []
        if theirs:
            parts.append(f"waiting for the AP team in ServiceNow: {_names(theirs)}")
        if reading.import_errors:
            parts.append(f"ServiceNow could not import part of it: {reading.import_errors[0].message}")
        if ours:
            parts.append(f"{'then ' if theirs else ''}a replay can clear: {_names(ours)}")
        if not parts:
            return f"ServiceNow holds it in state {reading.state!r}: the AP team decides what comes next."
        text = "; ".join(parts)
        return text[:1].upper() + text[1:] + "."
    if status is ServiceNowStatus.DRAFT:
        return "Imported into ServiceNow; its invoice processing has not checked it yet."
    if status is ServiceNowStatus.PENDING_APPROVAL:
        return "No open exceptions: waiting for approval in ServiceNow."
    if status is ServiceNowStatus.APPROVED:
        waiting = " (its outbound record is New)" if reading.to_post else ""
        return f"Approved; waiting to be posted to the ERP{waiting}."
    if status is ServiceNowStatus.POSTING_FAILED:
        return f"Posting to the ERP failed: {reading.processing_message or 'no processing message'}."
    if status is ServiceNowStatus.POSTED:
        number = f" as {reading.erp_number}" if reading.erp_number else ""
        when = f" on {reading.erp_posting_date}" if reading.erp_posting_date else ""
        return f"Posted to the ERP{number}{when}; waiting for payment."
    if status is ServiceNowStatus.PAID:
        paid = f" ({reading.amount_paid:,.2f} {reading.currency or ''})" if reading.amount_paid else ""
        return f"Paid{paid.rstrip()}."
    if status is ServiceNowStatus.CANCELED:
        return "Canceled in ServiceNow."
    return f"In state {reading.state!r} in ServiceNow."


def read_status(
    invoice_sys_id: str, followed: InvoiceFollowUp | None, last_sent: datetime | None
) -> StatusReading:
    """The status of one invoice from what a refresh read (None: nothing came back for it)."""
    invoice = followed.status if followed is not None else None
    exceptions = tuple(_exception(e) for e in followed.exceptions) if followed is not None else ()
    errors = current_import_errors(followed.import_errors, last_sent) if followed is not None else []
    notes = tuple(
        ImportErrorNote(
            message=e.error_message or "the instance gave no reason",
            source_table=e.source_table,
            line=e.supplier_invoice_line_number,
            created_on=e.created_on,
        )
        for e in errors
    )
    outbound = followed.latest_outbound if followed is not None else None
    state = invoice.state if invoice is not None else None
    status = _status(state, bool(exceptions or notes), outbound.integration_status if outbound else None)
    problems = bool(exceptions or notes)
    reading = StatusReading(
        status=status,
        invoice_sys_id=invoice_sys_id,
        state=state,
        number=invoice.number if invoice else None,
        erp_number=invoice.erp_number if invoice else None,
        erp_posting_date=invoice.erp_posting_date if invoice else None,
        amount=invoice.amount if invoice else None,
        currency=invoice.currency if invoice else None,
        amount_paid=invoice.amount_paid if invoice else None,
        exceptions=exceptions if status is ServiceNowStatus.EXCEPTIONS_FOUND else (),
        import_errors=notes if status is ServiceNowStatus.EXCEPTIONS_FOUND else (),
        outbound_sys_id=outbound.sys_id if outbound else None,
        outbound_status=outbound.integration_status if outbound else None,
        processing_message=outbound.processing_message if outbound else None,
        replay_fixes=(
            status is ServiceNowStatus.EXCEPTIONS_FOUND
            and problems
            and all(e.replay_fixes for e in exceptions)
        )
        or status is ServiceNowStatus.NOT_FOUND,
        to_post=followed is not None and followed.outbound_to_post is not None,
    )
    return replace(reading, summary=_summary(reading))


def change_reason(before: StatusReading | None, after: StatusReading) -> str | None:
    """Why a refresh records a change (None: nothing an operator would call a change)."""
    if before is None:
        return after.summary
    if before.status is not after.status:
        return after.summary
    if {n.definition for n in before.exceptions} != {n.definition for n in after.exceptions}:
        return after.summary
    if bool(before.import_errors) != bool(after.import_errors):
        return after.summary
    return None
