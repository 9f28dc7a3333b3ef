"""The domain's vocabularies: kinds, states and statuses shared by the engine, the CLI, the console and the
database (whose tables store their values as text). They live here, not in the DB models, so a front end
can speak of a failed record or a Zoho connection without importing the database layer."""

from __future__ import annotations

from enum import StrEnum


class ConnectionKind(StrEnum):
    ZOHO = "zoho"
    SERVICENOW = "servicenow"


class ConnectionState(StrEnum):
    NEW = "new"  # stored, never authorised
    CONNECTED = "connected"  # tokens valid or refreshable
    WAIT = "wait"  # the token endpoint throttled us; retry later
    REAUTH = "reauth"  # refresh token revoked / grant refused: the operator must re-authorise
    ERROR = "error"


class CostCenterSource(StrEnum):
    REPORTING_TAG = "reporting_tag"
    LOCATION = "location"


class MappingOrigin(StrEnum):
    AUTO = "auto"
    MANUAL = "manual"


class MappingStatus(StrEnum):
    MATCHED = "matched"
    MISSING = "missing"
    STAGED = "staged"  # sent to a master-data staging table (e.g. a new supplier)


class RunTrigger(StrEnum):
    MANUAL = "manual"
    SCHEDULE = "schedule"
    WEBHOOK = "webhook"
    REPLAY = "replay"


class RunStatus(StrEnum):
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    COMPLETED_WITH_FAILURES = "completed_with_failures"
    FAILED = "failed"
    CANCELLED = "cancelled"
    REAUTH = "reauth"  # stopped: a system needs re-authorising
    INTERRUPTED = "interrupted"  # the process died; found by the next run


class AuditStatus(StrEnum):
    PENDING = "pending"  # written before the ServiceNow write: a crash here is found and resent
    STAGED = "staged"
    FAILED = "failed"
    SKIPPED = "skipped"
    CANCELLED = "cancelled"  # a voided/deleted bill whose invoice ServiceNow holds as canceled
    # A bill voided or deleted in Zoho whose invoice is in ServiceNow: cancelling an invoice is an AP
    # specialist's action there, so zbsn flags it instead of writing a state (it turns `cancelled` once a
    # status refresh reads the invoice as canceled).
    FLAGGED = "flagged"


class RecordKind(StrEnum):
    COST_CENTER = "cost_center"
    GL_ACCOUNT = "gl_account"
    SUPPLIER = "supplier"
    BILL = "bill"
    PAYMENT = "payment"
    VENDOR_CREDIT = "vendor_credit"  # a vendor credit (debit note): a credit memo and its settlements
    ATTACHMENT = "attachment"  # a bill's document attached to its invoice (zoho_id: Zoho's document id)


class ServiceNowStatus(StrEnum):
    """Where a staged invoice stands in ServiceNow, as zbsn's last status refresh read it (beside the staging
    status: `AuditStatus`). Derived from the invoice's state, its open exceptions and its outbound posting
    (core/engine/sn_status.py)."""

    DRAFT = "draft"  # imported, not checked yet (Draft, Received, Accepted, ...)
    EXCEPTIONS_FOUND = "exceptions_found"  # open exceptions (or a state that needs the AP team)
    PENDING_APPROVAL = "pending_approval"
    APPROVED = "approved"  # approved, waiting to be posted to the ERP
    POSTING_FAILED = "posting_failed"  # approved, its outbound posting ended in error
    POSTED = "posted"  # posted to the ERP: Pending payment
    PAID = "paid"
    CANCELED = "canceled"
    OTHER = "other"  # a state zbsn does not know (shown as ServiceNow names it)
    NOT_FOUND = "not_found"  # the invoice no longer exists in ServiceNow

    @property
    def label(self) -> str:
        """How an operator reads it."""
        return SERVICENOW_STATUS_LABELS[self]


SERVICENOW_STATUS_LABELS: dict[ServiceNowStatus, str] = {
    ServiceNowStatus.DRAFT: "Draft",
    ServiceNowStatus.EXCEPTIONS_FOUND: "Exceptions found",
    ServiceNowStatus.PENDING_APPROVAL: "Pending approval",
    ServiceNowStatus.APPROVED: "Approved",
    ServiceNowStatus.POSTING_FAILED: "Posting failed",
    ServiceNowStatus.POSTED: "Posted",
    ServiceNowStatus.PAID: "Paid",
    ServiceNowStatus.CANCELED: "Canceled",
    ServiceNowStatus.OTHER: "Other state",
    ServiceNowStatus.NOT_FOUND: "Not in ServiceNow",
}
# Where an invoice's story ends: a refresh reads these again only once zbsn staged the record again.
FINAL_SERVICENOW_STATUSES = frozenset(
    {ServiceNowStatus.PAID, ServiceNowStatus.CANCELED, ServiceNowStatus.NOT_FOUND}
)


class InboxStatus(StrEnum):
    NEW = "new"
    PROCESSED = "processed"
    FAILED = "failed"
    IGNORED = "ignored"
