"""What the console needs from core, in one place: the `ConsoleContext` every screen receives.

Screens never build services; the app factory hands them over through `navigation.install(app, context)`.
Services from core may be sync or async: `call_core` awaits either without blocking the event loop. Sync
calls go to a worker thread; coroutines run on the core loop (`core_loop()`), one asyncio loop in its own
thread, so the engine's synchronous database writes never stall the UI, and every async core object (token
locks, the Zoho budget) lives on that one loop, whichever screen started the call.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import gc
import inspect
import threading
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass, field
from typing import Any, TypeVar

import sqlalchemy as sa

from zbsn.core.engine.events import EventBus

T = TypeVar("T")


@dataclass
class ConsoleContext:
    """The services the screens call. Any of them may be None until its owner's code is available."""

    db: sa.Engine | None = None
    profile_id: int | None = None
    workspace: Any = None  # zbsn.core.workspace.Workspace
    engine_service: Any = None  # zbsn.core.engine.EngineService
    schedules: Any = None  # zbsn.core.scheduling.ScheduleService
    webhook_receiver: Any = None  # zbsn.core.webhooks receiver state
    demo: Any = None  # zbsn.core.demo.DemoHandle when started with --demo
    bus: EventBus = field(default_factory=EventBus)
    export_dir: str | None = None


class CoreLoop:
    """An asyncio loop in a daemon thread of its own: where core coroutines run, off the UI's loop.

    `run(coroutine)` is awaited from the UI loop; cancelling that await cancels the task on the core loop.
    `call_soon(callback)` runs a callback on the core loop (e.g. `cancel.set` for a run's cancel event: an
    asyncio object belongs to the loop that waits on it, so it is set there). The loop also wakes every
    `HEARTBEAT_S`, so a waiter released from another thread without `call_soon` (a test double's
    `asyncio.Event`, say) is noticed within that time instead of never.
    """

    HEARTBEAT_S = 0.1

    def __init__(self, name: str = "zbsn-core") -> None:
        self.name = name
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    @property
    def loop(self) -> asyncio.AbstractEventLoop:
        """The core loop, started on first use."""
        with self._lock:
            if self._loop is None or self._thread is None or not self._thread.is_alive():
                loop = asyncio.new_event_loop()
                ready = threading.Event()
                self._thread = threading.Thread(
                    target=self._main, args=(loop, ready), name=self.name, daemon=True
                )
                self._thread.start()
                ready.wait()
                self._loop = loop
            return self._loop

    @property
    def thread_id(self) -> int | None:
        """The core thread's ident (None before the first use)."""
        return self._thread.ident if self._thread is not None else None

    def _main(self, loop: asyncio.AbstractEventLoop, ready: threading.Event) -> None:
        asyncio.set_event_loop(loop)

        def beat() -> None:
            loop.call_later(self.HEARTBEAT_S, beat)

        loop.call_soon(beat)
        loop.call_soon(ready.set)
        try:
            loop.run_forever()
        finally:
            loop.close()

    def submit(self, coroutine: Coroutine[Any, Any, T]) -> concurrent.futures.Future[T]:
        """Schedule `coroutine` on the core loop (from any thread)."""
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop)

    async def run(self, awaitable: Awaitable[T]) -> T:
        """Await `awaitable` on the core loop, from another loop."""
        coroutine = awaitable if inspect.iscoroutine(awaitable) else _await(awaitable)
        if _running_loop() is self._loop:  # already on the core loop (a core callback calling back in)
            return await coroutine
        return await asyncio.wrap_future(self.submit(coroutine))

    def call_soon(self, callback: Callable[..., object], *args: Any) -> None:
        """Run `callback(*args)` on the core loop, from any thread."""
        self.loop.call_soon_threadsafe(callback, *args)

    def stop(self) -> None:
        """Stop the loop and join its thread (the next use starts a new one)."""
        with self._lock:
            loop, thread = self._loop, self._thread
            self._loop = self._thread = None
        if loop is not None and thread is not None and thread.is_alive():
            loop.call_soon_threadsafe(loop.stop)
            thread.join(5)


async def _await(awaitable: Awaitable[T]) -> T:
    return await awaitable


def _running_loop() -> asyncio.AbstractEventLoop | None:
    try:
        return asyncio.get_running_loop()
    except RuntimeError:
        return None


_CORE_LOOP = CoreLoop()


def core_loop() -> CoreLoop:
    """The process's core loop (one for every console: core objects must not change loops)."""
    return _CORE_LOOP


def settle_heap() -> None:
    """Move every object alive now out of the cyclic collector's reach (`gc.freeze`) before a long run.

    A sync allocates fast and so triggers full (generation 2) collections, which stop every thread,
    the UI's included, for as long as they take to walk the heap: 100-200 ms over the console's 250,000
    long-lived objects (widgets, styles, clients). Frozen, those collections walk only what the run made.
    Frozen objects are still freed when their last reference goes; only cycles among them wait. (No
    `gc.collect()` first: that would be the very pause this avoids, just as the operator presses start.)
    """
    gc.freeze()


async def call_core(function: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """Call a core function without blocking the UI: coroutines on the core loop, sync calls in a thread."""
    if inspect.iscoroutinefunction(function):
        return await core_loop().run(function(*args, **kwargs))
    result = await asyncio.to_thread(function, *args, **kwargs)
    if inspect.isawaitable(result):
        return await core_loop().run(result)
    return result


def describe_error(error: BaseException) -> str:
    """One line for the operator: the message, or the type when there is none."""
    text = str(error).strip()
    return text or type(error).__name__


def missing_service(name: str) -> str:
    """What to tell the operator when a service is not wired (e.g. no engine in this build)."""
    return f"{name} is not available in this console yet. Start with --demo or configure a profile."
