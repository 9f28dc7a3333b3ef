"""A sync run in its own process, for the crash test:
`python -m tests.core.engine.crash_child <db_url> <json>`.

The JSON holds the sandboxes' endpoints and tokens (see `harness.Endpoints`) and the profile id. The parent
SIGKILLs this process at random points and then runs it again until a run finishes.
"""

from __future__ import annotations

import asyncio
import json
import sys
from datetime import datetime

from zbsn.core.db.engine import make_engine
from zbsn.core.tokens import TokenSet

from .harness import ClientFactories, Endpoints, make_runner


def endpoints_to_json(endpoints: Endpoints, profile_id: int) -> str:
    """Serialize what the child needs."""
    tokens = endpoints.zoho_tokens
    data = {
        **endpoints.__dict__,
        "profile_id": profile_id,
        "zoho_tokens": {
            "access_token": tokens.access_token,
            "refresh_token": tokens.refresh_token,
            "api_domain": tokens.api_domain,
            "accounts_server": tokens.accounts_server,
            "dc": tokens.dc,
            "expires_at": tokens.expires_at.isoformat() if tokens.expires_at else None,
        },
    }
    return json.dumps(data)


def main(db_url: str, payload: str) -> int:
    data = json.loads(payload)
    profile_id = int(data.pop("profile_id"))
    raw = data.pop("zoho_tokens")
    expires = datetime.fromisoformat(raw.pop("expires_at")) if raw.get("expires_at") else None
    endpoints = Endpoints(**data, zoho_tokens=TokenSet(**raw, expires_at=expires))
    db = make_engine(db_url)
    runner = make_runner(db, ClientFactories(endpoints), batch_size=20, detail_concurrency=4)
    summary = asyncio.run(runner.run(profile_id))
    print(summary.model_dump_json(), flush=True)
    return 0 if summary.status in ("succeeded", "completed_with_failures") else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2]))
