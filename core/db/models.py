"""The zbsn schema: SQLModel tables, migrated by Alembic (never `create_all` outside tests of the models).

Conventions:
- Every timestamp is timezone-aware UTC (`UTCDateTime` restores the zone SQLite drops).
- Money is `Numeric(18, 4)`; Zoho amounts are decimal and never floats here.
- Secret columns end in `_enc`: ciphertext from the vault, hidden from `repr()`.
- JSON documents (source payloads, mapped payloads, settings) are stored as text.

(Over 400 lines: the whole schema in one place, as Alembic's autogenerate and a reader comparing it with the
migrations want it; the domain enums live in `zbsn.core.domain`.)
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Dialect
from sqlmodel import Field, SQLModel

from zbsn.core.domain import (
    AuditStatus,
    ConnectionState,
    CostCenterSource,
    InboxStatus,
    MappingOrigin,
    MappingStatus,
    RunStatus,
    RunTrigger,
)


def _utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(sa.types.TypeDecorator[datetime]):
    """A DateTime that always stores UTC and always returns an aware UTC datetime."""

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


def _ts(*, index: bool = False, nullable: bool = True) -> Any:
    return Field(default=None, sa_column=sa.Column(UTCDateTime(), nullable=nullable, index=index))


def _created() -> Any:
    return Field(default_factory=_utcnow, sa_column=sa.Column(UTCDateTime(), nullable=False))


def _text(*, repr_: bool = True) -> Any:
    return Field(default=None, sa_column=sa.Column(sa.Text(), nullable=True), repr=repr_)


def _money() -> Any:
    return Field(default=None, sa_column=sa.Column(sa.Numeric(18, 4), nullable=True))


class Connection(SQLModel, table=True):
    """One authorised system: a Zoho Books organization or a ServiceNow instance."""

    __tablename__ = "connection"

    id: int | None = Field(default=None, primary_key=True)
    kind: str = Field(index=True)  # ConnectionKind
    name: str = Field(unique=True)
    state: str = Field(default=ConnectionState.NEW)
    # Zoho: the DC and the two servers learnt from the consent redirect and the token response.
    dc: str | None = None
    accounts_server: str | None = None
    api_domain: str | None = None
    organization_id: str | None = None
    organization_name: str | None = None
    time_zone: str | None = None
    currency_code: str | None = None
    # ServiceNow
    instance_url: str | None = None
    # Both
    client_id: str | None = None
    client_secret_enc: str | None = _text(repr_=False)
    refresh_token_enc: str | None = _text(repr_=False)
    access_token_enc: str | None = _text(repr_=False)
    access_token_expires_at: datetime | None = _ts()
    last_refresh_at: datetime | None = _ts()
    last_error: str | None = _text()
    created_at: datetime = _created()
    updated_at: datetime = _created()


DEFAULT_STAGE_BILL_STATUSES = "open,overdue,partially_paid,paid"


class SyncProfile(SQLModel, table=True):
    """Pairs one Zoho organization with one ServiceNow instance, with the org's mapping settings."""

    __tablename__ = "sync_profile"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(unique=True)
    zoho_connection_id: int = Field(foreign_key="connection.id", index=True)
    servicenow_connection_id: int = Field(foreign_key="connection.id", index=True)
    cost_center_source: str = Field(default=CostCenterSource.REPORTING_TAG)
    cost_center_tag_name: str = Field(default="Cost Center")
    allow_supplier_create: bool = Field(default=False)
    erp_source: str = Field(default="Zoho Books")
    legal_entity: str | None = None  # ERP company code of the sn_fin_legal_entity invoices belong to
    overlap_seconds: int = Field(default=300)
    full_sweep_hours: int = Field(default=24)
    enabled: bool = Field(default=True)
    # Zoho Books is the ERP: zbsn marks the outbound invoices of the bills it staged Processed (ERP number =
    # the bill id), so they reach Pending payment; off when ServiceNow posts to another ERP.
    post_outbound_as_erp: bool = Field(default=True, sa_column_kwargs={"server_default": sa.true()})
    # the Zoho bill statuses staged, comma-separated (engine/bill_lifecycle.py); others wait for approval
    stage_bill_statuses: str = Field(
        default=DEFAULT_STAGE_BILL_STATUSES, sa_column_kwargs={"server_default": DEFAULT_STAGE_BILL_STATUSES}
    )
    # JSON object: Zoho payment_terms_label -> ServiceNow payment term (engine/payment_terms.py); None: none
    payment_terms_overrides: str | None = None
    # the ServiceNow user (user name or email) named as invoices' business owner (engine/business_owner.py)
    business_owner: str | None = None
    # JSON object: cost center (Zoho name or ServiceNow account number) -> the user owning its bills instead
    cost_center_owners: str | None = None
    created_at: datetime = _created()


