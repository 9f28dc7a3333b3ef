"""the Zoho budget shared by every process of a deployment, and the job queue's schema on PostgreSQL

`zoho_budget`: one row per Zoho organization, the deployment's account of its requests (completion stamps
within the window, requests in flight, an org-wide pause, the daily figures); see `zbsn.core.budget_store`.

On PostgreSQL only, procrastinate's own schema (its tables, types, functions and triggers, `procrastinate_*`)
is applied from the installed procrastinate (`SchemaManager.get_schema()`), unless it is there already:
`zbsn worker` and `zbsn serve` run jobs through it. SQLite deployments do not queue jobs and get nothing.
A later procrastinate that changes its schema ships migration scripts; a later zbsn revision applies them
(the version is pinned in `pyproject.toml` for that reason). Downgrading leaves procrastinate's schema in
place (it holds no zbsn data; `DROP TABLE procrastinate_jobs CASCADE` and friends remove it by hand).

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-07 09:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "zoho_budget",
        sa.Column("organization_id", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("done", sa.Text(), nullable=False),
        sa.Column("leases", sa.Text(), nullable=False),
        sa.Column("paused_until", sa.Float(), nullable=True),
        sa.Column("pause_reason", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("total", sa.Integer(), nullable=False),
        sa.Column("day_count", sa.Integer(), nullable=False),
        sa.Column("remaining_today", sa.Integer(), nullable=True),
        sa.Column("daily_limit", sa.Integer(), nullable=True),
        sa.Column("reset_at", sa.Float(), nullable=True),
        sa.Column("window_s", sa.Float(), nullable=False),
        sa.Column("updated_at", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("organization_id"),
    )
    bind = op.get_bind()
    if bind.dialect.name == "postgresql":
        apply_job_queue_schema(bind)


def apply_job_queue_schema(bind: sa.Connection) -> None:
    """procrastinate's schema, once (a database that has it already is left alone)."""
    if bind.exec_driver_sql("SELECT to_regclass('procrastinate_jobs')").scalar() is not None:
        return
    try:
        from procrastinate.schema import SchemaManager
    except ImportError as exc:  # pragma: no cover - the postgres extra brings it
        raise RuntimeError(
            "PostgreSQL deployments need the job queue: pip install 'zbsn[postgres]' (procrastinate)"
        ) from exc
    # the driver reads % as a placeholder even without parameters: doubled, as procrastinate's applier does
    bind.exec_driver_sql(SchemaManager.get_schema().replace("%", "%%"))


def downgrade() -> None:
    op.drop_table("zoho_budget")
