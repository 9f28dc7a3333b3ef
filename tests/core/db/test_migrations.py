"""Migrations build the whole schema from empty, on SQLite and PostgreSQL, and match the models."""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlmodel import SQLModel

from zbsn.core.db import migrate, models
from zbsn.core.db.engine import make_engine


def test_upgrade_from_empty_creates_every_table(db_url: str) -> None:
    engine = make_engine(db_url)
    assert migrate.current_revision(engine) is None
    migrate.upgrade(engine)
    assert migrate.is_current(engine)
    tables = set(sa.inspect(engine).get_table_names())
    assert {t.name for t in SQLModel.metadata.sorted_tables} <= tables
    engine.dispose()


def _only_model_objects(
    obj: object, name: str | None, type_: str, reflected: bool, compare_to: object
) -> bool:
    """Leave out the search index migration 0002 builds outside the models (FTS5 table, trigram index) and
    the job queue's own schema 0006 applies on PostgreSQL (procrastinate's tables and their indexes)."""
    table = getattr(getattr(obj, "table", None), "name", "") or ""
    if "procrastinate" in (name or "") or table.startswith("procrastinate_"):
        return False
    return not (name or "").startswith(("audit_text", "ix_audit_text"))


def test_migrations_match_the_models(db_url: str) -> None:
    engine = make_engine(db_url)
    migrate.upgrade(engine)
    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"include_object": _only_model_objects})
        diff = compare_metadata(context, SQLModel.metadata)
    assert diff == [], f"models changed without a migration: {diff}"
    engine.dispose()


def test_upgrade_is_idempotent(db_url: str) -> None:
    engine = make_engine(db_url)
    migrate.upgrade(engine)
    migrate.upgrade(engine)
    assert migrate.current_revision(engine) == migrate.head_revision()
    engine.dispose()


def test_audit_indexes_exist(engine: sa.Engine) -> None:
    indexes = {ix["name"] for ix in sa.inspect(engine).get_indexes(models.AuditRecord.__tablename__)}
    for wanted in (
        "ix_audit_status_kind_updated",
        "ix_audit_record_zoho_number",
        "ix_audit_record_vendor_name",
    ):
        assert wanted in indexes


def test_sqlite_runs_in_wal_mode(sqlite_engine: sa.Engine) -> None:
    with sqlite_engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"


def _audit_rows_at_0003(engine: sa.Engine) -> dict[str, int]:
    """A profile and four audit records written before 0004: zoho id -> audit id.

    Written as plain SQL with the columns revision 0003 has (the models describe the newest schema)."""
    now = datetime(2026, 12, 1, tzinfo=UTC)
    with engine.begin() as conn:
        ids = []
        for kind, name in (("zoho", "z"), ("servicenow", "s")):
            ids.append(
                conn.execute(
                    sa.text(
                        "INSERT INTO connection (kind, name, state, created_at, updated_at)"
                        " VALUES (:kind, :name, 'new', :now, :now) RETURNING id"
                    ),
                    {"kind": kind, "name": name, "now": now},
                ).scalar_one()
            )
        profile_id = conn.execute(
            sa.text(
                "INSERT INTO sync_profile (name, zoho_connection_id, servicenow_connection_id,"
                " cost_center_source, cost_center_tag_name, allow_supplier_create, erp_source,"
                " overlap_seconds, full_sweep_hours, enabled, created_at) VALUES ('p', :zoho, :sn,"
                " 'reporting_tag', 'Cost Center', false, 'Zoho Books', 300, 24, true, :now) RETURNING id"
            ),
            {"zoho": ids[0], "sn": ids[1], "now": now},
        ).scalar_one()
        two_problems = "cost center 'Ops' is not mapped; GL account 'Travel' is not mapped"
        records = [
            ("b1", "bill", "failed", "UNMAPPED_COST_CENTER", two_problems),
            ("p1", "payment", "failed", "INVOICE_NOT_STAGED", "bill 7 is not staged yet"),
            ("b2", "bill", "staged", None, None),
            ("b3", "bill", "skipped", None, "voided in Zoho Books; never staged, nothing to cancel"),
        ]
        found: dict[str, int] = {}
        for zoho_id, kind, status, code, message in records:
            found[zoho_id] = conn.execute(
                sa.text(
                    "INSERT INTO audit_record (profile_id, kind, zoho_id, external_key, status, error_code,"
                    " error_message, attempts, created_at, updated_at) VALUES (:profile, :kind, :zoho_id,"
                    " :key, :status, :code, :message, 0, :now, :now) RETURNING id"
                ),
                {
                    "profile": profile_id,
                    "kind": kind,
                    "zoho_id": zoho_id,
                    "key": f"ZB-1-{zoho_id}",
                    "status": status,
                    "code": code,
                    "message": message,
                    "now": now,
                },
            ).scalar_one()
        return found


