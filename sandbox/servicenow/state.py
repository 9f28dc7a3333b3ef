"""In-memory tables: records are flat `dict[str, str]` with ServiceNow's sys fields maintained on write.

Values are stored as strings (as the Table API renders them); an unset column is `""`. A reference column
stores the referenced sys_id. `sys_import_set_row` is not stored: it is answered as the union of every
staging table (ServiceNow's staging tables extend it).

Indexes: every table is a dict by sys_id. Secondary indexes on column tuples (the coalesce and reference keys
the transforms look up: cost center by account_number, GL account by number, supplier by ERP code, invoice by
external number + source, lines by header + line number, staging rows by import set, ...) are built the first
time a lookup asks for them and then kept up to date by `insert`/`update`/`delete`, so a lookup costs the same
with 10 or 10 million records. They key on lowercased values (as `find` compares); callers wanting exact
matches filter the few candidates. Results keep insertion order (every record carries a sequence number), so
an indexed lookup answers exactly what the former full scan answered.
"""

from __future__ import annotations

import random
import threading
from collections.abc import Iterable, Iterator, Mapping
from datetime import datetime
from typing import Any, Protocol

from zbsn.core.clock import Clock

from .schema import ALL_TABLES, IMPORT_SET_ROW, STAGING_TABLES, VIRTUAL_TABLES, TableSchema

Record = dict[str, str]


