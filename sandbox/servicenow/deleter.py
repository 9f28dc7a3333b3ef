"""The Import Set Deleter: import sets, their rows and row errors older than the retention are deleted.

delete-import-sets.md and c_ImportSetsKeyConcepts.md (ServiceNowDocs) [C]: the scheduled "Import Set Deleter"
runs every midnight and deletes import sets, and their import set rows, created more than seven days ago. The
platform's ImportSetCleaner (public instance code) also cleans `sys_import_set_row_error` [S]. Once the rows
are gone, `GET /api/now/import/{table}/{sys_id}` answers 404 and `sys_import_set_row` has nothing to say: a
client must follow the target record (`sys_target_sys_id`), not the row.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from .schema import STAGING_TABLES
from .state import Database, format_datetime


def delete_expired_import_sets(db: Database, now: datetime, retention_days: float) -> dict[str, int]:
    """Delete what is older than `retention_days` at `now` (caller holds `db.lock`); counts by kind."""
    cutoff = format_datetime(now - timedelta(days=retention_days))
    expired = [r for r in db.records("sys_import_set") if r["sys_created_on"] < cutoff]
    rows = 0
    for import_set in expired:
        table = import_set["table_name"]
        if table in STAGING_TABLES:
            for row in db.find_all(table, sys_import_set=import_set["sys_id"]):
                if row["sys_import_set"] == import_set["sys_id"]:
                    rows += db.delete(table, row["sys_id"])
        db.delete("sys_import_set", import_set["sys_id"])
    errors = [r["sys_id"] for r in db.records("sys_import_set_row_error") if r["sys_created_on"] < cutoff]
    for sys_id in errors:
        db.delete("sys_import_set_row_error", sys_id)
    return {"import_sets": len(expired), "rows": rows, "row_errors": len(errors)}
