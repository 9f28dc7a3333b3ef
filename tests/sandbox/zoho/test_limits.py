"""Per-minute, daily and concurrency limits (429 codes 44, 45, 1070), quota headers and counters."""

from __future__ import annotations

import asyncio

import httpx

from tests.sandbox.zoho.conftest import Books, new_tokens, refresh
from zbsn.sandbox.zoho import ZohoSandbox


def test_per_minute_limit_is_code_44_and_resets_with_the_window(fresh: ZohoSandbox) -> None:
    books = Books(fresh, new_tokens(fresh)["access_token"])
    fresh.advance(60 - fresh.clock.epoch() % 60 + 0.5)  # start of a fresh window
    fresh.set_limits(per_window=5)
    statuses = [books.get("/locations").status_code for _ in range(5)]
    assert statuses == [200] * 5
    blocked = books.get("/locations")
    assert blocked.status_code == 429
    assert blocked.json()["code"] == 44
    assert "retry-after" not in blocked.headers
    assert "X-Rate-Limit-Remaining" in blocked.headers
    fresh.advance(60)
    assert books.get("/locations").status_code == 200
    counters = fresh.counters()["api"]
    assert counters["rejections"] == {"44": 1}
    assert counters["by_endpoint"]["GET /locations"] == 7


def test_daily_limit_is_code_45_with_headers(fresh: ZohoSandbox) -> None:
    fresh.set_limits(daily_limit=3, day_seconds=3600)
    fresh.advance(3600 - fresh.limiter._local_seconds() % 3600 + 1)  # start of a fresh "day"
    tokens = new_tokens(fresh)
    books = Books(fresh, tokens["access_token"])
    remaining = [int(books.get("/locations").headers["X-Rate-Limit-Remaining"]) for _ in range(3)]
    assert remaining == [2, 1, 0]
    exhausted = books.get("/locations")
    assert exhausted.status_code == 429
    assert exhausted.json() == {
        "code": 45,
        "message": "The API call for this organization has exceeded the maximum call rate limit of 3.",
    }
    assert exhausted.headers["X-Rate-Limit-Limit"] == "3"
    assert exhausted.headers["X-Rate-Limit-Remaining"] == "0"
    reset = int(exhausted.headers["X-Rate-Limit-Reset"])
    assert 0 < reset <= 3600
    fresh.advance(reset + 1)
    books.token = refresh(fresh, tokens["refresh_token"]).json()["access_token"]  # an hour has passed
    again = books.get("/locations")
    assert again.status_code == 200
    assert again.headers["X-Rate-Limit-Remaining"] == "2"


async def test_concurrency_limit_is_code_1070(fresh: ZohoSandbox) -> None:
    token = new_tokens(fresh)["access_token"]
    fresh.set_limits(concurrency=2)
    fresh.set_faults(latency_ms=400)
    async with httpx.AsyncClient(timeout=30) as client:
        responses = await asyncio.gather(
            *[
                client.get(
                    fresh.books_base + "/locations",
                    params={"organization_id": fresh.organization_id},
                    headers={"Authorization": f"Zoho-oauthtoken {token}"},
                )
                for _ in range(6)
            ]
        )
    codes = sorted(r.status_code for r in responses)
    assert codes.count(200) >= 2
    refused = [r for r in responses if r.status_code == 429]
    assert refused
    assert all(r.json()["code"] == 1070 for r in refused)
    assert fresh.counters()["api"]["max_in_flight"] == 2


def test_disabled_limits_admit_everything(fresh: ZohoSandbox) -> None:
    books = Books(fresh, new_tokens(fresh)["access_token"])
    fresh.set_limits(per_window=1, enabled=False)
    assert [books.get("/locations").status_code for _ in range(3)] == [200, 200, 200]
