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
from collections.abc import Awaitable, Callable, Coroutine, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol, TypeVar

from zbsn.core.audit_query import AuditLog
from zbsn.core.engine.events import EventBus, TokenStatusChanged
from zbsn.core.engine.service import EngineService
from zbsn.core.scheduling import ScheduleService
from zbsn.core.services import Services
from zbsn.core.webhooks.receiver import ReceiverState
from zbsn.core.webhooks.runtime import ServeRuntime
from zbsn.core.workspace import Workspace

T = TypeVar("T")


class MissingMaster(Protocol):
    """A cost center used in Zoho that ServiceNow lacks, as the sandbox describes it."""

    @property
    def account_number(self) -> str: ...

    @property
    def name(self) -> str: ...

    @property
    def zoho_key(self) -> str | None: ...


class SandboxControl(Protocol):
    """Demo-only conveniences of a simulated ServiceNow instance (the sandbox's admin endpoint).

    Handed to the console only when it is pointed at a sandbox (`zbsn-tui --demo`); no screen reaches a
    real instance through it, and with None the keys that use it do not exist.
    """

    def missing_cost_centers(self) -> Sequence[MissingMaster]:
        """Cost centers the Zoho org uses that the ServiceNow sandbox does not have (yet)."""
        ...

    def create_cost_center(self, account_number: str, name: str | None = None) -> str:
        """Create a cost center in the ServiceNow sandbox; returns its sys_id."""
        ...


@dataclass(frozen=True, slots=True)
class MissingCostCenter:
    """A cost center used in Zoho that ServiceNow lacks: what the sandbox can create."""

    account_number: str
    name: str
    zoho_key: str | None = None  # the reporting-tag option (or location) id in Zoho, when known


@dataclass
class ConsoleContext:
    """What every screen receives: the core services (from `open_services`), the chosen profile, the event
    bus, and the receiver the console runs. Built by `zbsn.tui.app.make_app` and nowhere else."""

    services: Services
    profile_id: int | None = None
    bus: EventBus = field(default_factory=EventBus)
    serve: ServeRuntime | None = None  # the console's scheduler + webhook receiver, when it runs one
    serve_problem: str | None = None  # why the console's receiver is not listening (port taken, …)
    sandbox: SandboxControl | None = None
    export_dir: str | None = None
    remember_profile: Callable[[int], None] | None = None

    @property
    def audit(self) -> AuditLog:
        """The audit log: pages, counts, details, runs."""
        return self.services.audit

    @property
    def workspace(self) -> Workspace:
        """Connections, profiles, token states."""
        return self.services.workspace

    @property
    def engine_service(self) -> EngineService:
        """Preview, run, replay, reconcile, mappings and overrides."""
        return self.services.engine

    @property
    def schedules(self) -> ScheduleService:
        """Cron schedules."""
        return self.services.schedules

    @property
    def webhook_receiver(self) -> ReceiverState | None:
        """The console's webhook receiver counters (None when it runs none)."""
        return self.serve.receiver_state if self.serve is not None else None

    def choose_profile(self, profile_id: int) -> None:
        """Make `profile_id` the profile every screen works on (remembered for the next start)."""
        self.profile_id = profile_id
        if self.remember_profile is not None:
            self.remember_profile(profile_id)


def announce_token_states(context: ConsoleContext) -> None:
    """Publish the active profile's token states on the bus (the status bar of every screen shows them)."""
    if context.profile_id is None:
        return
    for status in context.workspace.token_statuses(context.profile_id):
        context.bus(
            TokenStatusChanged(
                system=status.system,
                state=status.state,
                expires_in_s=status.refresh_in_s,
                message=status.message,
            )
        )


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
