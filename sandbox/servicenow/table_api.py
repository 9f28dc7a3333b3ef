"""Table API `/api/now/table/{table}` (sn-ref §3): list, read, create, update, delete.

Values are strings; references render as `{link, value}` (plain sys_id with
`sysparm_exclude_reference_link=true`); `sysparm_display_value` true/false/all; `X-Total-Count` and a
`Link` header with first/prev/next/last. `/api/now/v1/...` answers 404 for an empty list; v2 and the
unversioned path answer 200 with `[]`.

(Just over 400 lines: the Table API's query, paging and display-value rules act on every table alike.)
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any, Protocol
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from . import encoded_query
from .config import ServiceNowSandboxConfig
from .fx import fx_display, fx_part
from .gateway import failure
from .schema import ALL_TABLES, CHOICE_FIELDS, FX_FIELDS, FX_PARTS, STAGING_TABLES, display_choice
from .state import Database, Record, as_string


class WriteHooks(Protocol):
    """Business rules around Table API updates: a data-policy check before, side effects after."""

    def check_update(self, table: str, record: Record, values: dict[str, Any]) -> str | None: ...

    def after_update(self, table: str, before: Record, after: Record) -> None: ...


DEFAULT_LIMIT = 10000
NOT_FOUND = ("No Record found", "Record doesn't exist or ACL restricts the record retrieval")
_ACL_DETAIL = {"create": "Insert", "write": "Update", "delete": "Delete"}


def base_url(request: Request) -> str:
    """The instance base URL as the client reached it (used in links)."""
    return str(request.base_url).rstrip("/")


def invalid_table(table: str) -> JSONResponse:
    """400 for an unknown table."""
    return failure(400, f"Invalid table {table}", f"Table {table} does not exist")


def acl_refused(operation: str) -> JSONResponse:
    """403 as an ACL refusal looks on a real instance."""
    if operation == "read":
        return failure(403, "Insufficient rights to query records", None)
    return failure(
        403, "Operation Failed", f"ACL Exception {_ACL_DETAIL[operation]} Failed due to security constraints"
    )


def resolve_path(db: Database, table: str, record: Record, path: str) -> str:
    """A record's value for a possibly dot-walked column path (`supplier.erp_supplier_code`)."""
    head, _, rest = path.partition(".")
    value = record.get(head, "")
    if not rest:
        return value
    if (table, head) in FX_FIELDS and rest in FX_PARTS:
        return fx_part(db, table, record, head, rest)
    target = ALL_TABLES[table].reference_of(head)
    referenced = db.get(target, value) if target and value else None
    return resolve_path(db, target, referenced, rest) if referenced is not None and target else ""


def known_path(table: str, path: str) -> bool:
    """Whether a (possibly dot-walked) column path exists on `table`."""
    head, _, rest = path.partition(".")
    schema = ALL_TABLES[table]
    if head not in schema.by_name:
        return False
    if not rest:
        return True
    if (table, head) in FX_FIELDS and rest in FX_PARTS:
        return True
    target = schema.reference_of(head)
    return target is not None and known_path(target, rest)


def render_record(
    db: Database,
    table: str,
    record: Record,
    *,
    fields: list[str] | None,
    display: str,
    exclude_link: bool,
    base: str,
) -> dict[str, Any]:
    """One record as the Table API renders it."""
    schema = ALL_TABLES[table]
    names = [f for f in fields if known_path(table, f)] if fields else schema.field_names
    out: dict[str, Any] = {}
    for name in names:
        value = resolve_path(db, table, record, name) if "." in name else record.get(name, "")
        reference = schema.reference_of(name) if "." not in name else None
        if reference is not None:
            out[name] = _render_reference(db, reference, value, display, exclude_link, base)
            continue
        if (table, name) in FX_FIELDS:
            shown = fx_display(db, table, record, name)
        else:
            shown = _display_of(table, name, value)
        if display == "true":
            out[name] = shown
        elif display == "all":
            out[name] = {"display_value": shown, "value": value}
        else:
            out[name] = value
    return out


