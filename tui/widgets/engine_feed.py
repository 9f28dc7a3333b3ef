"""Bridge from the engine's EventBus to a widget's message queue."""

from __future__ import annotations

from collections.abc import Callable

from textual.message_pump import MessagePump

from zbsn.core.engine.events import Event, EventBus
from zbsn.tui.messages import EngineEventArrived


def subscribe(target: MessagePump, bus: EventBus) -> Callable[[], None]:
    """Post every engine event to `target` (thread-safe); returns the unsubscribe function."""

    def forward(event: Event) -> None:
        target.post_message(EngineEventArrived(event))

    return bus.subscribe(forward)