def _problem_rows(engine: sa.Engine) -> set[tuple[int, str, str | None]]:
    with engine.connect() as conn:
        rows = conn.execute(sa.text("SELECT audit_id, code, subject FROM audit_problem"))
        return {(audit_id, code, subject) for audit_id, code, subject in rows}


def test_0004_backfills_one_problem_per_error_code_and_downgrades(db_url: str) -> None:
    engine = make_engine(db_url)
    migrate.upgrade(engine, "0003")
    ids = _audit_rows_at_0003(engine)

    migrate.upgrade(engine)

    # the code of each failed record; its subject (and any later problem) lived only in the message: NULL
    backfilled = {(ids["b1"], "UNMAPPED_COST_CENTER", None), (ids["p1"], "INVOICE_NOT_STAGED", None)}
    assert _problem_rows(engine) == backfilled
    with engine.begin() as conn:
        command.downgrade(migrate.alembic_config(conn), "0003")
    assert "audit_problem" not in sa.inspect(engine).get_table_names()
    assert migrate.current_revision(engine) == "0003"
    migrate.upgrade(engine)
    assert _problem_rows(engine) == backfilled
    engine.dispose()


def test_0005_adds_the_servicenow_status_and_the_posting_option_keeping_search(db_url: str) -> None:
    engine = make_engine(db_url)
    migrate.upgrade(engine, "0004")
    ids = _audit_rows_at_0003(engine)

    migrate.upgrade(engine)

    with engine.connect() as conn:
        assert bool(conn.execute(sa.text("SELECT post_outbound_as_erp FROM sync_profile")).scalar_one())
        statuses = conn.execute(sa.text("SELECT DISTINCT sn_status FROM audit_record")).scalars().all()
    assert statuses == [None]  # nothing backfilled: the first refresh reads them
    indexes = {ix["name"] for ix in sa.inspect(engine).get_indexes("audit_record")}
    assert "ix_audit_sn_status_updated" in indexes
    if engine.dialect.name == "sqlite":  # the plain ADD COLUMN kept migration 0002's search triggers
        with engine.begin() as conn:
            conn.execute(
                sa.text("UPDATE audit_record SET vendor_name = 'Bright Cleaning Ltd' WHERE id = :i"),
                {"i": ids["b2"]},
            )
            found = conn.execute(
                sa.text("SELECT rowid FROM audit_text WHERE audit_text MATCH '\"cleaning\"'")
            )
            assert found.scalars().all() == [ids["b2"]]
    with engine.begin() as conn:
        command.downgrade(migrate.alembic_config(conn), "0004")
    tables = set(sa.inspect(engine).get_table_names())
    assert {"servicenow_status", "servicenow_status_change"}.isdisjoint(tables)
    assert "sn_status" not in {c["name"] for c in sa.inspect(engine).get_columns("audit_record")}
    migrate.upgrade(engine)
    assert migrate.is_current(engine)


def test_0006_applies_the_job_queue_schema_on_postgresql_once(db_url: str) -> None:
    engine = make_engine(db_url)
    migrate.upgrade(engine)
    tables = set(sa.inspect(engine).get_table_names())
    assert "zoho_budget" in tables
    queue = {"procrastinate_jobs", "procrastinate_workers", "procrastinate_periodic_defers"}
    if engine.dialect.name == "postgresql":
        assert queue <= tables
        with engine.begin() as conn:  # a database that already has it (applied by hand) is left alone
            command.downgrade(migrate.alembic_config(conn), "0005")
        assert "zoho_budget" not in sa.inspect(engine).get_table_names()
        assert queue <= set(sa.inspect(engine).get_table_names())
        migrate.upgrade(engine)
        assert migrate.is_current(engine)
    else:
        assert not queue & tables  # SQLite deployments do not queue jobs
    engine.dispose()