class VirtualTable(Protocol):
    """A read-only table computed on demand (the metadata tables): its rows and a version that changes with
    them."""

    def rows(self) -> list[Record]: ...

    def version(self) -> int: ...


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
            name: {} for name in ALL_TABLES if name not in VIRTUAL_TABLES
        }
        self._virtual: dict[str, VirtualTable] = {}
        self._numbers: dict[str, int] = {}
        self._row_counts: dict[str, int] = {}
        # table -> sys_id -> insertion sequence (orders index hits like the table's own iteration order)
        self._seq: dict[str, dict[str, int]] = {name: {} for name in self._tables}
        self._next_seq = 0
        # table -> columns -> lowercased key -> sys_ids (an ordered set)
        self._indexes: dict[str, dict[tuple[str, ...], dict[tuple[str, ...], dict[str, None]]]] = {}
        # table -> a counter bumped on every write (lets readers cache a query's result between writes)
        self._versions: dict[str, int] = {name: 0 for name in self._tables}
        self._now_second: datetime | None = None  # the second `now_text` last formatted, and its text
        self._now_text = ""

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
        """The instance clock, formatted as ServiceNow stores sys dates (formatted once per second: every
        insert and update stamps it, and strftime was a tenth of the sandbox's time under load)."""
        second = self.clock.now().replace(microsecond=0)
        if second != self._now_second:
            self._now_second, self._now_text = second, format_datetime(second)
        return self._now_text

    def register_virtual(self, table: str, provider: VirtualTable) -> None:
        """Answer `table` (one of schema.METADATA_TABLES) from `provider` instead of stored records."""
        self._virtual[table] = provider

    # --- reads ---------------------------------------------------------------------------------------
    @staticmethod
    def is_stored(table: str) -> bool:
        """Whether `table` holds records of its own (not a view, not computed metadata)."""
        return table in ALL_TABLES and table not in VIRTUAL_TABLES

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
                    yield _import_set_row(record)
            return
        provider = self._virtual.get(table)
        if provider is not None:
            yield from provider.rows()
            return
        yield from self._tables.get(table, {}).values()

    def get(self, table: str, sys_id: str) -> Record | None:
        """One record by sys_id, or None."""
        if table == IMPORT_SET_ROW.name:
            for staging in STAGING_TABLES:
                record = self._tables[staging].get(sys_id)
                if record is not None:
                    return _import_set_row(record)
            return None
        if table in self._virtual:
            return next((r for r in self._virtual[table].rows() if r["sys_id"] == sys_id), None)
        return self._tables.get(table, {}).get(sys_id)

    def find(self, table: str, **criteria: str) -> Record | None:
        """The first record whose columns equal `criteria` (case-insensitive), or None."""
        if table in VIRTUAL_TABLES or not criteria:
            wanted = {k: v.lower() for k, v in criteria.items()}
            for record in self.records(table):
                if all(record.get(k, "").lower() == v for k, v in wanted.items()):
                    return record
            return None
        columns = tuple(sorted(criteria))
        hits = self._index(table, columns).get(tuple(criteria[c].lower() for c in columns))
        if not hits:
            return None
        rows = self._tables[table]
        if len(hits) == 1:
            return rows[next(iter(hits))]
        return rows[min(hits, key=self._seq[table].__getitem__)]

    def find_all(self, table: str, **criteria: str) -> list[Record]:
        """Every record whose columns equal `criteria` (case-insensitive), in insertion order."""
        return self.candidates(table, tuple(criteria), [tuple(criteria.values())])

    def candidates(
        self, table: str, columns: tuple[str, ...], keys: Iterable[tuple[str, ...]]
    ) -> list[Record]:
        """Records whose `columns` equal any of `keys` case-insensitively, in `records(table)` order.

        A superset of the exact (case-sensitive) matches: callers needing exact equality filter these.
        """
        if table == IMPORT_SET_ROW.name:
            return [
                _import_set_row(record)
                for staging in STAGING_TABLES
                for record in self.candidates(staging, columns, keys)
            ]
        if table in VIRTUAL_TABLES:
            wanted = {tuple(v.lower() for v in key) for key in keys}
            return [r for r in self.records(table) if tuple(r.get(c, "").lower() for c in columns) in wanted]
        order = sorted(columns)
        positions = [columns.index(c) for c in order]
        index = self._index(table, tuple(order))
        found: dict[str, None] = {}
        for key in keys:
            hits = index.get(tuple(key[i].lower() for i in positions))
            if hits:
                found.update(hits)
        seq = self._seq[table]
        rows = self._tables[table]
        return [rows[sys_id] for sys_id in sorted(found, key=seq.__getitem__)]

    def version(self, table: str) -> int:
        """A number that changes whenever a record of `table` is written (the union's, for the view)."""
        if table == IMPORT_SET_ROW.name:
            return sum(self._versions[staging] for staging in STAGING_TABLES)
        provider = self._virtual.get(table)
        if provider is not None:
            return provider.version()
        return self._versions[table]

    def _index(self, table: str, columns: tuple[str, ...]) -> dict[tuple[str, ...], dict[str, None]]:
        """The index of `table` on `columns` (sorted), built on first use and maintained on every write."""
        indexes = self._indexes.setdefault(table, {})
        index = indexes.get(columns)
        if index is None:
            index = {}
            for sys_id, record in self._tables[table].items():
                index.setdefault(_key(record, columns), {})[sys_id] = None
            indexes[columns] = index
        return index

    def _unindex(self, table: str, record: Record) -> None:
        for columns, index in self._indexes.get(table, {}).items():
            key = _key(record, columns)
            hits = index.get(key)
            if hits is not None:
                hits.pop(record["sys_id"], None)
                if not hits:
                    del index[key]

    def _reindex(self, table: str, record: Record) -> None:
        for columns, index in self._indexes.get(table, {}).items():
            index.setdefault(_key(record, columns), {})[record["sys_id"]] = None

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
        rows = self._tables[table]
        previous = rows.get(record["sys_id"])
        if previous is not None:  # a caller-chosen sys_id replaces the record in place (same position)
            self._unindex(table, previous)
        else:
            self._seq[table][record["sys_id"]] = self._next_seq
            self._next_seq += 1
        rows[record["sys_id"]] = record
        self._reindex(table, record)
        self._versions[table] += 1
        return record

    def update(self, table: str, sys_id: str, values: Mapping[str, Any], user: str = "system") -> Record:
        """Change known columns; sys_updated_on and sys_mod_count move only when a value really changed."""
        schema = ALL_TABLES[table]
        record = self._tables[table][sys_id]
        indexed = bool(self._indexes.get(table))
        before = dict(record) if indexed else record
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
            self._versions[table] += 1
            if indexed:
                self._unindex(table, before)
                self._reindex(table, record)
        return record

    def delete(self, table: str, sys_id: str) -> bool:
        """Remove a record; False when it did not exist."""
        record = self._tables[table].pop(sys_id, None)
        if record is None:
            return False
        self._unindex(table, record)
        del self._seq[table][sys_id]
        self._versions[table] += 1
        return True

    def display_value(self, table: str, sys_id: str) -> str:
        """The display-field value of a referenced record ("" when it is gone)."""
        record = self.get(table, sys_id) if self.has_table(table) else None
        if record is None:
            return ""
        return record.get(ALL_TABLES[table].display_field, "")


def _key(record: Record, columns: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(record.get(c, "").lower() for c in columns)


def _import_set_row(record: Record) -> Record:
    """A staging row as the `sys_import_set_row` view shows it."""
    return {name: record.get(name, "") for name in IMPORT_SET_ROW.field_names}


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
