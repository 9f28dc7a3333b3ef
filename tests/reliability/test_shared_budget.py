"""Two processes on one Zoho org stay under its limit together, through the database's shared budget.

The Zoho sandbox enforces the real limit (100 requests per window; the window shortened to 2 s, as the demo
shortens it) and answers 429 code 44 beyond it. Two processes each send 150 requests for the same org at the
same moment. Sharing the `zoho_budget` row (SQLite file or PostgreSQL), the sandbox refuses none of them;
with each process on its own budget (the control), the sandbox refuses some with code 44 - what issue 18
measured with `zbsn connect`, a console, a cron run and `zbsn serve` on one org.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import POSTGRES_URL, _fresh_postgres_database
from tests.core.engine.harness import ORG_ID
from zbsn.core.budget_store import DbBudgetStore
from zbsn.core.db import migrate
from zbsn.core.db.engine import make_engine

from .conftest import World

REPO = Path(__file__).resolve().parents[2]
WINDOW_S = 2.0
# The control needs both processes to send well over 50 within one window: on a loaded host (load 8 on 2
# cores) each sent only ~20 a second, so in 2 s they stayed under 100 together and the control saw no 44.
CONTROL_WINDOW_S = 10.0
REQUESTS_EACH = 150


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def shared_db(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        urls: Iterator[str] = iter([f"sqlite:///{tmp_path / 'shared.db'}"])
    else:
        if not POSTGRES_URL:
            pytest.skip("no PostgreSQL server: set ZBSN_TEST_POSTGRES_URL")
        urls = _fresh_postgres_database()
    for url in urls:
        engine = make_engine(url)
        migrate.upgrade(engine)
        engine.dispose()
        yield url


def two_processes_at_once(
    w: World, db_url: str, tmp_path: Path, *, shared: bool, window_s: float = WINDOW_S
) -> list[dict[str, Any]]:
    tokens = w.endpoints.zoho_tokens
    start = tmp_path / f"go-{shared}"
    payload = json.dumps(
        {
            "api_domain": w.endpoints.zoho_api_domain,
            "client_id": w.endpoints.zoho_client_id,
            "secret": w.endpoints.zoho_client_secret,
            "tokens": {
                "access_token": tokens.access_token,
                "refresh_token": tokens.refresh_token,
                "api_domain": tokens.api_domain,
                "accounts_server": tokens.accounts_server,
                "dc": tokens.dc,
                "expires_at": tokens.expires_at.isoformat() if tokens.expires_at else None,
            },
            "org": ORG_ID,
            "bills": [b.bill_id for b in w.company.bills],
            "requests": REQUESTS_EACH,
            "window_s": window_s,
            "shared": shared,
            "start_file": str(start),
        }
    )
    children = [
        subprocess.Popen(
            [sys.executable, "-m", "tests.reliability.budget_child", db_url, payload],
            cwd=REPO,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    w.zoho.set_limits(enabled=True, per_window=100, window_seconds=window_s, concurrency=10)
    w.zoho.limiter.reset_counters()
    start.touch()  # both begin together
    results = []
    for child in children:
        out, err = child.communicate(timeout=300)
        assert child.returncode == 0, err[-3000:]
        results.append(json.loads(out.strip().splitlines()[-1]))
    return results


def test_two_processes_share_one_org_budget(
    world: Callable[[int], World], shared_db: str, tmp_path: Path
) -> None:
    w = world(50)
    results = two_processes_at_once(w, shared_db, tmp_path, shared=True)
    api = w.zoho.counters()["api"]
    print(f"\nshared budget: {results}; sandbox: {api['rejections']}, {api['requests']} requests")
    assert [r["ok"] for r in results] == [REQUESTS_EACH, REQUESTS_EACH]
    assert api["rejections"].get("44", 0) == 0  # never over 100 in any of the sandbox's windows
    assert api["rejections"].get("1070", 0) == 0  # nor over its in-flight limit
    assert api["requests"] == 2 * REQUESTS_EACH
    engine = make_engine(shared_db)
    use = DbBudgetStore(engine).uses([ORG_ID])[ORG_ID]
    engine.dispose()
    assert use.day_count == 2 * REQUESTS_EACH  # the deployment's count of the org's requests today
    assert max(r["seconds"] for r in results) >= 2 * WINDOW_S  # 300 requests need three windows


def test_without_the_shared_budget_the_sandbox_refuses_some(
    world: Callable[[int], World], tmp_path: Path
) -> None:
    """The control: each process on its own budget, as before issue 18 (so the test above can fail)."""
    w = world(50)
    url = f"sqlite:///{tmp_path / 'unused.db'}"
    results = two_processes_at_once(w, url, tmp_path, shared=False, window_s=CONTROL_WINDOW_S)
    api = w.zoho.counters()["api"]
    print(f"\nown budgets: {results}; sandbox: {api['rejections']}")
    assert api["rejections"].get("44", 0) > 0
    assert [r["ok"] for r in results] == [REQUESTS_EACH, REQUESTS_EACH]  # each budget absorbed its 429s
