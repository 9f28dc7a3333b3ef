"""One process of a deployment sending Zoho requests for one org, for the shared-budget tests:
`python -m tests.reliability.budget_child <db_url> <json>`.

The JSON holds the Zoho sandbox's API domain and tokens (see `crash_child.endpoints_to_json`), the bill ids
to read, how many requests to send and the budget (window, limit; `shared`: through the database's
`zoho_budget`, or this process's own budget only). It waits for a start file, then sends, and prints one
JSON line: its responses by status.
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
from collections import Counter
from datetime import datetime
from pathlib import Path

from zbsn.core.budget_store import DbBudgetStore
from zbsn.core.db.engine import make_engine
from zbsn.core.tokens import MemoryTokenStore, TokenSet
from zbsn.core.zoho.auth import ZohoTokenManager
from zbsn.core.zoho.budget import BudgetConfig, OrgBudget
from zbsn.core.zoho.client import ZohoBooksClient
from zbsn.core.zoho.errors import ZohoApiError


async def send(data: dict[str, object], db_url: str) -> dict[str, int]:
    raw = dict(data["tokens"])  # type: ignore[call-overload]
    expires = datetime.fromisoformat(raw.pop("expires_at")) if raw.get("expires_at") else None
    manager = ZohoTokenManager(
        MemoryTokenStore(TokenSet(**raw, expires_at=expires)), str(data["client_id"]), str(data["secret"])
    )
    config = BudgetConfig(per_window_limit=100, window_s=float(data["window_s"]))  # type: ignore[arg-type]
    shared = DbBudgetStore(make_engine(db_url)) if data["shared"] else None
    org = str(data["org"])
    client = ZohoBooksClient(
        organization_id=org,
        tokens=manager,
        budget=OrgBudget(org, config, shared=shared),
        api_domain=str(data["api_domain"]),
    )
    bills = list(data["bills"])  # type: ignore[call-overload]
    outcomes: Counter[str] = Counter()
    queue = list(range(int(data["requests"])))  # type: ignore[call-overload]

    async def worker() -> None:
        while queue:
            index = queue.pop()
            try:
                await client.get_bill(str(bills[index % len(bills)]))
                outcomes["ok"] += 1
            except ZohoApiError as exc:
                outcomes[f"error {exc.code}"] += 1

    await asyncio.gather(*(worker() for _ in range(5)))
    await client.aclose()
    outcomes["429 code 44 absorbed"] = client.budget.total_429_by_code.get(44, 0)
    return dict(outcomes)


def main(db_url: str, payload: str) -> int:
    data = json.loads(payload)
    start = Path(str(data["start_file"]))
    while not start.exists():  # the parent starts both processes at once
        time.sleep(0.01)
    began = time.monotonic()
    result = asyncio.run(send(data, db_url))
    print(json.dumps({**result, "seconds": round(time.monotonic() - began, 2)}), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2]))
