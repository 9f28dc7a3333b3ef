"""A fake Import Set API for unit tests: staging rows, async sets that finish after N polls, sync mode."""

from __future__ import annotations

import itertools
import json
from dataclasses import dataclass, field
from typing import Any

import httpx

from .fakes import ok, sn_error

TARGETS = {"stage_a": "target_a", "stage_b": "target_b"}


@dataclass
class FakeImports:
    """Transforms rows by a rule: a value `BAD` in any column makes the row an `error`."""

    async_polls_until_done: int = 1  # polls that still see pending rows
    sync: bool = False
    total_count_header: bool = True  # answer X-Total-Count on table reads, as ServiceNow does
    insert_multiple_status: int | None = None  # answer insertMultiple with this error status instead
    rows: list[dict[str, str]] = field(default_factory=list)
    posted: list[tuple[str, Any]] = field(default_factory=list)  # (path, body)
    polls: int = 0
    ids: itertools.count[int] = field(default_factory=itertools.count)

    def outcome(self, values: dict[str, str]) -> tuple[str, str]:
        if "BAD" in values.values():
            return "error", "Cost center BAD not found"
        return "inserted", ""

    def _row(self, table: str, import_set: str, index: int, values: dict[str, str]) -> dict[str, str]:
        row = {
            "sys_id": f"stg{next(self.ids)}",
            "sys_import_set": import_set,
            "sys_import_row": str(index),
            "sys_import_state": "pending",
            "sys_import_state_comment": "",
            "sys_row_error": "",
            "sys_target_table": TARGETS.get(table, ""),
            "sys_target_sys_id": "",
            "values": values,
        }
        self.rows.append(row)
        return row

    def _transform(self, row: dict[str, Any]) -> None:
        status, message = self.outcome(row["values"])
        row["sys_import_state"] = status
        row["sys_row_error"] = message
        row["sys_target_sys_id"] = "" if status == "error" else f"tgt-{row['sys_id']}"

    def __call__(self, request: httpx.Request) -> httpx.Response:
        path = request.url.path
        if request.method == "POST":
            body = json.loads(request.content)
            self.posted.append((path, body))
            table = path.split("/")[4]
            if path.endswith("/insertMultiple"):
                if self.insert_multiple_status:
                    return sn_error(
                        self.insert_multiple_status, "Requested URI does not represent any resource"
                    )
                set_id = f"set{next(self.ids)}"
                rows = [self._row(table, set_id, i, r) for i, r in enumerate(body["records"])]
                answer: dict[str, Any] = {"import_set_id": set_id, "multi_import_set_id": "m1"}
                if self.sync:
                    for row in rows:
                        self._transform(row)
                    answer["result"] = [self._entry(table, row) for row in rows]
                return ok(answer, 201)
            row = self._row(table, "ws-set", 0, body)
            self._transform(row)
            return ok(
                {"import_set": "ISET0010001", "staging_table": table, "result": [self._entry(table, row)]},
                201,
            )
        if path == "/api/now/table/sys_import_set_row":
            self.polls += 1
            if self.polls > self.async_polls_until_done:
                for row in self.rows:
                    if row["sys_import_state"] == "pending":
                        self._transform(row)
            terms = request.url.params["sysparm_query"].split("^")
            wanted = terms[0].removeprefix("sys_import_setIN").split(",")
            states = next(
                (t.removeprefix("sys_import_stateIN").split(",") for t in terms if "state" in t), None
            )
            found = [
                {k: v for k, v in r.items() if k != "values"}
                for r in self.rows
                if r["sys_import_set"] in wanted and (states is None or r["sys_import_state"] in states)
            ]
            offset = int(request.url.params.get("sysparm_offset", "0"))
            limit = int(request.url.params["sysparm_limit"])
            response = ok({"result": found[offset : offset + limit]})
            if self.total_count_header:
                response.headers["X-Total-Count"] = str(len(found))
            return response
        return sn_error(400, "Requested URI does not represent any resource", path)

    @staticmethod
    def _entry(table: str, row: dict[str, str]) -> dict[str, str]:
        if row["sys_import_state"] == "error":
            return {
                "transform_map": "map",
                "table": table,
                "status": "error",
                "sys_id": row["sys_id"],
                "error_message": row["sys_row_error"],
            }
        return {
            "transform_map": "map",
            "table": TARGETS.get(table, ""),
            "status": row["sys_import_state"],
            "sys_id": row["sys_target_sys_id"],
        }
