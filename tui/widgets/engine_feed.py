"""Bridge from the engine's EventBus (any thread) to a widget, batched.

A sync publishes hundreds of events a second. Posting one Textual message per event would keep the event
loop busy dispatching; instead events queue here and at most one `EngineEventsArrived` is pending per
subscriber: its handler drains everything that arrived meanwhile. `accept` filters on the publishing
thread, so widgets never wake for events they ignore.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable

from textual.message_pump import MessagePump

from zbsn.core.engine.events import Event, EventBus
from zbsn.tui.messages import EngineEventsArrived


class EventBatch:
    """Events waiting for one subscriber; thread-safe."""

    def __init__(self, target: MessagePump, accept: Callable[[Event], bool] | None = None) -> None:
        self.target = target
        self.accept = accept
        self._pending: deque[Event] = deque()
        self._lock = threading.Lock()
        self._scheduled = False

    def __call__(self, event: Event) -> None:
        if self.accept is not None and not self.accept(event):
            return
        with self._lock:
            self._pending.append(event)
            if self._scheduled:
                return
            self._scheduled = True
        self.target.post_message(EngineEventsArrived(self))

    def drain(self) -> list[Event]:
        """Everything queued since the last drain, oldest first."""
        with self._lock:
            events = list(self._pending)
            self._pending.clear()
            self._scheduled = False
        return events


def subscribe(
    target: MessagePump, bus: EventBus, accept: Callable[[Event], bool] | None = None
) -> Callable[[], None]:
    """Deliver `bus` events to `target` as batches; returns the unsubscribe function."""
    return bus.subscribe(EventBatch(target, accept))
