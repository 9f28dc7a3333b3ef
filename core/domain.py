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
    CANCELLED = "cancelled"  # a voided/deleted bill whose invoice was cancelled in staging


class RecordKind(StrEnum):
    COST_CENTER = "cost_center"
    GL_ACCOUNT = "gl_account"
    SUPPLIER = "supplier"
    BILL = "bill"
    PAYMENT = "payment"


class InboxStatus(StrEnum):
    NEW = "new"
    PROCESSED = "processed"
    FAILED = "failed"
    IGNORED = "ignored"
