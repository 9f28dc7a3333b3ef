"""The serve runtime: a signed webhook over a real socket reaches the bill handler; stop is graceful."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import httpx
import pytest
import sqlalchemy as sa

from zbsn.core.domain import InboxStatus
from zbsn.core.webhooks import SIGNATURE_HEADER, compute_signature
from zbsn.core.webhooks.runtime import ServeRuntime

SECRET = "runtime-secret-123456"


async def test_webhook_flows_to_the_handler_and_stop_is_graceful(engine: sa.Engine, profile_id: int) -> None:
    handled: list[tuple[int, str, str]] = []
    got_one = asyncio.Event()

    async def handle_bill(pid: int, bill: dict[str, Any], event_type: str) -> None:
        handled.append((pid, bill["bill_id"], event_type))
        got_one.set()

    runtime = ServeRuntime(
        engine, handle_bill=handle_bill, start_run=None, secret_for_profile=lambda _pid: SECRET, port=0
    )
    serving = asyncio.create_task(runtime.serve())
    await runtime.wait_started()
    assert runtime.url is not None
    body = json.dumps({"bill": {"bill_id": "77", "line_items": []}}).encode()
    params = [("event", "bill.edited")]
    async with httpx.AsyncClient() as http:
        response = await http.post(
            f"{runtime.url}/zoho/webhook/{profile_id}",
            params=params,
            content=body,
            headers={SIGNATURE_HEADER: compute_signature(SECRET, params, body)},
        )
    assert response.status_code == 200, response.text
    await asyncio.wait_for(got_one.wait(), 10)
    assert handled == [(profile_id, "77", "bill.edited")]
    event_id = response.json()["event_id"]
    for _ in range(100):
        entry = runtime.inbox.get(event_id)
        if entry is not None and entry.status == InboxStatus.PROCESSED:
            break
        await asyncio.sleep(0.02)
    assert runtime.inbox.get(event_id).status == InboxStatus.PROCESSED  # type: ignore[union-attr]
    runtime.request_stop()
    await asyncio.wait_for(serving, 10)
    assert runtime.url is None


async def test_a_taken_port_is_reported(sqlite_engine: sa.Engine) -> None:
    import socket

    async def handle_bill(_pid: int, _bill: dict[str, Any], _event_type: str) -> None:
        return None

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        port = taken.getsockname()[1]
        runtime = ServeRuntime(
            sqlite_engine,
            handle_bill=handle_bill,
            start_run=None,
            secret_for_profile=lambda _p: None,
            port=port,
        )
        serving = asyncio.create_task(runtime.serve())
        with pytest.raises(OSError, match="cannot listen"):
            await runtime.wait_started()
        with pytest.raises(OSError):
            await serving