def _display_of(table: str, name: str, value: str) -> str:
    if (table, name) in CHOICE_FIELDS:
        return display_choice(value)
    return value


def _render_reference(
    db: Database, target: str, value: str, display: str, exclude_link: bool, base: str
) -> Any:
    if not value:
        if display == "all":
            return {"display_value": "", "value": ""}
        return ""
    link = f"{base}/api/now/table/{target}/{value}"
    shown = db.display_value(target, value)
    if display == "true":
        return shown if exclude_link else {"display_value": shown, "link": link}
    if display == "all":
        body = {"display_value": shown, "value": value}
        return body if exclude_link else {**body, "link": link}
    return value if exclude_link else {"link": link, "value": value}


def _flag(request: Request, name: str) -> bool:
    return request.query_params.get(name, "false").lower() == "true"


def _render_options(request: Request) -> tuple[list[str] | None, str, bool]:
    raw_fields = request.query_params.get("sysparm_fields", "")
    fields = [f.strip() for f in raw_fields.split(",") if f.strip()] or None
    display = request.query_params.get("sysparm_display_value", "false").lower()
    display = display if display in ("true", "false", "all") else "false"
    return fields, display, _flag(request, "sysparm_exclude_reference_link")


def _int_param(request: Request, name: str, default: int) -> int:
    try:
        return max(int(request.query_params.get(name, default)), 0)
    except ValueError:
        return default


