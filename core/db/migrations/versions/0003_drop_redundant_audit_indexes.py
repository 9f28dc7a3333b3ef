"""audit log: drop three indexes no query needs, each one a write on every audit row

Every audit row is inserted (pending) before its ServiceNow write and updated after it, and each update of
`status`/`error_code` rewrites the entries of every index holding them. Three of those indexes serve no query:

- `ix_audit_record_status`: every status filter also walks `ix_audit_status_kind_updated`, whose first column
  is `status` (a prefix of a composite index serves an equality on it).
- `ix_audit_record_kind`: kind is always filtered with the profile (the unique `(profile_id, kind, zoho_id)`
  serves that) or with a status (`ix_audit_status_kind_updated`); alone, three values cannot narrow anything.
- `ix_audit_record_error_code`: nothing filters or sorts on the error code.

Dropping them takes about a fifth off the audit writer's time per record (measured with 20,000 records);
the console's pages and filters at a million rows are unchanged (`benchmarks/tui.py`).

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-04 17:30:00
"""

from __future__ import annotations

from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

_DROPPED = (
    ("ix_audit_record_status", "status"),
    ("ix_audit_record_kind", "kind"),
    ("ix_audit_record_error_code", "error_code"),
)


def upgrade() -> None:
    for name, _column in _DROPPED:
        op.drop_index(name, table_name="audit_record")


def downgrade() -> None:
    for name, column in _DROPPED:
        op.create_index(name, "audit_record", [column], unique=False)