class CostCenterMap(SQLModel, table=True):
    """A Zoho cost center (reporting-tag option or location) and the cmn_cost_center it maps to."""

    __tablename__ = "cost_center_map"
    __table_args__ = (sa.UniqueConstraint("profile_id", "zoho_key"),)

    id: int | None = Field(default=None, primary_key=True)
    profile_id: int = Field(foreign_key="sync_profile.id", index=True)
    zoho_key: str  # tag_option_id or location_id
    zoho_name: str
    sn_sys_id: str | None = None
    sn_account_number: str | None = None
    sn_name: str | None = None
    origin: str = Field(default=MappingOrigin.AUTO)
    status: str = Field(default=MappingStatus.MISSING, index=True)
    updated_at: datetime = _created()


class GLAccountMap(SQLModel, table=True):
    """A Zoho chart-of-accounts entry and the sn_fin_gl_account it maps to."""

    __tablename__ = "gl_account_map"
    __table_args__ = (sa.UniqueConstraint("profile_id", "zoho_account_id"),)

    id: int | None = Field(default=None, primary_key=True)
    profile_id: int = Field(foreign_key="sync_profile.id", index=True)
    zoho_account_id: str
    zoho_code: str | None = None
    zoho_name: str
    sn_sys_id: str | None = None
    sn_number: str | None = None
    sn_name: str | None = None
    origin: str = Field(default=MappingOrigin.AUTO)
    status: str = Field(default=MappingStatus.MISSING, index=True)
    updated_at: datetime = _created()


class SupplierMap(SQLModel, table=True):
    """A Zoho vendor contact and the sn_fin_supplier it maps to."""

    __tablename__ = "supplier_map"
    __table_args__ = (sa.UniqueConstraint("profile_id", "zoho_vendor_id"),)

    id: int | None = Field(default=None, primary_key=True)
    profile_id: int = Field(foreign_key="sync_profile.id", index=True)
    zoho_vendor_id: str
    zoho_name: str
    tax_id: str | None = None
    sn_sys_id: str | None = None
    sn_supplier_code: str | None = None  # ERP supplier code used on invoice staging rows
    sn_name: str | None = None
    origin: str = Field(default=MappingOrigin.AUTO)
    status: str = Field(default=MappingStatus.MISSING, index=True)
    updated_at: datetime = _created()


class SyncRun(SQLModel, table=True):
    """One run of the engine over one profile."""

    __tablename__ = "sync_run"

    id: int | None = Field(default=None, primary_key=True)
    profile_id: int = Field(foreign_key="sync_profile.id", index=True)
    trigger: str = Field(default=RunTrigger.MANUAL)
    mode: str = Field(default="changed")  # "full" | "changed" | "webhook" | "replay" | "refresh"
    status: str = Field(default=RunStatus.RUNNING, index=True)
    started_at: datetime = Field(
        default_factory=_utcnow, sa_column=sa.Column(UTCDateTime(), nullable=False, index=True)
    )
    finished_at: datetime | None = _ts()
    heartbeat_at: datetime | None = _ts()
    staged: int = 0
    failed: int = 0
    skipped: int = 0
    unchanged: int = 0
    zoho_requests: int = 0
    servicenow_requests: int = 0
    message: str | None = _text()


