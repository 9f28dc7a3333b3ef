"""Migrations build the whole schema from empty, on SQLite and PostgreSQL, and match the models."""

from __future__ import annotations

import sqlalchemy as sa
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
    """Leave out the search index migration 0002 builds outside the models (FTS5 table, trigram index)."""
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
