"""The Attachment API (`/api/now/attachment`, sn-ref §3): upload a file to a record, list `sys_attachment`
metadata by encoded query, read one record's metadata and download its bytes. Files are kept per record, in
memory, beside the instance's tables.

Like a real instance, an upload names its record by `table_name` + `table_sys_id` and is refused when that
record does not exist (400, as for an unknown table). [I] The exact message of that refusal is not in the
reference; the status is what ServiceNow answers for an invalid record reference in the other REST APIs.
"""

from __future__ import annotations

import hashlib
import threading
from dataclasses import dataclass

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from . import encoded_query
from .gateway import failure
from .state import Database

FIELDS = ("sys_id", "table_name", "table_sys_id", "file_name", "content_type", "size_bytes", "hash")


@dataclass(slots=True)
class StoredAttachment:
    sys_id: str
    table_name: str
    table_sys_id: str
    file_name: str
    content_type: str
    content: bytes
    created_on: str

    def record(self) -> dict[str, str]:
        """The `sys_attachment` record as the API renders it (every value a string)."""
        return {
            "sys_id": self.sys_id,
            "table_name": self.table_name,
            "table_sys_id": self.table_sys_id,
            "file_name": self.file_name,
            "content_type": self.content_type,
            "size_bytes": str(len(self.content)),
            "hash": hashlib.sha256(self.content).hexdigest(),
            "sys_created_on": self.created_on,
        }


class AttachmentApi:
    """The Attachment API's routes over one instance's database."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self.lock = threading.Lock()
        self.attachments: dict[str, StoredAttachment] = {}

    def of_record(self, table: str, sys_id: str) -> list[StoredAttachment]:
        """The files attached to one record, oldest first (for tests and the admin API)."""
        with self.lock:
            return [a for a in self.attachments.values() if (a.table_name, a.table_sys_id) == (table, sys_id)]

    async def upload(self, request: Request) -> Response:
        """POST /api/now/attachment/file?table_name=&table_sys_id=&file_name= with the raw bytes: 201."""
        params = request.query_params
        table, record_id, name = (params.get(k, "") for k in ("table_name", "table_sys_id", "file_name"))
        if not (table and record_id and name):
            return failure(400, "Missing parameters", "table_name, table_sys_id and file_name are required")
        if not self.db.has_table(table):
            return failure(400, f"Invalid table {table}", f"Table {table} does not exist")
        content = await request.body()
        with self.db.lock:
            if self.db.get(table, record_id) is None:
                return failure(400, "Invalid record", f"No record {record_id} in {table}")
            sys_id, now = self.db.new_sys_id(), self.db.now_text()
        stored = StoredAttachment(
            sys_id=sys_id,
            table_name=table,
            table_sys_id=record_id,
            file_name=name,
            content_type=request.headers.get("content-type", "application/octet-stream"),
            content=content,
            created_on=now,
        )
        with self.lock:
            self.attachments[sys_id] = stored
        base = str(request.base_url).rstrip("/")
        body = {**stored.record(), "download_link": f"{base}/api/now/attachment/{sys_id}/file"}
        return JSONResponse(
            {"result": body}, status_code=201, headers={"Location": f"{base}/api/now/attachment/{sys_id}"}
        )

    async def list(self, request: Request) -> Response:
        """GET /api/now/attachment?sysparm_query=&sysparm_limit=&sysparm_offset=."""
        parsed = encoded_query.parse(request.query_params.get("sysparm_query", ""), FIELDS.__contains__)
        if parsed.invalid_terms:
            return JSONResponse({"result": []}, headers={"X-Total-Count": "0"})
        with self.lock:
            records = [a.record() for a in self.attachments.values()]
        matching = [r for r in records if _matches(parsed, r)]
        limit = int(request.query_params.get("sysparm_limit") or 1000)
        offset = int(request.query_params.get("sysparm_offset") or 0)
        fields = [f for f in request.query_params.get("sysparm_fields", "").split(",") if f]
        page = [{k: v for k, v in r.items() if not fields or k in fields} for r in matching[offset:][:limit]]
        return JSONResponse({"result": page}, headers={"X-Total-Count": str(len(matching))})

    async def meta(self, request: Request) -> Response:
        """GET /api/now/attachment/{sys_id}."""
        with self.lock:
            stored = self.attachments.get(request.path_params["sys_id"])
        if stored is None:
            return failure(
                404, "No Record found", "Record doesn't exist or ACL restricts the record retrieval"
            )
        return JSONResponse({"result": stored.record()})

    async def download(self, request: Request) -> Response:
        """GET /api/now/attachment/{sys_id}/file: the bytes, with their content type."""
        with self.lock:
            stored = self.attachments.get(request.path_params["sys_id"])
        if stored is None:
            return failure(
                404, "No Record found", "Record doesn't exist or ACL restricts the record retrieval"
            )
        return Response(stored.content, media_type=stored.content_type)


def _matches(parsed: encoded_query.EncodedQuery, record: dict[str, str]) -> bool:
    if not parsed.groups:
        return True
    return any(
        all(any(encoded_query.term_matches(t, record.get(t.field, "")) for t in clause) for clause in group)
        for group in parsed.groups
    )
