"""Bridge from the engine's EventBus (published on the core loop's thread, or any other) to a widget, batched.

A sync publishes hundreds of events a second, from another thread. The bus sink only appends to a locked
buffer: nothing is posted or scheduled per event, so the engine never wakes the UI loop. A timer on the
subscriber (10 times a second by default) posts one `EngineEventsArrived` when something is waiting, and at
most one is pending at a time; its handler drains everything that arrived meanwhile, oldest first.
`accept` filters on the publishing thread, so widgets never see events they ignore. `flush()` hands the
waiting events over at once (e.g. when the run worker returns, so the final counts are drawn now).
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable

from textual.message_pump import MessagePump
from textual.timer import Timer

from zbsn.core.engine.events import Event, EventBus
from zbsn.tui.messages import EngineEventsArrived

DELIVERY_INTERVAL_S = 0.1


class EventBatch:
    """Events waiting for one subscriber; the sink side is thread-safe."""

    def __init__(self, target: MessagePump, accept: Callable[[Event], bool] | None = None) -> None:
        self.target = target
        self.accept = accept
        self._pending: deque[Event] = deque()
        self._lock = threading.Lock()
        self._posted = False

    def __call__(self, event: Event) -> None:
        if self.accept is not None and not self.accept(event):
            return
        with self._lock:
            self._pending.append(event)

    def deliver(self) -> None:
        """On the UI loop: post one `EngineEventsArrived` if events wait and none is pending already."""
        with self._lock:
            if not self._pending or self._posted:
                return
            self._posted = True
        self.target.post_message(EngineEventsArrived(self))

    def drain(self) -> list[Event]:
        """Everything queued since the last drain, oldest first."""
        with self._lock:
            events = list(self._pending)
            self._pending.clear()
            self._posted = False
        return events


class EngineFeed:
    """A subscription: call it (or `close()`) to unsubscribe; `flush()` drains what is waiting now."""

    def __init__(self, batch: EventBatch, unsubscribe: Callable[[], None], timer: Timer) -> None:
        self.batch = batch
        self._unsubscribe = unsubscribe
        self._timer = timer

    def flush(self) -> list[Event]:
        return self.batch.drain()

    def close(self) -> None:
        self._unsubscribe()
        self._timer.stop()

    def __call__(self) -> None:
        self.close()


def subscribe(
    target: MessagePump,
    bus: EventBus,
    accept: Callable[[Event], bool] | None = None,
    *,
    interval: float = DELIVERY_INTERVAL_S,
) -> EngineFeed:
    """Deliver `bus` events to `target` (mounted) as batches at most every `interval` seconds."""
    batch = EventBatch(target, accept)
    timer = target.set_interval(interval, batch.deliver, name="engine-feed")
    return EngineFeed(batch, bus.subscribe(batch), timer)
