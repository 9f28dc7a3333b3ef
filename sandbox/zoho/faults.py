"""Fault injection: a seeded RNG picks, per API request, whether (and which) fault to apply.

Every request that can exhibit at least one configured kind draws exactly one number from the RNG, so a
run is reproducible for a given seed and request order.
"""

from __future__ import annotations

import random
import threading
from collections import Counter
from typing import Any

from zbsn.sandbox.zoho.config import FAULT_KINDS, FaultConfig

ANYWHERE = frozenset({"error_5xx", "drop", "slow", "revoke_token"})
_KNOBS = ("fault_rate", "kinds", "latency_ms", "slow_ms", "seed", "endpoints", "from_page")


class FaultInjector:
    """Holds the fault knobs and the deterministic RNG."""

    def __init__(self, config: FaultConfig) -> None:
        self.lock = threading.Lock()
        self.config = config
        self.rng = random.Random(config.seed)
        self.injected: Counter[str] = Counter()

    def configure(self, **changes: Any) -> FaultConfig:
        """Update knobs (fault_rate, kinds, latency_ms, slow_ms, seed); the RNG restarts from the seed."""
        with self.lock:
            for name, value in changes.items():
                if name not in _KNOBS:
                    raise ValueError(f"unknown fault setting: {name}")
                if name == "kinds":
                    kinds = {str(k): float(w) for k, w in dict(value).items()}
                    unknown = set(kinds) - set(FAULT_KINDS)
                    if unknown:
                        raise ValueError(f"unknown fault kinds: {sorted(unknown)}")
                    value = kinds
                if name == "endpoints":
                    value = [str(e) for e in value or []]
                if name == "from_page":
                    value = max(1, int(value))
                setattr(self.config, name, value)
            self.rng = random.Random(self.config.seed)
            return self.config

    def draw(self, applicable: frozenset[str], endpoint: str = "", page: int = 1) -> str | None:
        """The fault for this request (among `applicable` kinds plus the ANYWHERE ones), or None.

        `endpoint` ("GET /vendorpayments", as the counters name it) and the list `page` asked for are
        checked against the `endpoints` and `from_page` knobs; a request they leave out draws nothing."""
        with self.lock:
            if self.config.endpoints and endpoint not in self.config.endpoints:
                return None
            if page < self.config.from_page:
                return None
            candidates = [
                (k, w) for k, w in self.config.kinds.items() if w > 0 and (k in applicable or k in ANYWHERE)
            ]
            if not candidates or self.config.fault_rate <= 0:
                return None
            roll = self.rng.random()
            if roll >= self.config.fault_rate:
                return None
            total = sum(w for _, w in candidates)
            point = roll / self.config.fault_rate * total
            for kind, weight in candidates:
                point -= weight
                if point < 0:
                    self.injected[kind] += 1
                    return kind
            self.injected[candidates[-1][0]] += 1
            return candidates[-1][0]

    def snapshot(self) -> dict[str, Any]:
        """Knobs and injected counts as plain JSON."""
        with self.lock:
            return {
                "fault_rate": self.config.fault_rate,
                "kinds": dict(self.config.kinds),
                "latency_ms": self.config.latency_ms,
                "slow_ms": self.config.slow_ms,
                "seed": self.config.seed,
                "endpoints": list(self.config.endpoints),
                "from_page": self.config.from_page,
                "injected": dict(self.injected),
            }
