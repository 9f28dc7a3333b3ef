"""the business owner per profile, with overrides per cost center

- `sync_profile.business_owner` (nullable): the ServiceNow user (user name or email) an invoice header names
  as its business owner (`u_business_owner`).
- `sync_profile.cost_center_owners` (JSON, nullable): a cost center (Zoho name or ServiceNow account number)
  -> the user that owns its bills instead.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-06 09:10:00
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # plain ADD COLUMN: a batch rebuild of a table would drop the search triggers of migration 0002
    op.add_column(
        "sync_profile", sa.Column("business_owner", sqlmodel.sql.sqltypes.AutoString(), nullable=True)
    )
    op.add_column(
        "sync_profile", sa.Column("cost_center_owners", sqlmodel.sql.sqltypes.AutoString(), nullable=True)
    )


def downgrade() -> None:
    op.drop_column("sync_profile", "cost_center_owners")
    op.drop_column("sync_profile", "business_owner")
