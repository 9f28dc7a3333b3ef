"""audit log substring search: FTS5 trigram table (SQLite), pg_trgm GIN index (PostgreSQL)

The console's free-text filter must find "ltd" inside "Bright Cleaning Ltd" at a million rows. B-tree indexes
serve only prefixes, so each backend gets its own trigram index over the searchable text of a record:
`lower(zoho_number || zoho_id || vendor_name || external_key)`.

- SQLite: a contentless FTS5 table `audit_text` (tokenizer `trigram`, case-insensitive) whose rowid is the
  audit record's id, kept in step by triggers.
- PostgreSQL: `pg_trgm` and a GIN index on the same expression, so `LIKE '%ltd%'` uses it. Creating the
  extension needs the right privilege; when it is refused the index is skipped and the search still works,
  only without the index (a savepoint keeps the rest of the migration).

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-24 10:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

SEARCH_TEXT_SQL = (
    "lower(coalesce({p}zoho_number, '') || ' ' || coalesce({p}zoho_id, '') || ' ' || "
    "coalesce({p}vendor_name, '') || ' ' || coalesce({p}external_key, ''))"
)

_SQLITE = [
    "CREATE VIRTUAL TABLE audit_text USING fts5(body, content='', tokenize='trigram')",
    "INSERT INTO audit_text(rowid, body) SELECT id, {new} FROM audit_record",
    """CREATE TRIGGER audit_text_ai AFTER INSERT ON audit_record BEGIN
        INSERT INTO audit_text(rowid, body) VALUES (new.id, {new_row});
    END""",
    """CREATE TRIGGER audit_text_ad AFTER DELETE ON audit_record BEGIN
        INSERT INTO audit_text(audit_text, rowid, body) VALUES ('delete', old.id, {old_row});
    END""",
    """CREATE TRIGGER audit_text_au AFTER UPDATE OF zoho_number, zoho_id, vendor_name, external_key
        ON audit_record BEGIN
        INSERT INTO audit_text(audit_text, rowid, body) VALUES ('delete', old.id, {old_row});
        INSERT INTO audit_text(rowid, body) VALUES (new.id, {new_row});
    END""",
]


def upgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name == "sqlite":
        values = {
            "new": SEARCH_TEXT_SQL.format(p=""),
            "new_row": SEARCH_TEXT_SQL.format(p="new."),
            "old_row": SEARCH_TEXT_SQL.format(p="old."),
        }
        for statement in _SQLITE:
            op.execute(statement.format(**values))
    elif bind.dialect.name == "postgresql":
        savepoint = bind.begin_nested()
        try:
            bind.execute(sa.text("CREATE EXTENSION IF NOT EXISTS pg_trgm"))
        except sa.exc.DBAPIError:
            savepoint.rollback()
            return
        savepoint.commit()
        op.execute(
            "CREATE INDEX ix_audit_text_trgm ON audit_record USING gin "
            f"(({SEARCH_TEXT_SQL.format(p='')}) gin_trgm_ops)"
        )


def downgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name == "sqlite":
        for trigger in ("audit_text_ai", "audit_text_ad", "audit_text_au"):
            op.execute(f"DROP TRIGGER IF EXISTS {trigger}")
        op.execute("DROP TABLE IF EXISTS audit_text")
    elif bind.dialect.name == "postgresql":
        op.execute("DROP INDEX IF EXISTS ix_audit_text_trgm")
