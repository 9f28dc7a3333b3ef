"""Injectable clocks: production code asks a Clock for the time so tests can move it forward."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from typing import Protocol


class Clock(Protocol):
    """What the engine and the clients need to know about time."""

    def now(self) -> datetime:
        """The current time, timezone-aware UTC."""
        ...

    def monotonic(self) -> float:
        """Seconds on a monotonic scale, for measuring intervals."""
        ...


class SystemClock:
    """The real wall clock."""

    def now(self) -> datetime:
        return datetime.now(UTC)

    def monotonic(self) -> float:
        return time.monotonic()


class OffsetClock:
    """The real clock shifted by an offset that tests can advance (e.g. to the 55th minute of a token)."""

    def __init__(self, offset: timedelta = timedelta(0)) -> None:
        self.offset = offset

    def advance(self, seconds: float) -> None:
        """Move this clock forward by `seconds`."""
        self.offset += timedelta(seconds=seconds)

    def now(self) -> datetime:
        return datetime.now(UTC) + self.offset

    def monotonic(self) -> float:
        return time.monotonic() + self.offset.total_seconds()


def utcnow() -> datetime:
    """Timezone-aware UTC now (for defaults where no clock is injected)."""
    return datetime.now(UTC)
