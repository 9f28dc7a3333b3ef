"""The metadata tables a pre-flight reads, computed from the schema and the live config (never stored).

- `sys_dictionary`: one collection row per table (`element` empty) and one row per column: `name` (table),
  `element` (column), `column_label`, `internal_type` (string | reference | currency2), `reference`,
  `mandatory` (the documented mandatory staging fields), `max_length`, `active`.
- `sys_transform_map`: one active map per staging table (`name`, `source_table`, `target_table`, `active`).
- `sys_transform_entry`: the field maps of each map (`map`, `source_field`, `target_field`, `coalesce`).
- `sys_rest_insert_multiple`: one row per staging table configured through `set_import_mode` (no row: the
  platform defaults, asynchronous and keyed by label).
- `sys_user_role` / `sys_user_has_role`: the roles of each user in `config.user_roles`.

Knobs (`remove_column`, `remove_transform_map`, `set_coalesce`, `set_roles`) change what an instance has: a
removed column is gone from the dictionary AND from staging (insertMultiple drops its label, a single-row
insert its name); a staging table without a map leaves its rows pending, as an instance with no map does [I].
sys_ids are stable hashes of what a row describes, so a row keeps its id across reads.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable

from .config import ServiceNowSandboxConfig
from .schema import (
    ALL_TABLES,
    FX_FIELDS,
    MANDATORY_COLUMNS,
    METADATA_TABLES,
    STAGING_TABLES,
    VIRTUAL_TABLES,
)
from .state import Database, Record
from .transforms import TRANSFORM_MAPS

# Roles every instance has, whoever holds them (the pre-flight names the ones missing) [S]/[C].
KNOWN_ROLES = (
    "admin",
    "import_transformer",
    "sn_spend_intg.admin",
    "sn_spend_intg.procurement_integrator",
    "sn_ap_apm.admin",
    "sn_ap_apm.accounts_payable_specialist",
    "sn_ap_apm.reader",
)


def stable_id(*parts: str) -> str:
    """A 32-hex sys_id derived from `parts` (the same parts, the same id)."""
    return hashlib.md5("|".join(("zbsn-sandbox", *parts)).encode(), usedforsecurity=False).hexdigest()


def role_id(name: str) -> str:
    """The sys_id of a `sys_user_role` by name."""
    return stable_id("sys_user_role", name)


class _Provider:
    def __init__(self, rows: Callable[[], list[Record]], version: Callable[[], int]) -> None:
        self.rows = rows
        self.version = version


class Metadata:
    """Answers the metadata tables of one instance and holds the knobs that change them."""

    def __init__(self, db: Database, config: ServiceNowSandboxConfig) -> None:
        self.db = db
        self.config = config

    def register(self) -> None:
        """Plug the providers into the database (again after a reset)."""
        providers: dict[str, Callable[[], list[Record]]] = {
            "sys_dictionary": self._dictionary,
            "sys_transform_map": self._transform_maps,
            "sys_transform_entry": self._transform_entries,
            "sys_rest_insert_multiple": self._insert_multiple,
            "sys_user_role": self._roles,
            "sys_user_has_role": self._user_roles,
        }
        assert set(providers) == {t.name for t in METADATA_TABLES}
        for table, rows in providers.items():
            self.db.register_virtual(table, _Provider(rows, self._version))

    # --- questions the rest of the sandbox asks ------------------------------------------------------------
    def has_column(self, table: str, column: str) -> bool:
        """Whether `table` still has `column` (staging columns can be removed)."""
        return column not in self.config.removed_columns.get(table, set())

    def has_transform_map(self, staging_table: str) -> bool:
        """Whether a transform map exists for `staging_table`."""
        return staging_table in TRANSFORM_MAPS and staging_table not in self.config.removed_transform_maps

    # --- knobs ---------------------------------------------------------------------------------------------
    def remove_column(self, table: str, column: str) -> None:
        """The instance no longer has `column` on the staging table `table`."""
        if table not in STAGING_TABLES or column not in STAGING_TABLES[table].by_name:
            raise ValueError(f"unknown staging column {table}.{column}")
        self.config.removed_columns.setdefault(table, set()).add(column)

    def restore_column(self, table: str, column: str) -> None:
        """Undo `remove_column`."""
        self.config.removed_columns.get(table, set()).discard(column)

    def remove_transform_map(self, staging_table: str) -> None:
        """The instance has no transform map for `staging_table` (its rows stay pending)."""
        if staging_table not in TRANSFORM_MAPS:
            raise ValueError(f"no transform map for {staging_table}")
        self.config.removed_transform_maps.add(staging_table)

    def restore_transform_map(self, staging_table: str) -> None:
        """Undo `remove_transform_map`."""
        self.config.removed_transform_maps.discard(staging_table)

    def set_coalesce(self, staging_table: str, columns: tuple[str, ...] | None) -> None:
        """Coalesce `staging_table`'s map on `columns` (empty: no coalesce; None: the default)."""
        if staging_table not in TRANSFORM_MAPS:
            raise ValueError(f"no transform map for {staging_table}")
        if columns is None:
            self.config.coalesce_overrides.pop(staging_table, None)
        else:
            self.config.coalesce_overrides[staging_table] = tuple(columns)

    def set_roles(self, user_name: str, roles: set[str]) -> None:
        """The roles `user_name` holds (replacing the ones it had)."""
        self.config.user_roles[user_name] = set(roles)

    # --- providers ------------------------------------------------------------------------------------------
    def _version(self) -> int:
        config = self.config
        fingerprint = (
            tuple(sorted((t, tuple(sorted(c))) for t, c in config.removed_columns.items())),
            tuple(sorted(config.removed_transform_maps)),
            tuple(sorted(config.coalesce_overrides.items())),
            config.invoice_coalesce,
            tuple(sorted((t, s.mode, s.column_mapping) for t, s in config.import_settings.items())),
            tuple(sorted((u, tuple(sorted(r))) for u, r in config.user_roles.items())),
            self.db.version("sys_user"),
        )
        return hash(fingerprint)

    def _row(self, table: str, key: tuple[str, ...], values: dict[str, str]) -> Record:
        record = {name: "" for name in ALL_TABLES[table].field_names}
        record.update(values)
        record.update(
            sys_id=stable_id(table, *key),
            sys_created_on="2026-01-01 00:00:00",
            sys_updated_on="2026-01-01 00:00:00",
            sys_mod_count="0",
            sys_created_by="system",
            sys_updated_by="system",
        )
        return record

    def _dictionary(self) -> list[Record]:
        rows: list[Record] = []
        for table, schema in ALL_TABLES.items():
            if table in VIRTUAL_TABLES:
                continue
            rows.append(
                self._row(
                    "sys_dictionary",
                    (table, ""),
                    {"name": table, "column_label": schema.label, "internal_type": "collection"},
                )
            )
            mandatory = MANDATORY_COLUMNS.get(table, frozenset())
            for column in schema.by_name.values():
                if not self.has_column(table, column.name):
                    continue
                kind = "reference" if column.reference else "string"
                if (table, column.name) in FX_FIELDS:
                    kind = "currency2"
                rows.append(
                    self._row(
                        "sys_dictionary",
                        (table, column.name),
                        {
                            "name": table,
                            "element": column.name,
                            "column_label": column.label,
                            "internal_type": kind,
                            "reference": column.reference or "",
                            "mandatory": "true" if column.name in mandatory else "false",
                            "max_length": "32" if column.reference else "100",  # [I] 40 or 100 documented
                            "active": "true",
                        },
                    )
                )
        return rows

    def _transform_maps(self) -> list[Record]:
        return [
            self._row(
                "sys_transform_map",
                (transform.staging_table,),
                {
                    "name": transform.name,
                    "source_table": transform.staging_table,
                    "target_table": transform.target_table,
                    "active": "true",
                },
            )
            for transform in TRANSFORM_MAPS.values()
            if self.has_transform_map(transform.staging_table)
        ]

    def _transform_entries(self) -> list[Record]:
        rows: list[Record] = []
        for transform in TRANSFORM_MAPS.values():
            if not self.has_transform_map(transform.staging_table):
                continue
            map_id = stable_id("sys_transform_map", transform.staging_table)
            coalescing = set(transform.coalesce_columns(self.config))
            for source, target in transform.field_map.items():
                if not self.has_column(transform.staging_table, source):
                    continue
                rows.append(
                    self._row(
                        "sys_transform_entry",
                        (transform.staging_table, source),
                        {
                            "map": map_id,
                            "source_table": transform.staging_table,
                            "source_field": source,
                            "target_table": transform.target_table,
                            "target_field": target,
                            "coalesce": "true" if source in coalescing else "false",
                        },
                    )
                )
        return rows

    def _insert_multiple(self) -> list[Record]:
        return [
            self._row(
                "sys_rest_insert_multiple",
                (table,),
                {
                    "source_table": table,
                    "transformation": "synchronous" if settings.mode == "sync" else "asynchronous",
                    "column_mapping": "column_name" if settings.column_mapping == "name" else "label",
                    "use_data_source_format": "false",
                },
            )
            for table, settings in sorted(self.config.import_settings.items())
        ]

    def _role_names(self) -> list[str]:
        held = {role for roles in self.config.user_roles.values() for role in roles}
        return list(dict.fromkeys([*KNOWN_ROLES, *sorted(held)]))

    def _roles(self) -> list[Record]:
        return [self._row("sys_user_role", (name,), {"name": name}) for name in self._role_names()]

    def _user_roles(self) -> list[Record]:
        rows: list[Record] = []
        for user_name, roles in sorted(self.config.user_roles.items()):
            user = self.db.find("sys_user", user_name=user_name)
            if user is None:
                continue
            for role in sorted(roles):
                rows.append(
                    self._row(
                        "sys_user_has_role",
                        (user["sys_id"], role),
                        {
                            "user": user["sys_id"],
                            "role": role_id(role),
                            "inherited": "false",
                            "state": "active",
                        },
                    )
                )
        return rows
