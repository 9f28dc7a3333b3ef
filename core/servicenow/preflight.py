"""Pre-flight: does this instance have what zbsn's staging needs? (issue 15, part 5)

Read in one Batch API request (batch.py), before anything is staged:
- `sys_dictionary` for every staging table zbsn writes: the columns and their labels (`name`, `element`,
  `column_label`, `mandatory`) - a column the instance lacks is never written, a required one blocks;
- `sys_transform_map` / `sys_transform_entry`: an active map per staging table, and which fields coalesce
  (`map`, `source_field`, `coalesce`) - without a map the rows stay pending forever, without coalesce every
  re-stage duplicates;
- `sys_rest_insert_multiple`: whether insertMultiple keys a table by label or column name, and is synchronous
  (c_ImportSetAPI.md [C]; this table's column names `source_table`, `transformation`, `column_mapping` are
  [I], and its choice values are read by display value to be safe);
- `sys_user_has_role` of the requesting user (`userDYNAMIC<Me>` [S]): the OAuth application user's roles.
Column names of the platform tables are the usual ones seen in public instance code [S]. A metadata table the
user may not read is reported (a warning), not guessed.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from zbsn.core.servicenow import labels as staging
from zbsn.core.servicenow.batch import BatchReader, TableRead
from zbsn.core.servicenow.errors import ServiceNowAPIError
from zbsn.core.servicenow.preflight_report import (
    InsertMultipleSetting,
    KeyBy,
    PreflightReport,
    RoleRequirement,
    TableCheck,
)
from zbsn.core.servicenow.query import ME_FILTER, EncodedQuery

# The staging tables the engine writes (the master-data tables only when it creates suppliers).
DEFAULT_TABLES: tuple[str, ...] = (
    staging.INVOICE,
    staging.INVOICE_LINE,
    staging.INVOICE_TAX_LINE,
    staging.PAYMENT_DETAIL,
    staging.SUPPLIER,
    staging.SUPPLIER_LEGAL_ENTITY,
    staging.FX_RATE,
)
# Columns without which zbsn's rows cannot be transformed or matched again: the coalesce keys and references.
REQUIRED_COLUMNS: dict[str, tuple[str, ...]] = {
    staging.INVOICE: (
        "u_external_invoice_number",
        "u_erp_source",
        "u_supplier",
        "u_supplier_invoice_number",
        "u_invoice_date",
        "u_currency",
        "u_amount_invoiced",
    ),
    staging.INVOICE_LINE: (
        "u_external_invoice_number",
        "u_erp_source",
        "u_erp_line_number",
        "u_cost_center",
        "u_gl_account",
        "u_subtotal",
    ),
    staging.INVOICE_TAX_LINE: ("u_external_invoice_number", "u_tax_type", "u_tax_amount"),
    staging.PAYMENT_DETAIL: (
        "u_erp_invoice_number",
        "u_payment_reference_id",
        "u_payment_amount",
        "u_payment_date",
    ),
    staging.SUPPLIER: ("u_erp_supplier_code", "u_name"),
    staging.SUPPLIER_LEGAL_ENTITY: ("u_supplier", "u_legal_entity"),
    staging.FX_RATE: ("u_from_currency", "u_to_currency", "u_conversion_date", "u_exchange_rate"),
}
# What zbsn's exactly-once staging relies on the map coalescing on (sn-ref §4.3, §13 [I]).
EXPECTED_COALESCE: dict[str, tuple[str, ...]] = {
    staging.INVOICE: ("u_external_invoice_number",),
    staging.INVOICE_LINE: ("u_erp_line_number",),
    staging.INVOICE_TAX_LINE: ("u_tax_type",),
    staging.PAYMENT_DETAIL: ("u_payment_reference_id",),
    staging.SUPPLIER: ("u_erp_supplier_code",),
    staging.SUPPLIER_LEGAL_ENTITY: ("u_supplier", "u_legal_entity"),
    staging.FX_RATE: ("u_from_currency", "u_to_currency", "u_conversion_date"),  # [I]
}
# import_transformer [S] (sn-ref §4.3); the integrator roles of the staging and outbound tables and the
# AP roles are in the S2P docs [C]. `admin` holds every role.
DEFAULT_ROLES: tuple[RoleRequirement, ...] = (
    RoleRequirement(purpose="stage rows through the Import Set API", any_of=("import_transformer", "admin")),
    RoleRequirement(
        purpose="write the S2P staging and outbound tables",
        any_of=("sn_spend_intg.procurement_integrator", "sn_spend_intg.admin", "admin"),
    ),
    RoleRequirement(
        purpose="read invoice exceptions (status follow-up)",
        any_of=("sn_ap_apm.reader", "sn_ap_apm.accounts_payable_specialist", "sn_ap_apm.admin", "admin"),
        blocking=False,
    ),
)


def _value(record: Mapping[str, Any], field: str) -> str:
    value = record.get(field)
    if isinstance(value, dict):
        value = value.get("value")
    return "" if value is None else str(value)


def _shown(record: Mapping[str, Any], field: str) -> str:
    value = record.get(field)
    if isinstance(value, dict):
        value = value.get("display_value", value.get("value"))
    return "" if value is None else str(value)


def _true(text: str) -> bool:
    return text.strip().lower() in ("true", "1", "yes")


def _insert_multiple(record: Mapping[str, Any]) -> InsertMultipleSetting:
    mapping = f"{_value(record, 'column_mapping')} {_shown(record, 'column_mapping')}".lower()
    transformation = f"{_value(record, 'transformation')} {_shown(record, 'transformation')}".lower()
    synchronous = "synchronous" in transformation.replace("asynchronous", "")
    return InsertMultipleSetting(
        synchronous=synchronous, keyed_by="column" if "column" in mapping else "label"
    )


async def run_preflight(
    reader: BatchReader,
    *,
    instance_url: str,
    labels: Mapping[str, Mapping[str, str]],
    key_by: KeyBy = "label",
    tables: Sequence[str] = DEFAULT_TABLES,
    written: Mapping[str, Iterable[str]] | None = None,
    roles: Sequence[RoleRequirement] = DEFAULT_ROLES,
) -> PreflightReport:
    """Check the instance for every staging table in `tables`; `labels` are the columns zbsn may write (and
    the labels it knows), `written` (optional) the columns it does write, to name mandatory ones it skips."""
    names = list(dict.fromkeys(tables))
    reads = [
        TableRead(
            "sys_dictionary",
            EncodedQuery().in_("name", names),
            ("name", "element", "column_label", "mandatory", "active"),
        ),
        TableRead(
            "sys_transform_map",
            EncodedQuery().in_("source_table", names).eq("active", "true"),
            ("sys_id", "name", "source_table", "target_table", "active"),
        ),
        TableRead(
            "sys_transform_entry",
            EncodedQuery().in_("map.source_table", names),
            ("map", "map.source_table", "source_field", "target_field", "coalesce"),
        ),
        TableRead(
            "sys_rest_insert_multiple",
            EncodedQuery().in_("source_table", names),
            ("source_table", "transformation", "column_mapping"),
            "all",
        ),
        TableRead("sys_user_has_role", EncodedQuery().dynamic("user", ME_FILTER), ("role", "role.name")),
    ]
    results = await reader.read_each(reads)
    unreadable = {
        read.table: f"HTTP {result.status_code} {result.message}"
        for read, result in zip(reads, results, strict=True)
        if isinstance(result, ServiceNowAPIError)
    }
    dictionary, maps, entries, multiple, user_roles = (
        [] if isinstance(r, ServiceNowAPIError) else r for r in results
    )
    active_maps: dict[str, str] = {}  # map sys_id -> staging table
    map_names: dict[str, list[str]] = {}
    for record in maps:
        if _true(_value(record, "active")) or not _value(record, "active"):
            active_maps[_value(record, "sys_id")] = _value(record, "source_table")
            map_names.setdefault(_value(record, "source_table"), []).append(_value(record, "name"))
    coalesce: dict[str, list[str]] = {}
    for record in entries:
        table = active_maps.get(_value(record, "map"))
        if table is not None and _true(_value(record, "coalesce")):
            coalesce.setdefault(table, []).append(_value(record, "source_field"))
    settings = {_value(r, "source_table"): _insert_multiple(r) for r in multiple}
    checks = {
        table: _table_check(
            table,
            [r for r in dictionary if _value(r, "name") == table],
            dictionary_read="sys_dictionary" not in unreadable,
            maps_read="sys_transform_map" not in unreadable and "sys_transform_entry" not in unreadable,
            labels=labels.get(table, {}),
            written=set(written[table]) if written and table in written else None,
            map_names=map_names.get(table, []),
            coalesce=sorted(set(coalesce.get(table, []))),
            insert_multiple=settings.get(table),
        )
        for table in names
    }
    held = None if "sys_user_has_role" in unreadable else sorted({_value(r, "role.name") for r in user_roles})
    missing_roles = [] if held is None else [r for r in roles if not set(r.any_of) & set(held)]
    return PreflightReport(
        instance_url=instance_url,
        key_by=key_by,
        tables=checks,
        roles=held,
        missing_roles=missing_roles,
        unreadable=unreadable,
    )


def _table_check(
    table: str,
    dictionary: list[dict[str, Any]],
    *,
    dictionary_read: bool,
    maps_read: bool,
    labels: Mapping[str, str],
    written: set[str] | None,
    map_names: list[str],
    coalesce: list[str],
    insert_multiple: InsertMultipleSetting | None,
) -> TableCheck:
    columns = {
        _value(r, "element"): _value(r, "column_label")
        for r in dictionary
        if _value(r, "element") and _value(r, "active").lower() != "false"
    }
    exists = bool(dictionary) or not dictionary_read
    required = REQUIRED_COLUMNS.get(table, ())
    wanted = list(dict.fromkeys([*required, *labels]))
    missing = [c for c in wanted if c not in columns] if dictionary_read and exists else []
    mandatory = sorted(
        _value(r, "element")
        for r in dictionary
        if _true(_value(r, "mandatory")) and _value(r, "element").startswith("u_")
    )
    return TableCheck(
        table=table,
        dictionary_read=dictionary_read,
        exists=exists,
        columns=columns,
        missing_required=[c for c in missing if c in required],
        missing_optional=[c for c in missing if c not in required],
        label_mismatches={
            column: (ours, columns[column])
            for column, ours in labels.items()
            if column in columns and columns[column] and columns[column] != ours
        },
        mandatory_unwritten=[c for c in mandatory if written is not None and c not in written],
        maps_read=maps_read,
        transform_maps=map_names,
        coalesce=coalesce,
        expected_coalesce=list(EXPECTED_COALESCE.get(table, ())),
        insert_multiple=insert_multiple or InsertMultipleSetting(),
        insert_multiple_configured=insert_multiple is not None,
    )
