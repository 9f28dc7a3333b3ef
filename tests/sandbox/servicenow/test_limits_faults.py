"""Rate-limit rules, hibernation, injected 5xx and dropped connections, admin counters."""

from __future__ import annotations

import time
from collections.abc import Iterator

import httpx
import pytest

from zbsn.sandbox.servicenow import FaultConfig, RateLimitRule, ServiceNowSandbox


@pytest.fixture
def clean(sandbox: ServiceNowSandbox) -> Iterator[ServiceNowSandbox]:
    """Leave no rules or faults behind."""
    yield sandbox
    sandbox.set_rate_limits([])
    sandbox.set_faults(FaultConfig())


def test_no_rate_limit_headers_without_a_rule(api: httpx.Client, clean: ServiceNowSandbox) -> None:
    response = api.get("/api/now/table/fx_currency")
    assert response.status_code == 200
    assert not [h for h in response.headers if h.lower().startswith("x-ratelimit")]


def test_rule_limits_table_api_with_429_and_retry_after(api: httpx.Client, clean: ServiceNowSandbox) -> None:
    clean.set_rate_limits([RateLimitRule(limit=3, api="table", table="fx_currency")])
    answers = [api.get("/api/now/table/fx_currency") for _ in range(4)]
    assert [a.status_code for a in answers] == [200, 200, 200, 429]
    assert answers[0].headers["X-RateLimit-Limit"] == "3"
    assert answers[0].headers["X-RateLimit-Rule"] == RateLimitRule(limit=3).sys_id
    refused = answers[3]
    retry_after = int(refused.headers["Retry-After"])
    assert 1 <= retry_after <= 3600
    assert int(refused.headers["X-RateLimit-Reset"]) > time.time()
    assert refused.json() == {
        "error": {
            "message": "Rate limit exceeded",
            "detail": "Rate limit of 3 requests per hour for Table API exceeded",
        },
        "status": "failure",
    }
    other_table = api.get("/api/now/table/cmn_location")
    assert other_table.status_code == 200
    assert "X-RateLimit-Limit" not in other_table.headers
    counters = httpx.get(f"{clean.url}/_admin/counters").json()
    assert counters["rate_limited"] >= 1
    assert counters["requests_by_path"]["/api/now/table/fx_currency"] >= 4


def test_window_rolls_over_when_clock_advances(api: httpx.Client, clean: ServiceNowSandbox) -> None:
    clean.set_rate_limits([RateLimitRule(limit=1, window_seconds=60, api="table")])
    assert api.get("/api/now/table/fx_currency").status_code == 200
    assert api.get("/api/now/table/fx_currency").status_code == 429
    clean.advance_clock(61)
    assert api.get("/api/now/table/fx_currency").status_code == 200


def test_rate_limit_via_admin_endpoint(api: httpx.Client, clean: ServiceNowSandbox) -> None:
    set_rules = httpx.post(f"{clean.url}/_admin/rate_limits", json={"rules": [{"limit": 1, "api": "import"}]})
    assert set_rules.status_code == 200
    assert api.get("/api/now/table/fx_currency").status_code == 200  # Table API is not covered by the rule
    first = api.post("/api/now/import/sn_fcms_intg_imp_cost_center", json={"u_account_number": "CC-RL-1"})
    second = api.post("/api/now/import/sn_fcms_intg_imp_cost_center", json={"u_account_number": "CC-RL-2"})
    assert first.status_code == 201
    assert second.status_code == 429
    assert "Import Set API" in second.json()["error"]["detail"]


def test_hibernating_instance_answers_html_200(api: httpx.Client, clean: ServiceNowSandbox) -> None:
    toggled = httpx.post(f"{clean.url}/_admin/faults", json={"hibernating": True})
    assert toggled.status_code == 200
    response = api.get("/api/now/table/fx_currency")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert "hibernating" in response.text
    clean.set_faults(FaultConfig())
    assert api.get("/api/now/table/fx_currency").headers["content-type"].startswith("application/json")


def test_injected_5xx_and_drops_are_seeded_and_reproducible(
    api: httpx.Client, clean: ServiceNowSandbox
) -> None:
    def run() -> list[str]:
        clean.set_faults(FaultConfig(fault_rate=0.5, kinds=("503", "drop"), seed=3))
        outcomes = []
        for _ in range(12):
            try:
                outcomes.append(str(api.get("/api/now/table/fx_currency").status_code))
            except httpx.HTTPError:
                outcomes.append("drop")
        return outcomes

    first, second = run(), run()
    assert first == second
    assert {"200", "503", "drop"} <= set(first)


def test_latency(api: httpx.Client, clean: ServiceNowSandbox) -> None:
    clean.set_faults(FaultConfig(latency_seconds=0.2))
    started = time.monotonic()
    assert api.get("/api/now/table/fx_currency").status_code == 200
    assert time.monotonic() - started >= 0.2


def test_single_user_rule_does_not_touch_other_users(api: httpx.Client, clean: ServiceNowSandbox) -> None:
    clean.set_rate_limits([RateLimitRule(limit=1, user="someone.else", api="table")])
    answers = [api.get("/api/now/table/fx_currency") for _ in range(3)]
    assert [a.status_code for a in answers] == [200, 200, 200]
    assert "X-RateLimit-Rule" not in answers[0].headers
