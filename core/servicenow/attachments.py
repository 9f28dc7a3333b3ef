"""ServiceNow's Attachment API (sn-ref §3; the REST ACL for it ships deactivated, like the Table API's):
`POST /api/now/attachment/file?table_name=&table_sys_id=&file_name=` with the raw bytes as the body, and
`GET /api/now/attachment?sysparm_query=` for the `sys_attachment` metadata of the records a query names.

zbsn attaches a bill's document to the invoice record the staging transform created (`sn_shop_invoice`).
[I] The reference does not record which record AP users open the document from; the invoice (the target of
the "Invoice import" map, sn-ref §7.4) is where ServiceNow's own AP API puts `invoice_copy_attachment`.
"""

from __future__ import annotations

from collections.abc import Iterable

from pydantic import BaseModel

from zbsn.core.servicenow.errors import ServiceNowProtocolError
from zbsn.core.servicenow.query import EncodedQuery
from zbsn.core.servicenow.requester import Requester
from zbsn.core.servicenow.responses import result_list

INVOICE_TABLE = "sn_shop_invoice"
_FIELDS = "sys_id,table_name,table_sys_id,file_name,size_bytes,content_type"


class SNAttachment(BaseModel):
    """One `sys_attachment` record (what the Attachment API answers with)."""

    sys_id: str
    table_name: str
    table_sys_id: str
    file_name: str
    size_bytes: int | None = None
    content_type: str | None = None


def _parse(raw: object, where: str) -> SNAttachment:
    if not isinstance(raw, dict):
        raise ServiceNowProtocolError(f"{where}: an attachment that is not an object")
    try:
        size = raw.get("size_bytes")
        return SNAttachment(
            sys_id=str(raw["sys_id"]),
            table_name=str(raw.get("table_name") or ""),
            table_sys_id=str(raw.get("table_sys_id") or ""),
            file_name=str(raw.get("file_name") or ""),
            size_bytes=int(size) if size not in (None, "") else None,
            content_type=str(raw.get("content_type") or "") or None,
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise ServiceNowProtocolError(f"{where}: a malformed attachment record ({exc})") from exc


async def attach_file(
    requester: Requester,
    table: str,
    record_sys_id: str,
    file_name: str,
    content: bytes,
    content_type: str,
) -> SNAttachment:
    """Attach `content` to one record; the new `sys_attachment` record."""
    params = {"table_name": table, "table_sys_id": record_sys_id, "file_name": file_name}
    path = "/api/now/attachment/file"
    _response, body = await requester.request_json(
        "POST", path, params=params, content=content, content_type=content_type
    )
    return _parse(body.get("result"), f"POST {path}")


async def list_attachments(
    requester: Requester, table: str, record_sys_ids: Iterable[str]
) -> list[SNAttachment]:
    """The attachments of the given records of `table` (one request per 100 records)."""
    ids = sorted(set(record_sys_ids))
    found: list[SNAttachment] = []
    path = "/api/now/attachment"
    for start in range(0, len(ids), 100):
        query = EncodedQuery().eq("table_name", table).in_("table_sys_id", ids[start : start + 100])
        params = {"sysparm_query": query.render(), "sysparm_fields": _FIELDS, "sysparm_limit": "10000"}
        _response, body = await requester.request_json("GET", path, params=params)
        found += [_parse(raw, f"GET {path}") for raw in result_list(body, f"GET {path}")]
    return found
