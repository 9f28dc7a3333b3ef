"""Issue 18's measured case: `zbsn connect zoho` a few seconds before `zbsn sync` of the same org, no 429.

`zbsn sandbox` runs in its own process with Zoho's window of 100 requests shortened to 30 s; its clock is
moved to the start of a window, so `connect`'s request to list the organizations and the sync's first
hundred requests all fall in one of the sandbox's windows. The sync needs ~130 requests. Before issue 18
nothing told the sync process of `connect`'s request (another process, another budget) and its 100th
request of the window got 429 code 44; now `connect` charges its org-less request to the org's shared
window, the sync counts it, and the sandbox refuses nothing.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import httpx
import pytest

from tests.core.cli.test_cli_story import EXIT_FAILURES, Zbsn
from tests.external_sandbox import ExternalSandbox
from zbsn.core.budget_store import DbBudgetStore
from zbsn.core.db.engine import make_engine

WINDOW_S = 30.0


@pytest.fixture(scope="module")
def sandbox() -> Iterator[ExternalSandbox]:
    process = ExternalSandbox.start("--bills", "80", "--seed", "7", "--window-seconds", str(WINDOW_S))
    yield process
    process.stop()


def _start_a_window(sandbox: ExternalSandbox) -> None:
    """Move the sandbox's clock to just after the start of one of its (epoch-aligned) windows."""
    now = httpx.get(f"{sandbox.zoho_admin}/clock", timeout=30).json()["now"]
    epoch = datetime.fromisoformat(now).timestamp()
    to_the_next = WINDOW_S - epoch % WINDOW_S + 0.05
    moved = httpx.post(f"{sandbox.zoho_admin}/clock/advance", json={"seconds": to_the_next}, timeout=30)
    moved.raise_for_status()


@pytest.mark.parametrize(
    "shared", [True, pytest.param(False, marks=pytest.mark.slow)], ids=["shared", "control-per-process"]
)
def test_a_connect_just_before_a_sync_costs_the_sync_no_429(
    sandbox: ExternalSandbox, tmp_path: Path, shared: bool
) -> None:
    """The control (each process on its own budget, `zoho.shared_budget = false`) gets the issue's 429."""
    sandbox.reset()
    info = sandbox.info
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    zbsn = Zbsn(url, sandbox)
    zbsn.env["ZBSN_ZOHO__SHARED_BUDGET"] = "true" if shared else "false"
    _start_a_window(sandbox)
    zbsn(
        "connect", "zoho", "--json",
        "--client-id", info["zoho_client_id"],
        "--self-client-code", sandbox.self_client_code(),
        "--accounts-server", info["zoho_accounts_url"],
        "--org", info["zoho_organization_id"],
        secret=info["zoho_client_secret"],
    )  # fmt: skip
    engine = make_engine(url)
    charged = DbBudgetStore(engine).uses([info["zoho_organization_id"]])
    engine.dispose()
    if shared:
        assert charged[info["zoho_organization_id"]].used >= 1  # connect's request, in the org's window
    zbsn(
        "connect", "servicenow", "--json",
        "--instance", info["servicenow_url"],
        "--client-id", info["servicenow_client_id"],
        secret=info["servicenow_client_secret"],
    )  # fmt: skip
    zbsn(
        "profile", "create", "Northwind EU", "--json",
        "--cost-center-tag", info["cost_center_tag_name"],
        "--legal-entity", info["legal_entity"],
    )  # fmt: skip
    run = zbsn("sync", "--json", expect=EXIT_FAILURES)  # the seeded broken bills
    api = httpx.get(f"{sandbox.zoho_admin}/counters", timeout=30).json()["api"]
    print(f"\nsync: {run['zoho_requests']} Zoho requests; sandbox: {api['requests']}, {api['rejections']}")
    assert run["zoho_requests"] > 100  # more than one window's worth, right after connect
    if shared:
        assert api["rejections"].get("44", 0) == 0
    else:
        assert api["rejections"].get("44", 0) >= 1  # what issue 18 measured
