"""the ServiceNow status of each staged invoice, its history, and the profile option to post as the ERP

- `audit_record.sn_status`: the invoice's ServiceNowStatus at the last status refresh, with the index
  (sn_status, updated_at) that serves the Audit screen's ServiceNow-status filter in page order.
- `servicenow_status`: what the last refresh read per followed record (state, open exceptions, import errors
  of the last staging, outbound posting, whether a replay can fix it, a sentence for the operator).
- `servicenow_status_change`: every change of a record's ServiceNow status (when, from, to, why).
- `sync_profile.post_outbound_as_erp` (default true): zbsn marks the outbound invoices of the bills it staged
  Processed, Zoho Books being the ERP.

Nothing is backfilled: records staged before this migration get their ServiceNow status at the first
refresh (the first run after the upgrade follows every bill that reached ServiceNow).

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-07 10:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

from zbsn.core.db.models import UTCDateTime

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # plain ADD/DROP COLUMN (SQLite 3.35+ has both): a batch rebuild of audit_record would drop the search
    # triggers of migration 0002
    op.add_column(
        "sync_profile",
        sa.Column("post_outbound_as_erp", sa.Boolean(), nullable=False, server_default=sa.true()),
    )
    op.add_column("audit_record", sa.Column("sn_status", sqlmodel.sql.sqltypes.AutoString(), nullable=True))
    op.create_index("ix_audit_sn_status_updated", "audit_record", ["sn_status", "updated_at"], unique=False)
    op.create_table(
        "servicenow_status",
        sa.Column("audit_id", sa.Integer(), nullable=False),
        sa.Column("profile_id", sa.Integer(), nullable=False),
        sa.Column("invoice_sys_id", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("status", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("state", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("number", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("erp_number", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("erp_posting_date", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("amount", sa.Numeric(18, 4), nullable=True),
        sa.Column("currency", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("amount_paid", sa.Numeric(18, 4), nullable=True),
        sa.Column("exceptions", sa.Text(), nullable=True),
        sa.Column("import_errors", sa.Text(), nullable=True),
        sa.Column("outbound_status", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("processing_message", sa.Text(), nullable=True),
        sa.Column("replay_fixes", sa.Boolean(), nullable=False),
        sa.Column("summary", sa.Text(), nullable=True),
        sa.Column("checked_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("changed_at", UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["audit_id"], ["audit_record.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["profile_id"], ["sync_profile.id"]),
        sa.PrimaryKeyConstraint("audit_id"),
    )
    op.create_index(
        "ix_servicenow_status_profile_status", "servicenow_status", ["profile_id", "status"], unique=False
    )
    op.create_table(
        "servicenow_status_change",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("audit_id", sa.Integer(), nullable=False),
        sa.Column("run_id", sa.Integer(), nullable=True),
        sa.Column("at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("from_status", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("to_status", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("why", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(["audit_id"], ["audit_record.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["run_id"], ["sync_run.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(
        "ix_servicenow_status_change_audit_id", "servicenow_status_change", ["audit_id"], unique=False
    )


def downgrade() -> None:
    op.drop_index("ix_servicenow_status_change_audit_id", table_name="servicenow_status_change")
    op.drop_table("servicenow_status_change")
    op.drop_index("ix_servicenow_status_profile_status", table_name="servicenow_status")
    op.drop_table("servicenow_status")
    op.drop_index("ix_audit_sn_status_updated", table_name="audit_record")
    op.drop_column("audit_record", "sn_status")
    op.drop_column("sync_profile", "post_outbound_as_erp")
