"""Scheduled jobs on the sandbox clock: invoice processing every 30 minutes, the Import Set Deleter at
midnight.

Nothing runs in the background: `tick()` is called before every API request and after `advance_clock`, and
runs each job that fell due since the last tick, once (both jobs catch up fully in one run). `run(name)` runs
a job on demand (the admin endpoint).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from zbsn.core.clock import Clock

from .config import ServiceNowSandboxConfig
from .deleter import delete_expired_import_sets
from .lifecycle import InvoiceLifecycle
from .state import Database

JOBS = ("invoice_processing", "import_set_deleter")


class Jobs:
    """The due-time bookkeeping of the sandbox's scheduled jobs."""

    def __init__(
        self, db: Database, config: ServiceNowSandboxConfig, clock: Clock, lifecycle: InvoiceLifecycle
    ) -> None:
        self.db = db
        self.config = config
        self.clock = clock
        self.lifecycle = lifecycle
        self.runs: dict[str, int] = dict.fromkeys(JOBS, 0)
        self.reset()

    def reset(self) -> None:
        """Start counting from now (the next processing run is one interval away)."""
        now = self.clock.now()
        self._next_processing = now + timedelta(seconds=self.config.processing_interval_seconds)
        self._deleter_day = now.date()

    def tick(self) -> None:
        """Run whatever fell due since the last tick."""
        now = self.clock.now()
        interval = self.config.processing_interval_seconds
        if interval > 0 and now >= self._next_processing:
            with self.db.lock:
                self.run("invoice_processing")
            missed = (now - self._next_processing) // timedelta(seconds=interval)
            self._next_processing += timedelta(seconds=interval) * (missed + 1)
        if now.date() > self._deleter_day:
            self._deleter_day = now.date()
            if self.config.import_set_retention_days > 0:
                with self.db.lock:
                    self.run("import_set_deleter", at=now)

    def run(self, name: str, at: datetime | None = None) -> dict[str, Any]:
        """Run one job now; what it did."""
        with self.db.lock:
            if name == "invoice_processing":
                result = self.lifecycle.run_processing()
            elif name == "import_set_deleter":
                retention = self.config.import_set_retention_days
                result = delete_expired_import_sets(self.db, at or self.clock.now(), retention)
            else:
                raise ValueError(f"unknown job {name!r} (one of {', '.join(JOBS)})")
            self.runs[name] += 1
        return {"job": name, **result}
