"""Migrations build the whole schema from empty, on SQLite and PostgreSQL, and match the models."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlmodel import SQLModel

from zbsn.core.db import migrate, models
from zbsn.core.db.engine import make_engine, session_scope


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
    """A profile and four audit records written before 0004: zoho id -> audit id."""
    with session_scope(engine) as session:
        zoho, sn = models.Connection(kind="zoho", name="z"), models.Connection(kind="servicenow", name="s")
        session.add_all([zoho, sn])
        session.flush()
        assert zoho.id is not None
        assert sn.id is not None
        profile = models.SyncProfile(name="p", zoho_connection_id=zoho.id, servicenow_connection_id=sn.id)
        session.add(profile)
        session.flush()
        assert profile.id is not None
        two_problems = "cost center 'Ops' is not mapped; GL account 'Travel' is not mapped"
        records = [
            ("b1", "bill", "failed", "UNMAPPED_COST_CENTER", two_problems),
            ("p1", "payment", "failed", "INVOICE_NOT_STAGED", "bill 7 is not staged yet"),
            ("b2", "bill", "staged", None, None),
            ("b3", "bill", "skipped", None, "voided in Zoho Books; never staged, nothing to cancel"),
        ]
        rows = [
            models.AuditRecord(
                profile_id=profile.id,
                kind=kind,
                zoho_id=zoho_id,
                external_key=f"ZB-1-{zoho_id}",
                status=status,
                error_code=code,
                error_message=message,
            )
            for zoho_id, kind, status, code, message in records
        ]
        session.add_all(rows)
        session.flush()
        return {r.zoho_id: r.id for r in rows if r.id is not None}


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


def test_0006_applies_the_job_queue_schema_on_postgresql_once(db_url: str) -> None:
    engine = make_engine(db_url)
    migrate.upgrade(engine)
    tables = set(sa.inspect(engine).get_table_names())
    assert "zoho_budget" in tables
    queue = {"procrastinate_jobs", "procrastinate_workers", "procrastinate_periodic_defers"}
    if engine.dialect.name == "postgresql":
        assert queue <= tables
        with engine.begin() as conn:  # a database that already has it (applied by hand) is left alone
            command.downgrade(migrate.alembic_config(conn), "0004")
        assert "zoho_budget" not in sa.inspect(engine).get_table_names()
        assert queue <= set(sa.inspect(engine).get_table_names())
        migrate.upgrade(engine)
        assert migrate.is_current(engine)
    else:
        assert not queue & tables  # SQLite deployments do not queue jobs
    engine.dispose()
