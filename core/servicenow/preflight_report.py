"""The typed result of a pre-flight against a ServiceNow instance (preflight.py) and the messages it gives.

`problems` block a run (zbsn refuses to stage rather than poll for rows no transform will ever process);
`warnings` do not (zbsn adapts: a column the instance lacks is not written, labels and keying follow the
instance once `ServiceNowClient.apply_preflight(report)` is called).
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

KeyBy = Literal["label", "column"]


class _Model(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


class RoleRequirement(_Model):
    """Roles of which the OAuth application user needs at least one, and what for."""

    purpose: str
    any_of: tuple[str, ...]
    blocking: bool = True


class InsertMultipleSetting(_Model):
    """A `sys_rest_insert_multiple` row: how insertMultiple treats one staging table."""

    synchronous: bool = False
    keyed_by: KeyBy = "label"


class TableCheck(_Model):
    """What the instance has for one staging table zbsn writes."""

    table: str
    dictionary_read: bool = True  # False: sys_dictionary could not be read, columns are unknown
    exists: bool = True
    columns: dict[str, str] = Field(default_factory=dict)  # column name -> label on the instance
    missing_required: list[str] = Field(default_factory=list)
    missing_optional: list[str] = Field(default_factory=list)
    # column -> (the label zbsn knew, the instance's label)
    label_mismatches: dict[str, tuple[str, str]] = Field(default_factory=dict)
    mandatory_unwritten: list[str] = Field(default_factory=list)
    maps_read: bool = True
    transform_maps: list[str] = Field(default_factory=list)  # names of the active maps
    coalesce: list[str] = Field(default_factory=list)  # staging columns the maps coalesce on
    expected_coalesce: list[str] = Field(default_factory=list)  # what zbsn's exactly-once relies on
    insert_multiple: InsertMultipleSetting = Field(default_factory=InsertMultipleSetting)
    insert_multiple_configured: bool = False  # a sys_rest_insert_multiple row exists


class PreflightReport(_Model):
    """Everything a pre-flight found, with the blocking problems and warnings spelled out."""

    instance_url: str
    key_by: KeyBy = "label"  # how the client keys insertMultiple records unless told otherwise
    tables: dict[str, TableCheck] = Field(default_factory=dict)
    roles: list[str] | None = None  # the application user's roles (None: not readable)
    missing_roles: list[RoleRequirement] = Field(default_factory=list)
    unreadable: dict[str, str] = Field(default_factory=dict)  # metadata table -> why it could not be read

    @property
    def ok(self) -> bool:
        """True when nothing blocks a run."""
        return not self.problems

    @property
    def problems(self) -> list[str]:
        """What must be fixed on the instance before zbsn stages anything."""
        found: list[str] = []
        for check in self.tables.values():
            if check.dictionary_read and not check.exists:
                found.append(
                    f"{check.table} does not exist on the instance (is the Source-to-Pay Integration "
                    "Framework, sn_spend_intg, installed?)"
                )
                continue
            if check.missing_required:
                found.append(f"{check.table} lacks column(s) zbsn needs: {', '.join(check.missing_required)}")
            if check.maps_read and not check.transform_maps:
                found.append(
                    f"no active transform map reads {check.table}: staged rows would stay pending "
                    "(create or activate its map)"
                )
            elif check.maps_read and not check.coalesce:
                names = ", ".join(repr(n) for n in check.transform_maps)
                found.append(
                    f"transform map {names} of {check.table} coalesces on no field: every re-staged row "
                    "would create a duplicate (tick Coalesce on its key field)"
                )
        for requirement in self.missing_roles:
            if requirement.blocking:
                found.append(
                    f"the OAuth application user has no role to {requirement.purpose}: needs one of "
                    f"{', '.join(requirement.any_of)}"
                )
        return found

    def without(self, table: str) -> PreflightReport:
        """The report without one table's checks: for a table whose absence fails only the records that
        need it (FX rates), not the run."""
        return self.model_copy(update={"tables": {k: v for k, v in self.tables.items() if k != table}})

    def problems_of(self, table: str) -> list[str]:
        """The problems of one table's checks alone (no role is checked per table)."""
        kept = {k: v for k, v in self.tables.items() if k == table}
        return self.model_copy(update={"tables": kept, "missing_roles": []}).problems

    @property
    def warnings(self) -> list[str]:
        """What zbsn works around, or could not check."""
        found = [f"could not read {table}: {why}" for table, why in sorted(self.unreadable.items())]
        for check in self.tables.values():
            if check.missing_optional:
                found.append(
                    f"{check.table} lacks column(s) {', '.join(check.missing_optional)}: zbsn will not "
                    "write them"
                )
            for column, (ours, theirs) in sorted(check.label_mismatches.items()):
                found.append(
                    f"{check.table}.{column} is labelled {theirs!r} on the instance (zbsn knew {ours!r}); "
                    "insertMultiple keys by the instance's label"
                )
            missing_key = [c for c in check.expected_coalesce if c not in check.coalesce]
            if check.maps_read and check.coalesce and missing_key:
                found.append(
                    f"{check.table}'s map coalesces on {', '.join(check.coalesce)}, not on "
                    f"{', '.join(missing_key)}: re-staging relies on the map's own keys"
                )
            if check.insert_multiple.keyed_by != self.key_by:
                found.append(
                    f"insertMultiple keys {check.table} by {check.insert_multiple.keyed_by} "
                    f"(sys_rest_insert_multiple); zbsn keys that table so"
                )
            if check.mandatory_unwritten:
                found.append(
                    f"{check.table} marks {', '.join(check.mandatory_unwritten)} mandatory; zbsn does not "
                    "write them"
                )
        for requirement in self.missing_roles:
            if not requirement.blocking:
                found.append(
                    f"the OAuth application user has no role to {requirement.purpose} (one of "
                    f"{', '.join(requirement.any_of)})"
                )
        return found

    def columns(self) -> dict[str, frozenset[str]]:
        """Per staging table whose dictionary was read: the columns the instance has."""
        return {
            table: frozenset(check.columns)
            for table, check in self.tables.items()
            if check.dictionary_read and check.exists
        }

    def labels(self) -> dict[str, dict[str, str]]:
        """Per staging table: the instance's label of each column (what insertMultiple keys by)."""
        return {table: dict(check.columns) for table, check in self.tables.items() if check.columns}

    def key_by_table(self) -> dict[str, KeyBy]:
        """Per staging table: how insertMultiple keys its records on this instance."""
        return {table: check.insert_multiple.keyed_by for table, check in self.tables.items()}

    def summary(self) -> str:
        """One paragraph for a person: the problems, or that nothing blocks a run."""
        if self.ok:
            return f"{self.instance_url}: ready ({len(self.warnings)} warning(s))"
        lines = [f"{self.instance_url}: zbsn will not stage until these are fixed:"]
        lines += [f"- {problem}" for problem in self.problems]
        return "\n".join(lines)
