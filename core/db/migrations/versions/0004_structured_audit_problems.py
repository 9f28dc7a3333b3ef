"""audit problems stored structured: one row per problem (code, subject) of a failed audit record

Until now a record's problems were only text: `error_code` held the first problem's code and `error_message`
every problem's English sentence, so the blocked-bill counts matched `LIKE '%cost center …%'` on messages.
`audit_problem` holds each problem's code and subject (the cost center, GL account or vendor it names); the
audit writer writes it with error_code/error_message and clears it when the record is written again.

Backfill: every record carrying an `error_code` gets one problem row with that code and a NULL subject.

What it cannot recover: the subject of any problem (which cost center, GL account or vendor) and the codes of
a record's second and later problems existed only inside the English `error_message`, and are not parsed
back out of it. A record failed before this migration therefore counts in no mapping's blocked bills
(`EngineService.mappings`) until it is written again: replayed, or re-read when it changes in Zoho. The
preview re-validates every bill it shows, so its counts are unaffected.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-06 10:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "audit_problem",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("audit_id", sa.Integer(), nullable=False),
        sa.Column("code", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("subject", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.ForeignKeyConstraint(["audit_id"], ["audit_record.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_audit_problem_audit_id", "audit_problem", ["audit_id"], unique=False)
    op.execute(
        "INSERT INTO audit_problem (audit_id, code, subject) "
        "SELECT id, error_code, NULL FROM audit_record WHERE error_code IS NOT NULL"
    )


def downgrade() -> None:
    op.drop_index("ix_audit_problem_audit_id", table_name="audit_problem")
    op.drop_table("audit_problem")
