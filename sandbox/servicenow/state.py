"""In-memory tables: records are flat `dict[str, str]` with ServiceNow's sys fields maintained on write.

Values are stored as strings (as the Table API renders them); an unset column is `""`. A reference column
stores the referenced sys_id. `sys_import_set_row` is not stored: it is answered as the union of every
staging table (ServiceNow's staging tables extend it).
"""

from __future__ import annotations

import random
import threading
from collections.abc import Iterator, Mapping
from datetime import datetime
from typing import Any

from zbsn.core.clock import Clock

from .schema import ALL_TABLES, IMPORT_SET_ROW, STAGING_TABLES, TableSchema

Record = dict[str, str]


def format_datetime(moment: datetime) -> str:
    """ServiceNow's UTC `YYYY-MM-DD HH:MM:SS`."""
    return moment.strftime("%Y-%m-%d %H:%M:%S")


def as_string(value: Any) -> str:
    """Coerce an incoming JSON value to the string ServiceNow would store."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


class Database:
    """All tables of one instance, guarded by one re-entrant lock (handlers and admin calls share it)."""

    def __init__(self, clock: Clock, seed: int = 7) -> None:
        self.clock = clock
        self.lock = threading.RLock()
        self._rng = random.Random(seed)
        self._tables: dict[str, dict[str, Record]] = {
            name: {} for name in ALL_TABLES if name != IMPORT_SET_ROW.name
        }
        self._numbers: dict[str, int] = {}
        self._row_counts: dict[str, int] = {}

    # --- identity ------------------------------------------------------------------------------------
    def new_sys_id(self) -> str:
        """32 lowercase hex characters, deterministic for a given seed."""
        return f"{self._rng.getrandbits(128):032x}"

    def _next_number(self, schema: TableSchema) -> str:
        count = self._numbers.get(schema.name, 0) + 1
        self._numbers[schema.name] = count
        base = 10000 if schema.name == "sys_import_set" else 1000
        return f"{schema.number_prefix}{base + count:07d}"

    def next_row_index(self, import_set_sys_id: str) -> int:
        """The 0-based `sys_import_row` for the next row staged into an import set."""
        index = self._row_counts.get(import_set_sys_id, 0)
        self._row_counts[import_set_sys_id] = index + 1
        return index

    def now_text(self) -> str:
        """The instance clock, formatted as ServiceNow stores sys dates."""
        return format_datetime(self.clock.now())

    # --- reads ---------------------------------------------------------------------------------------
    @staticmethod
    def has_table(table: str) -> bool:
        """Whether `table` exists on this instance."""
        return table in ALL_TABLES

    @staticmethod
    def schema(table: str) -> TableSchema:
        """The schema of an existing table."""
        return ALL_TABLES[table]

    def records(self, table: str) -> Iterator[Record]:
        """Every record of `table`, in insertion order (a union of staging tables for sys_import_set_row)."""
        if table == IMPORT_SET_ROW.name:
            for staging in STAGING_TABLES:
                for record in self._tables[staging].values():
                    yield {name: record.get(name, "") for name in IMPORT_SET_ROW.field_names}
            return
        yield from self._tables[table].values()

    def get(self, table: str, sys_id: str) -> Record | None:
        """One record by sys_id, or None."""
        if table == IMPORT_SET_ROW.name:
            return next((r for r in self.records(table) if r["sys_id"] == sys_id), None)
        return self._tables[table].get(sys_id)

    def find(self, table: str, **criteria: str) -> Record | None:
        """The first record whose columns equal `criteria` (case-insensitive), or None."""
        wanted = {k: v.lower() for k, v in criteria.items()}
        for record in self.records(table):
            if all(record.get(k, "").lower() == v for k, v in wanted.items()):
                return record
        return None

    # --- writes --------------------------------------------------------------------------------------
    def insert(self, table: str, values: Mapping[str, Any], user: str = "system") -> Record:
        """Create a record from known columns of `values` (unknown ones are ignored, as ServiceNow does)."""
        schema = ALL_TABLES[table]
        now = self.now_text()
        record: Record = {name: "" for name in schema.field_names}
        for name, value in values.items():
            if (name in schema.by_name and not name.startswith("sys_")) or name in _WRITABLE_SYS:
                record[name] = as_string(value)
        if schema.number_prefix and not record.get("number"):
            record["number"] = self._next_number(schema)
        record.update(
            sys_id=as_string(values.get("sys_id")) or self.new_sys_id(),
            sys_created_on=now,
            sys_updated_on=now,
            sys_mod_count="0",
            sys_created_by=user,
            sys_updated_by=user,
        )
        self._tables[table][record["sys_id"]] = record
        return record

    def update(self, table: str, sys_id: str, values: Mapping[str, Any], user: str = "system") -> Record:
        """Change known columns; sys_updated_on and sys_mod_count move only when a value really changed."""
        schema = ALL_TABLES[table]
        record = self._tables[table][sys_id]
        changed = False
        for name, value in values.items():
            if (name in schema.by_name and not name.startswith("sys_")) or name in _WRITABLE_SYS:
                text = as_string(value)
                if record.get(name, "") != text:
                    record[name] = text
                    changed = True
        if changed:
            record["sys_updated_on"] = self.now_text()
            record["sys_mod_count"] = str(int(record["sys_mod_count"] or "0") + 1)
            record["sys_updated_by"] = user
        return record

    def delete(self, table: str, sys_id: str) -> bool:
        """Remove a record; False when it did not exist."""
        return self._tables[table].pop(sys_id, None) is not None

    def display_value(self, table: str, sys_id: str) -> str:
        """The display-field value of a referenced record ("" when it is gone)."""
        record = self.get(table, sys_id) if self.has_table(table) else None
        if record is None:
            return ""
        return record.get(ALL_TABLES[table].display_field, "")


# Bookkeeping columns of import set rows are written by the transform engine, never through the Table API.
_WRITABLE_SYS = frozenset(
    {
        "sys_import_set",
        "sys_import_row",
        "sys_import_state",
        "sys_import_state_comment",
        "sys_row_error",
        "sys_target_table",
        "sys_target_sys_id",
        "sys_transform_map",
        "sys_class_name",
    }
)