class AuditRecord(SQLModel, table=True):
    """The latest state of one Zoho record in ServiceNow staging; its history is in AuditAttempt."""

    __tablename__ = "audit_record"
    __table_args__ = (
        sa.UniqueConstraint("profile_id", "kind", "zoho_id"),
        sa.Index("ix_audit_status_kind_updated", "status", "kind", "updated_at"),
        sa.Index("ix_audit_profile_updated", "profile_id", "updated_at"),
        sa.Index("ix_audit_doc_date_updated", "doc_date", "updated_at"),  # a period's page, index-only
        sa.Index("ix_audit_sn_status_updated", "sn_status", "updated_at"),  # the ServiceNow status filter
    )

    id: int | None = Field(default=None, primary_key=True)
    profile_id: int = Field(foreign_key="sync_profile.id")
    run_id: int | None = Field(default=None, foreign_key="sync_run.id", index=True)
    kind: str  # RecordKind; filtered with the profile or a status, whose indexes serve it (migration 0003)
    zoho_id: str = Field(index=True)
    zoho_number: str | None = Field(default=None, index=True)
    zoho_modified: str | None = None  # last_modified_time exactly as Zoho sent it
    vendor_name: str | None = Field(default=None, index=True)
    amount: Decimal | None = _money()
    currency: str | None = None
    doc_date: str | None = None  # yyyy-mm-dd in the org's time zone
    external_key: str = Field(index=True)  # coalesce key in ServiceNow staging
    payload_hash: str | None = None
    source_payload: str | None = _text()
    mapped_payload: str | None = _text()
    status: str = AuditStatus.PENDING  # indexed first in ix_audit_status_kind_updated
    error_code: str | None = None
    error_message: str | None = _text()
    staging_status: str | None = None  # inserted | updated | ignored | skipped | error
    sn_sys_id: str | None = None
    sn_import_set: str | None = None
    # ServiceNowStatus of the invoice at the last status refresh (bills that reached ServiceNow; detail in
    # ServiceNowStatusRecord). A refresh never moves `updated_at`: the page order is the staging order.
    sn_status: str | None = None
    attempts: int = 0
    created_at: datetime = _created()
    updated_at: datetime = Field(
        default_factory=_utcnow, sa_column=sa.Column(UTCDateTime(), nullable=False, index=True)
    )


class AuditProblem(SQLModel, table=True):
    """One thing that keeps an audit record from being staged: its error code and what it names (the cost
    center, GL account or vendor; None when nothing in particular). Written by the audit writer with the
    record's error_code/error_message and cleared when the record is written again, so a failed record's
    problems are counted by code and subject, never by matching message text."""

    __tablename__ = "audit_problem"

    id: int | None = Field(default=None, primary_key=True)
    audit_id: int = Field(
        sa_column=sa.Column(
            sa.Integer(), sa.ForeignKey("audit_record.id", ondelete="CASCADE"), nullable=False, index=True
        )
    )
    code: str  # problems.ErrorCode
    subject: str | None = None


class ServiceNowStatusRecord(SQLModel, table=True):
    """What the last status refresh read about a staged invoice in ServiceNow: its state, open exceptions,
    the import errors of its last staging and its outbound posting (one row per followed audit record)."""

    __tablename__ = "servicenow_status"
    __table_args__ = (sa.Index("ix_servicenow_status_profile_status", "profile_id", "status"),)

    audit_id: int = Field(
        sa_column=sa.Column(
            sa.Integer(), sa.ForeignKey("audit_record.id", ondelete="CASCADE"), primary_key=True
        )
    )
    profile_id: int = Field(foreign_key="sync_profile.id")
    invoice_sys_id: str
    status: str  # ServiceNowStatus
    state: str | None = None  # sn_shop_invoice.state as stored
    number: str | None = None
    erp_number: str | None = None
    erp_posting_date: str | None = None
    amount: Decimal | None = _money()
    currency: str | None = None
    amount_paid: Decimal | None = _money()
    exceptions: str | None = _text()  # JSON list: open exceptions (level, definition, description, line)
    import_errors: str | None = _text()  # JSON list: transform errors of the last staging
    outbound_status: str | None = None  # the latest outbound record's integration status
    processing_message: str | None = _text()
    replay_fixes: bool = False  # every open problem is one that re-staging the record can fix
    summary: str | None = _text()  # one sentence for the operator
    checked_at: datetime = _created()
    changed_at: datetime = _created()


class ServiceNowStatusChange(SQLModel, table=True):
    """One change of a record's ServiceNow status: when, from, to and why (the detail pane's history)."""

    __tablename__ = "servicenow_status_change"

    id: int | None = Field(default=None, primary_key=True)
    audit_id: int = Field(
        sa_column=sa.Column(
            sa.Integer(), sa.ForeignKey("audit_record.id", ondelete="CASCADE"), nullable=False, index=True
        )
    )
    run_id: int | None = Field(default=None, foreign_key="sync_run.id")
    at: datetime = _created()
    from_status: str | None = None
    to_status: str
    why: str | None = _text()


