"""the Zoho bill lifecycle per profile: which bill statuses are staged, and payment-term overrides

- `sync_profile.stage_bill_statuses` (default `open,overdue,partially_paid,paid`): a bill in any other
  status (draft, pending approval) is skipped as waiting for approval in Zoho and staged once approved.
- `sync_profile.payment_terms_overrides` (JSON, nullable): a Zoho `payment_terms_label` -> the ServiceNow
  payment term the invoice header names.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-06 06:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

DEFAULT_STATUSES = "open,overdue,partially_paid,paid"


def upgrade() -> None:
    # plain ADD COLUMN: a batch rebuild of a table would drop the search triggers of migration 0002
    op.add_column(
        "sync_profile",
        sa.Column(
            "stage_bill_statuses",
            sqlmodel.sql.sqltypes.AutoString(),
            nullable=False,
            server_default=DEFAULT_STATUSES,
        ),
    )
    op.add_column(
        "sync_profile",
        sa.Column("payment_terms_overrides", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    )


def downgrade() -> None:
    op.drop_column("sync_profile", "payment_terms_overrides")
    op.drop_column("sync_profile", "stage_bill_statuses")
