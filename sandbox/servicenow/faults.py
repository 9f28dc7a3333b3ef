"""Injected faults: latency, 5xx answers, dropped connections, a hibernating instance (sn-ref §2)."""

from __future__ import annotations

import logging
import random

from .config import FaultConfig

HIBERNATION_PAGE = """<!DOCTYPE html>
<html><head><title>Instance Hibernating page</title></head>
<body><h1>Your instance is hibernating</h1>
<p>This developer instance is hibernating due to inactivity. To wake it up, sign in to
<a href="https://developer.servicenow.com">developer.servicenow.com</a> and wake your instance.</p>
</body></html>
"""

FAULT_KINDS = ("500", "502", "503", "drop", "hibernate")

DROP_MESSAGE = "ASGI callable returned without completing response."


class _QuietDrops(logging.Filter):
    """Keep uvicorn from logging the deliberate dropped connections as errors."""

    def filter(self, record: logging.LogRecord) -> bool:
        return DROP_MESSAGE not in record.getMessage()


logging.getLogger("uvicorn.error").addFilter(_QuietDrops())


class FaultInjector:
    """Draws faults from a seeded RNG so a run is reproducible."""

    def __init__(self, config: FaultConfig) -> None:
        self.config = config
        self.rng = random.Random(config.seed)
        self.injected: dict[str, int] = {}

    def configure(self, config: FaultConfig) -> None:
        """Replace the fault settings and reseed the RNG."""
        unknown = set(config.kinds) - set(FAULT_KINDS)
        if unknown:
            raise ValueError(f"unknown fault kinds: {sorted(unknown)}")
        self.config = config
        self.rng = random.Random(config.seed)

    def latency(self) -> float:
        """Seconds to wait before answering."""
        jitter = self.config.latency_jitter_seconds
        return self.config.latency_seconds + (self.rng.uniform(0, jitter) if jitter > 0 else 0.0)

    def draw(self) -> str | None:
        """The fault for this request, or None."""
        if self.config.hibernating:
            return "hibernate"
        if self.config.fault_rate <= 0 or not self.config.kinds:
            return None
        if self.rng.random() >= self.config.fault_rate:
            return None
        kind = self.rng.choice(self.config.kinds)
        self.injected[kind] = self.injected.get(kind, 0) + 1
        return kind