class TableApi:
    """Route handlers bound to one instance's database and config."""

    def __init__(
        self,
        db: Database,
        config: ServiceNowSandboxConfig,
        stage_row: Callable[[str, dict[str, str]], Record] | None = None,
        hooks: WriteHooks | None = None,
    ) -> None:
        self.db = db
        self.config = config
        # A Table API insert into a staging table is transformed like an Import Set API row (§4.3).
        self.stage_row = stage_row
        self.hooks = hooks
        self._last_query: tuple[tuple[str, str, int, bool, str], list[Record]] | None = None

    def _denied(self, table: str, operation: str) -> bool:
        if operation != "read" and not self.db.is_stored(table):
            return True  # views and metadata are read-only here
        return operation in self.config.acl_denied.get(table, set())

    def query(self, table: str, query_text: str, user: str = "") -> list[Record]:
        """Records of `table` matching an encoded query, ordered by its ORDERBY terms.

        Paging through one query re-asks the same question page after page: the answer is kept until the
        table is next written (caller holds `db.lock`), so N pages cost one evaluation, not N. `user` is the
        requesting user's name (a DYNAMIC "Me" term depends on it).
        """
        version = (table, query_text, self.db.version(table), self.config.invalid_query_returns_no_rows, user)
        if self._last_query is not None and self._last_query[0] == version:
            return self._last_query[1]
        rows = self._evaluate(table, query_text, user)
        self._last_query = (version, rows)
        return rows

    def _evaluate(self, table: str, query_text: str, user: str = "") -> list[Record]:
        parsed = encoded_query.parse(query_text, lambda path: known_path(table, path))
        if parsed.invalid_terms and self.config.invalid_query_returns_no_rows:
            return []
        if encoded_query.has_dynamic(parsed):
            me = self.db.find("sys_user", user_name=user) if user else None
            parsed = encoded_query.with_dynamic_values(parsed, me["sys_id"] if me else "")
        candidates = self._candidates(table, parsed)
        rows: list[Record] = []
        for record in self.db.records(table) if candidates is None else candidates:

            def resolve(path: str, rec: Record = record) -> str:
                return resolve_path(self.db, table, rec, path)

            if encoded_query.matches(parsed, resolve):
                rows.append(record)
        if not parsed.order_by:
            return rows
        if all("." not in column for column, _desc in parsed.order_by):
            return encoded_query.sort_records(rows, parsed.order_by, lambda rec, col: rec.get(col, ""))
        return encoded_query.sort_records(
            rows, parsed.order_by, lambda rec, col: resolve_path(self.db, table, rec, col)
        )

    def _candidates(self, table: str, parsed: encoded_query.EncodedQuery) -> list[Record] | None:
        """A superset of the matches, in table order, from an index; None when only a full scan will do.

        Only a single AND group helps: its first plain `field=value` or `fieldINa,b` term narrows the rows
        through `Database.candidates` (case-insensitive, so every exact match is among them); the full
        evaluator then runs on those few rows, so the answer is exactly the full scan's.
        """
        if len(parsed.groups) != 1:
            return None
        for clause in parsed.groups[0]:
            if len(clause) != 1:
                continue
            term = clause[0]
            if "." in term.field or term.operator not in ("=", "IN"):
                continue
            values = [term.value] if term.operator == "=" else term.value.split(",")
            if term.field == "sys_id" and len(values) == 1:
                record = self.db.get(table, values[0])
                return [] if record is None else [record]
            return self.db.candidates(table, (term.field,), [(v,) for v in values])
        return None

    async def list(self, request: Request) -> Response:
        """GET /api/now/table/{table}."""
        table = request.path_params["table"]
        if not self.db.has_table(table):
            return invalid_table(table)
        if self._denied(table, "read"):
            return acl_refused("read")
        query_text = request.query_params.get("sysparm_query", "")
        plain = [f"{k}={v}" for k, v in request.query_params.items() if not k.startswith("sysparm_")]
        query_text = "^".join([q for q in [query_text, *plain] if q])
        limit = _int_param(request, "sysparm_limit", DEFAULT_LIMIT)
        offset = _int_param(request, "sysparm_offset", 0)
        fields, display, exclude = _render_options(request)
        with self.db.lock:
            rows = self.query(table, query_text, getattr(request.state, "sn_user", ""))
            page = rows[offset : offset + limit]
            base = base_url(request)
            result = [
                render_record(
                    self.db, table, r, fields=fields, display=display, exclude_link=exclude, base=base
                )
                for r in page
            ]
        if request.path_params.get("version") == "v1" and not result:
            return failure(404, *NOT_FOUND)
        headers: dict[str, str] = {}
        no_count = _flag(request, "sysparm_no_count")
        if not no_count:
            headers["X-Total-Count"] = str(len(rows))
        if not _flag(request, "sysparm_suppress_pagination_header"):
            headers["Link"] = _link_header(request, len(rows), offset, limit, include_last=not no_count)
        return JSONResponse({"result": result}, headers=headers)

    async def read(self, request: Request) -> Response:
        """GET /api/now/table/{table}/{sys_id}."""
        table, sys_id = request.path_params["table"], request.path_params["sys_id"]
        if not self.db.has_table(table):
            return invalid_table(table)
        if self._denied(table, "read"):
            return failure(404, *NOT_FOUND)
        fields, display, exclude = _render_options(request)
        with self.db.lock:
            record = self.db.get(table, sys_id)
            if record is None:
                return failure(404, *NOT_FOUND)
            body = render_record(
                self.db,
                table,
                record,
                fields=fields,
                display=display,
                exclude_link=exclude,
                base=base_url(request),
            )
        return JSONResponse({"result": body})

    async def create(self, request: Request) -> Response:
        """POST /api/now/table/{table}: 201 with a Location header."""
        table = request.path_params["table"]
        if not self.db.has_table(table):
            return invalid_table(table)
        if self._denied(table, "create"):
            return acl_refused("create")
        values = await _json_object(request)
        if values is None:
            return failure(400, "Exception while reading request", "The payload is not valid JSON.")
        fields, display, exclude = _render_options(request)
        user = request.state.sn_user
        with self.db.lock:
            if self.stage_row is not None and table in STAGING_TABLES:
                staged = {k: as_string(v) for k, v in _writable(table, values).items() if k != "sys_id"}
                record = self.stage_row(table, staged)
            else:
                record = self.db.insert(table, _writable(table, values), user=user)
            base = base_url(request)
            body = render_record(
                self.db, table, record, fields=fields, display=display, exclude_link=exclude, base=base
            )
        location = f"{base}/api/now/table/{table}/{record['sys_id']}"
        if request.headers.get("x-no-response-body", "").lower() == "true":
            return Response(status_code=201, headers={"Location": location})
        return JSONResponse({"result": body}, status_code=201, headers={"Location": location})

    async def update(self, request: Request) -> Response:
        """PATCH or PUT /api/now/table/{table}/{sys_id}."""
        table, sys_id = request.path_params["table"], request.path_params["sys_id"]
        if not self.db.has_table(table):
            return invalid_table(table)
        values = await _json_object(request)
        if values is None:
            return failure(400, "Exception while reading request", "The payload is not valid JSON.")
        fields, display, exclude = _render_options(request)
        with self.db.lock:
            current = self.db.get(table, sys_id)
            if current is None:
                return failure(404, *NOT_FOUND)
            if self._denied(table, "write"):
                return acl_refused("write")
            changes = _writable(table, values)
            refusal = self.hooks.check_update(table, current, changes) if self.hooks else None
            if refusal is not None:
                return failure(403, "Operation Failed", refusal)
            before = dict(current)
            record = self.db.update(table, sys_id, changes, user=request.state.sn_user)
            if self.hooks is not None:
                self.hooks.after_update(table, before, record)
            body = render_record(
                self.db,
                table,
                record,
                fields=fields,
                display=display,
                exclude_link=exclude,
                base=base_url(request),
            )
        return JSONResponse({"result": body})

    async def delete(self, request: Request) -> Response:
        """DELETE /api/now/table/{table}/{sys_id}: 204."""
        table, sys_id = request.path_params["table"], request.path_params["sys_id"]
        if not self.db.has_table(table):
            return invalid_table(table)
        with self.db.lock:
            if self.db.get(table, sys_id) is None:
                return failure(404, *NOT_FOUND)
            if self._denied(table, "delete"):
                return acl_refused("delete")
            self.db.delete(table, sys_id)
        return Response(status_code=204)


