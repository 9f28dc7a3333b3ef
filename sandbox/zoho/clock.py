"""The sandbox clock: starts at a chosen instant, runs in real time, and can be moved forward."""

from __future__ import annotations

import datetime as dt
import threading
import time


class SandboxClock:
    """A settable offset clock (satisfies `zbsn.core.clock.Clock`) used for token/code expiry and limits."""

    def __init__(self, start: dt.datetime | None = None) -> None:
        self._lock = threading.Lock()
        self._anchor_wall = start if start is not None else dt.datetime.now(dt.UTC)
        if self._anchor_wall.tzinfo is None:
            raise ValueError("start must be timezone-aware")
        self._anchor_mono = time.monotonic()
        self._offset = 0.0

    def advance(self, seconds: float) -> None:
        """Move the clock forward by `seconds` (negative values are refused)."""
        if seconds < 0:
            raise ValueError("the sandbox clock only moves forward")
        with self._lock:
            self._offset += seconds

    def seconds(self) -> float:
        """Seconds elapsed on the sandbox scale since the clock was created (real time + advances)."""
        with self._lock:
            return time.monotonic() - self._anchor_mono + self._offset

    def monotonic(self) -> float:
        """Same scale as `seconds()`: monotonic, including advances."""
        return self.seconds()

    def now(self) -> dt.datetime:
        """The current sandbox time, timezone-aware UTC."""
        return (self._anchor_wall + dt.timedelta(seconds=self.seconds())).astimezone(dt.UTC)

    def epoch(self) -> float:
        """The current sandbox time as a Unix timestamp."""
        return self.now().timestamp()
