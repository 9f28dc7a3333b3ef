"""Import Set API `/api/now/import/{staging_table}` (sn-ref §4.1).

- `POST /api/now/import/{t}`: one row keyed by column NAME (`u_...`), transformed synchronously; 201 with
  `{import_set, staging_table, result:[{transform_map, table, display_name, display_value, record_link,
  status, sys_id, status_message?, error_message?}]}` - an `error` row is still a 201.
- `GET /api/now/import/{t}/{staging_sys_id}`: the same shape for an earlier row.
- `POST /api/now/import/{t}/insertMultiple` `{"records":[...]}`: keys are column LABELS unless the table's
  settings say `column_mapping="name"`; async by default (`{import_set_id, multi_import_set_id}`, rows
  transformed shortly after, outcomes on `sys_import_set_row`), or sync per table (then also `result[]`,
  one entry per record, in order).

For `inserted`/`updated`/`ignored` rows, `table`/`sys_id` name the target record. For `skipped`/`error`
rows there is no target: the sandbox puts the staging table and the staging row's sys_id there [I].

An error row's `sys_row_error` references its `sys_import_set_row_error` record (row_errors.py); the reason is
also in `sys_import_state_comment` unless `config.row_error_comment` is off. A staging table whose transform
map was removed (metadata.py) keeps its rows pending and its import set loading [I]; a single-row insert into
it answers `result: []`.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from .config import ServiceNowSandboxConfig
from .gateway import failure
from .metadata import Metadata
from .row_errors import RowErrors
from .schema import ALL_TABLES, STAGING_TABLES
from .state import Database, Record, as_string
from .table_api import NOT_FOUND, base_url
from .transforms import TRANSFORM_MAPS, TransformEngine


def _flatten(value: Any) -> str:
    """Staging values are strings; nested objects are mangled like ServiceNow does (`:` becomes `=`)."""
    if isinstance(value, dict | list):
        return json.dumps(value, separators=(",", "=")).replace('"', "")
    return as_string(value)


class ImportSetService:
    """Staging rows, import sets and their transformation."""

    def __init__(
        self, db: Database, config: ServiceNowSandboxConfig, engine: TransformEngine, metadata: Metadata
    ) -> None:
        self.db = db
        self.config = config
        self.engine = engine
        self.metadata = metadata
        self.errors = RowErrors(db, config)

    # --- import sets -------------------------------------------------------------------------------------
    def web_service_set(self, staging_table: str) -> Record:
        """The reused synchronous set of a staging table; a new one each day (the old one -> processed)."""
        today = self.db.now_text()[:10]
        for record in self.db.find_all("sys_import_set", table_name=staging_table, mode="synchronous"):
            if (
                record["table_name"] == staging_table
                and record["mode"] == "synchronous"
                and record["state"] == "loading"
                and not record["multi_import_set"]
            ):
                if record["sys_created_on"][:10] == today:
                    return record
                self.db.update("sys_import_set", record["sys_id"], {"state": "processed"})
        return self.db.insert(
            "sys_import_set", {"table_name": staging_table, "state": "loading", "mode": "synchronous"}
        )

    def stage_row(self, staging_table: str, values: dict[str, str], import_set: Record) -> Record:
        """Insert one pending staging row; `sys_import_row` counts up from 0 within its import set."""
        schema = STAGING_TABLES[staging_table]
        known = {
            k: v
            for k, v in values.items()
            if k in schema.by_name and k.startswith("u_") and self.metadata.has_column(staging_table, k)
        }
        return self.db.insert(
            staging_table,
            {
                **known,
                "sys_import_set": import_set["sys_id"],
                "sys_import_row": str(self.db.next_row_index(import_set["sys_id"])),
                "sys_import_state": "pending",
                "sys_class_name": staging_table,
                "sys_target_table": TRANSFORM_MAPS[staging_table].target_table,
                "sys_transform_map": TRANSFORM_MAPS[staging_table].name,
            },
        )

    def transform_row(self, staging_table: str, row: Record) -> Record:
        """Run the map on a staged row and record the outcome on it (no map: the row stays pending)."""
        if not self.metadata.has_transform_map(staging_table):
            return row
        transform = TRANSFORM_MAPS[staging_table]
        outcome = self.engine.run(transform, {k: v for k, v in row.items() if k.startswith("u_")})
        failed = outcome.status == "error"
        return self.db.update(
            staging_table,
            row["sys_id"],
            {
                "sys_import_state": outcome.status,
                "sys_import_state_comment": ""
                if failed and not self.config.row_error_comment
                else outcome.message,
                "sys_row_error": self.errors.record(staging_table, row, outcome.message) if failed else "",
                "sys_target_sys_id": outcome.target_sys_id,
            },
        )

    def stage_and_transform(self, staging_table: str, values: dict[str, str]) -> Record:
        """Stage one row into the day's web-service set and transform it now (caller holds the lock)."""
        import_set = self.web_service_set(staging_table)
        return self.transform_row(staging_table, self.stage_row(staging_table, values, import_set))

    def process_set(self, set_sys_id: str) -> None:
        """Transform every pending row of an (async) import set in row order, then mark it processed."""
        with self.db.lock:
            import_set = self.db.get("sys_import_set", set_sys_id)
            if import_set is None:
                return  # reset in the meantime
            staging_table = import_set["table_name"]
            rows = [
                r
                for r in self.db.find_all(staging_table, sys_import_set=set_sys_id)
                if r["sys_import_set"] == set_sys_id and r["sys_import_state"] == "pending"
            ]
            if not self.metadata.has_transform_map(staging_table):
                return  # nothing transforms these rows: the set stays loading [I]
            for row in sorted(rows, key=lambda r: int(r["sys_import_row"] or 0)):
                self.transform_row(staging_table, row)
            self.db.update("sys_import_set", set_sys_id, {"state": "processed"})

    # --- rendering ---------------------------------------------------------------------------------------
    def result_entry(self, staging_table: str, row: Record, base: str) -> dict[str, Any]:
        """One `result[]` entry for a transformed staging row."""
        transform = TRANSFORM_MAPS[staging_table]
        status = row["sys_import_state"]
        entry: dict[str, Any] = {"transform_map": transform.name}
        target = (
            self.db.get(transform.target_table, row["sys_target_sys_id"])
            if row["sys_target_sys_id"]
            else None
        )
        if target is not None:
            entry.update(
                table=transform.target_table,
                display_name=transform.display_field,
                display_value=target.get(transform.display_field, ""),
                record_link=f"{base}/api/now/table/{transform.target_table}/{target['sys_id']}",
                status=status,
                sys_id=target["sys_id"],
            )
        else:
            entry.update(
                table=staging_table,
                display_name="sys_id",
                display_value=row["sys_id"],
                record_link=f"{base}/api/now/table/{staging_table}/{row['sys_id']}",
                status=status,
                sys_id=row["sys_id"],
            )
        if status == "error":
            entry["error_message"] = self.errors.message(row) or row["sys_import_state_comment"]
        elif row["sys_import_state_comment"]:
            entry["status_message"] = row["sys_import_state_comment"]
        return entry

    def _set_number(self, row: Record) -> str:
        import_set = self.db.get("sys_import_set", row["sys_import_set"])
        return import_set["number"] if import_set else ""

    # --- handlers ----------------------------------------------------------------------------------------
    async def insert_one(self, request: Request) -> Response:
        """POST /api/now/import/{staging_table}."""
        staging_table = request.path_params["table"]
        if staging_table not in STAGING_TABLES:
            return _not_staging(staging_table)
        body = await _json(request)
        if not isinstance(body, dict):
            return failure(400, "Invalid request", "Expected a JSON object of column name/value pairs")
        values = {k: _flatten(v) for k, v in body.items()}
        with self.db.lock:
            import_set = self.web_service_set(staging_table)
            row = self.stage_and_transform(staging_table, values)
            transformed = row["sys_import_state"] != "pending"
            entries = [self.result_entry(staging_table, row, base_url(request))] if transformed else []
        return JSONResponse(
            {"import_set": import_set["number"], "staging_table": staging_table, "result": entries},
            status_code=201,
        )

    async def read_one(self, request: Request) -> Response:
        """GET /api/now/import/{staging_table}/{sys_id} (sys_id of the staging row)."""
        staging_table, sys_id = request.path_params["table"], request.path_params["sys_id"]
        if staging_table not in STAGING_TABLES:
            return _not_staging(staging_table)
        with self.db.lock:
            row = self.db.get(staging_table, sys_id)
            if row is None:
                return failure(404, *NOT_FOUND)
            if row["sys_import_state"] == "pending":
                entry: dict[str, Any] = {
                    "transform_map": TRANSFORM_MAPS[staging_table].name,
                    "table": staging_table,
                    "status": "pending",
                    "sys_id": sys_id,
                }
            else:
                entry = self.result_entry(staging_table, row, base_url(request))
            number = self._set_number(row)
        return JSONResponse({"import_set": number, "staging_table": staging_table, "result": [entry]})

    async def insert_multiple(self, request: Request) -> Response:
        """POST /api/now/import/{staging_table}/insertMultiple."""
        staging_table = request.path_params["table"]
        if staging_table not in STAGING_TABLES:
            return _not_staging(staging_table)
        body = await _json(request)
        records = body.get("records") if isinstance(body, dict) else None
        if not isinstance(records, list) or not all(isinstance(r, dict) for r in records):
            return failure(400, "Invalid request", 'Expected {"records":[{...}, ...]}')
        settings = self.config.settings_for(staging_table)
        schema = ALL_TABLES[staging_table]
        by_label = {
            c.label: c.name
            for c in schema.columns
            if c.name.startswith("u_") and self.metadata.has_column(staging_table, c.name)
        }
        synchronous = settings.mode == "sync"
        with self.db.lock:
            multi_id = request.query_params.get("multi_import_set_id") or self.db.new_sys_id()
            import_set = self.db.insert(
                "sys_import_set",
                {
                    "table_name": staging_table,
                    "state": "loading",
                    "mode": "synchronous" if synchronous else "asynchronous",
                    "multi_import_set": multi_id,
                },
            )
            rows = []
            for record in records:
                if settings.column_mapping == "name":
                    values = {k: _flatten(v) for k, v in record.items()}
                else:
                    values = {by_label[k]: _flatten(v) for k, v in record.items() if k in by_label}
                rows.append(self.stage_row(staging_table, values, import_set))
            answer: dict[str, Any] = {"import_set_id": import_set["sys_id"], "multi_import_set_id": multi_id}
            if synchronous and self.metadata.has_transform_map(staging_table):
                base = base_url(request)
                answer["result"] = [
                    self.result_entry(staging_table, self.transform_row(staging_table, row), base)
                    for row in rows
                ]
                self.db.update("sys_import_set", import_set["sys_id"], {"state": "processed"})
            elif synchronous:
                answer["result"] = []  # no map ran [I]
        if not synchronous:
            asyncio.get_running_loop().call_later(
                self.config.async_delay_seconds, self.process_set, import_set["sys_id"]
            )
        return JSONResponse(answer, status_code=201)


def _not_staging(table: str) -> JSONResponse:
    if table in ALL_TABLES:
        return failure(400, "Invalid staging table", f"Table {table} is not an import set table")
    return failure(400, f"Invalid table {table}", f"Table {table} does not exist")


async def _json(request: Request) -> Any:
    try:
        return json.loads(await request.body() or b"null")
    except ValueError:
        return None