def _writable(table: str, values: dict[str, Any]) -> dict[str, Any]:
    """Known, non-system columns (plus a caller-chosen sys_id on insert); the rest is ignored."""
    schema = ALL_TABLES[table]
    kept = {k: v for k, v in values.items() if k in schema.by_name and not k.startswith("sys_")}
    if "sys_id" in values:
        kept["sys_id"] = values["sys_id"]
    return kept


async def _json_object(request: Request) -> dict[str, Any] | None:
    """The body as a JSON object; a list keeps its first element only (§2: one record per call)."""
    try:
        data = json.loads(await request.body() or b"{}")
    except ValueError:
        return None
    if isinstance(data, list):
        data = data[0] if data else {}
    return data if isinstance(data, dict) else None


def _link_header(request: Request, total: int, offset: int, limit: int, *, include_last: bool) -> str:
    base = f"{base_url(request)}{request.url.path}"
    params = {k: v for k, v in request.query_params.items() if k not in ("sysparm_offset", "sysparm_limit")}
    step = max(limit, 1)

    def link(at: int, rel: str) -> str:
        query = urlencode({**params, "sysparm_limit": str(limit), "sysparm_offset": str(at)})
        return f'<{base}?{query}>;rel="{rel}"'

    links = [link(0, "first")]
    if offset > 0:
        links.append(link(max(offset - step, 0), "prev"))
    if offset + step < total:
        links.append(link(offset + step, "next"))
    if include_last:
        last = ((max(total, 1) - 1) // step) * step
        links.append(link(last, "last"))
    return ",".join(links)
