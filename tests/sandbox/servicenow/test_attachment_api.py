"""The Attachment API over a real socket: upload to a record, list by encoded query, download; an upload to a
record that does not exist is refused."""

from __future__ import annotations

import httpx

from zbsn.sandbox.servicenow import ServiceNowSandbox


def test_upload_list_and_download(fresh: tuple[ServiceNowSandbox, httpx.Client]) -> None:
    sandbox, api = fresh
    supplier = sandbox.table("sn_fin_supplier")[0]["sys_id"]
    content = b"%PDF-1.4\n% a tiny file\n%%EOF\n"
    params = {"table_name": "sn_fin_supplier", "table_sys_id": supplier, "file_name": "w9.pdf"}
    made = api.post(
        "/api/now/attachment/file",
        params=params,
        content=content,
        headers={"Content-Type": "application/pdf"},
    )
    assert made.status_code == 201, made.text
    record = made.json()["result"]
    assert (record["file_name"], record["size_bytes"], record["table_sys_id"]) == ("w9.pdf", "29", supplier)

    query = f"table_name=sn_fin_supplier^table_sys_idIN{supplier},nothing"
    listed = api.get("/api/now/attachment", params={"sysparm_query": query}).json()["result"]
    assert [r["sys_id"] for r in listed] == [record["sys_id"]]
    other = api.get("/api/now/attachment", params={"sysparm_query": "table_sys_id=nothing"}).json()["result"]
    assert other == []
    downloaded = api.get(f"/api/now/attachment/{record['sys_id']}/file")
    assert downloaded.content == content
    assert downloaded.headers["content-type"].startswith("application/pdf")


def test_upload_to_a_missing_record_is_refused(fresh: tuple[ServiceNowSandbox, httpx.Client]) -> None:
    sandbox, api = fresh
    params = {"table_name": "sn_shop_invoice", "table_sys_id": "0" * 32, "file_name": "x.pdf"}
    refused = api.post("/api/now/attachment/file", params=params, content=b"%PDF-")
    assert refused.status_code == 400
    assert sandbox.attachment_api.of_record("sn_shop_invoice", "0" * 32) == []