class AuditAttempt(SQLModel, table=True):
    """One attempt to stage one record: the history the audit detail pane shows."""

    __tablename__ = "audit_attempt"

    id: int | None = Field(default=None, primary_key=True)
    audit_id: int = Field(foreign_key="audit_record.id", index=True)
    run_id: int | None = Field(default=None, foreign_key="sync_run.id", index=True)
    attempt_no: int = 1
    started_at: datetime = _created()
    finished_at: datetime | None = _ts()
    status: str = Field(default=AuditStatus.PENDING)
    error_code: str | None = None
    error_message: str | None = _text()
    staging_status: str | None = None
    sn_sys_id: str | None = None
    payload_hash: str | None = None


class SyncCursor(SQLModel, table=True):
    """Incremental position per profile and entity (Zoho's last_modified_time string)."""

    __tablename__ = "sync_cursor"
    __table_args__ = (sa.UniqueConstraint("profile_id", "entity"),)

    id: int | None = Field(default=None, primary_key=True)
    profile_id: int = Field(foreign_key="sync_profile.id", index=True)
    entity: str  # "bills" | "vendorpayments" | "contacts"
    cursor_value: str | None = None
    last_full_sweep_at: datetime | None = _ts()
    updated_at: datetime = _created()


class WebhookEvent(SQLModel, table=True):
    """A verified Zoho webhook, stored before the receiver answers 2xx."""

    __tablename__ = "webhook_event"

    id: int | None = Field(default=None, primary_key=True)
    profile_id: int | None = Field(default=None, foreign_key="sync_profile.id", index=True)
    received_at: datetime = _created()
    event_type: str  # bill.created | bill.edited | bill.voided | bill.deleted | vendorpayment.created
    entity_id: str | None = Field(default=None, index=True)
    body_hash: str = Field(unique=True)  # the same delivery twice is stored once
    body: str = Field(sa_column=sa.Column(sa.Text(), nullable=False))
    status: str = Field(default=InboxStatus.NEW, index=True)
    processed_at: datetime | None = _ts()
    error: str | None = _text()


class Schedule(SQLModel, table=True):
    """A cron schedule for runs of one profile."""

    __tablename__ = "schedule"

    id: int | None = Field(default=None, primary_key=True)
    profile_id: int = Field(foreign_key="sync_profile.id", index=True)
    name: str
    cron: str
    mode: str = Field(default="changed")
    enabled: bool = Field(default=True)
    last_run_at: datetime | None = _ts()
    next_run_at: datetime | None = _ts()
    created_at: datetime = _created()


class RunLock(SQLModel, table=True):
    """At most one run per profile: the row is the lock; a stale heartbeat lets a new run take it."""

    __tablename__ = "run_lock"

    profile_id: int = Field(primary_key=True, foreign_key="sync_profile.id")
    run_id: int | None = Field(default=None, foreign_key="sync_run.id")
    holder: str  # host:pid
    acquired_at: datetime = _created()
    heartbeat_at: datetime = _created()


class ZohoBudgetWindow(SQLModel, table=True):
    """One Zoho organization's request budget as every process of the deployment shares it (zoho-ref §6).

    Times are epoch seconds of the database server's clock (PostgreSQL) or of the host (SQLite), so every
    process stamps on one clock. See `zbsn.core.budget_store`.
    """

    __tablename__ = "zoho_budget"

    organization_id: str = Field(primary_key=True)
    # completion stamps of the requests in the last window, ascending (a JSON list of floats)
    done: str = Field(default="[]", sa_column=sa.Column(sa.Text(), nullable=False))
    # requests in flight: {lease: [admitted_at, holder "host:pid", weight]} (a JSON object)
    leases: str = Field(default="{}", sa_column=sa.Column(sa.Text(), nullable=False))
    paused_until: float | None = Field(default=None)
    pause_reason: str | None = Field(default=None)
    total: int = Field(default=0)  # requests completed by the deployment, ever
    day_count: int = Field(default=0)  # ... since Zoho's daily quota was last seen to reset
    remaining_today: int | None = Field(default=None)  # Zoho's X-Rate-Limit-Remaining, last seen
    daily_limit: int | None = Field(default=None)  # Zoho's X-Rate-Limit-Limit, last seen
    reset_at: float | None = Field(default=None)
    window_s: float = Field(default=60.0)  # the window the last writer counted in
    updated_at: float = Field(default=0.0)


class VaultMeta(SQLModel, table=True):
    """Proof of which key encrypted the secrets: a known plaintext encrypted under it."""

    __tablename__ = "vault_meta"

    id: int | None = Field(default=None, primary_key=True)
    key_id: str  # fingerprint of the data key (never the key)
    check_value: str = Field(sa_column=sa.Column(sa.Text(), nullable=False), repr=False)
    created_at: datetime = _created()
