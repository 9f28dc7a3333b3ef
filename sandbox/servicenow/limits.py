"""Rate-limit rules (sn-ref §6): fixed windows, per user and rule, headers only when a rule matches.

Precedence: a single-user rule beats an all-users rule; within a kind the lowest limit wins. Counting is
immediate (real nodes commit counts every 30 s, so real rules may lag by up to 30 s).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from zbsn.core.clock import Clock

from .config import RateLimitRule, ServiceNowSandboxConfig

API_NAMES = {"table": "Table API", "import": "Import Set API"}


@dataclass(slots=True)
class RateDecision:
    """Outcome of one check: headers to add, and a body/Retry-After when refused."""

    headers: dict[str, str]
    refused: bool = False
    detail: str = ""


class RateLimiter:
    """Counts requests per (rule, user, window) against the live config's rules."""

    def __init__(self, config: ServiceNowSandboxConfig, clock: Clock) -> None:
        self.config = config
        self.clock = clock
        self.counts: dict[tuple[str, str, int], int] = {}
        self.refused_total = 0

    def reset(self) -> None:
        """Forget all counts."""
        self.counts.clear()
        self.refused_total = 0

    def _rule_for(self, user: str, api: str, table: str | None) -> RateLimitRule | None:
        candidates = [
            r
            for r in self.config.rate_limit_rules
            if (r.user is None or r.user == user)
            and (r.api is None or r.api == api)
            and (r.table is None or r.table == table)
        ]
        if not candidates:
            return None
        return min(candidates, key=lambda r: (r.user is None, r.limit))

    def check(self, user: str, api: str, table: str | None) -> RateDecision:
        """Count one request and decide; no matching rule means no headers at all."""
        rule = self._rule_for(user, api, table)
        if rule is None:
            return RateDecision(headers={})
        now = self.clock.now().timestamp()
        window = max(rule.window_seconds, 1)
        window_index = math.floor(now / window)
        reset_at = (window_index + 1) * window
        key = (rule.sys_id, user, window_index)
        used = self.counts.get(key, 0) + 1
        self.counts[key] = used
        headers = {
            "X-RateLimit-Limit": str(rule.limit),
            "X-RateLimit-Reset": str(int(reset_at)),
            "X-RateLimit-Rule": rule.sys_id,
        }
        if used <= rule.limit:
            return RateDecision(headers=headers)
        self.refused_total += 1
        headers["Retry-After"] = str(max(math.ceil(reset_at - now), 1))
        per = "hour" if window == 3600 else f"{window} seconds"
        detail = (
            f"Rate limit of {rule.limit} requests per {per} for {API_NAMES.get(api, 'REST API')} exceeded"
        )
        return RateDecision(headers=headers, refused=True, detail=detail)
