"""The Run screen runs the engine off the UI thread (against the demo sandboxes, in-process).

The engine's coroutine executes on the core loop (`services.core_loop()`, its own thread and asyncio loop),
its events reach the screen in order and in batches, the final counts are the engine's, and cancelling
from the screen sets the engine's cancel event on the engine's own loop. Every wait is on workers and
messages (bounded polling), never a timed assertion.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import Session, select
from textual.pilot import Pilot
from textual.widgets import Static

from zbsn.core.db.models import SyncRun
from zbsn.core.engine.events import Event, EventBus, RecordStaged, RunFinished, RunStarted, StageStarted
from zbsn.core.engine.service import EngineService
from zbsn.sandbox.demo import DemoHandle, start_demo
from zbsn.tui.app import ZbsnApp, make_app
from zbsn.tui.screens.run import RunScreen
from zbsn.tui.screens.services import core_loop

WIDE = (160, 48)


async def wait_until(
    pilot: Pilot[Any], condition: Callable[[], bool], *, workers: bool = True, rounds: int = 2400
) -> None:
    """Process messages (and let workers finish) until `condition()` holds; bounded, so a hang fails."""
    for _ in range(rounds):
        if workers:
            await pilot.app.workers.wait_for_complete()
        await pilot.pause(0.05)
        if condition():
            return
    raise AssertionError("the console never reached the expected state")


class ThreadRecordingEngine:
    """Spies on the real EngineService's `run`: the thread it executes on and the thread that cancels it."""

    def __init__(self, service: EngineService) -> None:
        self.service = service
        self.real_run = service.run
        self.run_thread: int | None = None
        self.cancel_set_thread: int | None = None
        service.run = self.run  # type: ignore[method-assign]

    async def run(
        self,
        profile_id: int,
        mode: str = "changed",
        trigger: str = "manual",
        events: Any = None,
        cancel: asyncio.Event | None = None,
    ) -> Any:
        self.run_thread = threading.get_ident()
        assert cancel is not None
        set_cancel = cancel.set

        def recording_set() -> None:
            self.cancel_set_thread = threading.get_ident()
            set_cancel()

        cancel.set = recording_set  # type: ignore[method-assign]
        return await self.real_run(profile_id, mode, trigger, events, cancel)


def _demo(tmp_path: Path, bills: int, window_s: float) -> DemoHandle:
    return start_demo(
        f"sqlite:///{tmp_path / 'demo.db'}", seed=7, bills=bills, rate_window_s=window_s, webhooks=False
    )


@pytest.fixture
def small_demo(tmp_path: Path) -> Iterator[DemoHandle]:
    """40 bills, Zoho's 100-request window shortened to 1 s: a complete run in a few seconds."""
    handle = _demo(tmp_path, bills=40, window_s=1.0)
    yield handle
    handle.stop()


@pytest.fixture
def long_demo(tmp_path: Path) -> Iterator[DemoHandle]:
    """300 bills at 100 Zoho requests per 10 s: a run that lasts long enough to be cancelled."""
    handle = _demo(tmp_path, bills=300, window_s=10.0)
    yield handle
    handle.stop()


def _console(demo: DemoHandle) -> tuple[ZbsnApp, ThreadRecordingEngine]:
    """The console on the demo, built by the real factory, opened on the Run screen, its engine spied on."""
    app = make_app(
        services=demo.services, profile_id=demo.profile_id, sandbox=demo, serve=False, screen="run"
    )
    return app, ThreadRecordingEngine(app.context.engine_service)


def _published(bus: EventBus) -> tuple[list[Event], list[int]]:
    """Every event the engine publishes from now on, and the thread of each publication."""
    events: list[Event] = []
    threads: list[int] = []

    def sink(event: Event) -> None:
        events.append(event)
        threads.append(threading.get_ident())

    bus.subscribe(sink)
    return events, threads


async def test_a_run_executes_on_the_core_thread_and_the_screen_gets_every_event_in_order(
    small_demo: DemoHandle,
) -> None:
    app, engine = _console(small_demo)
    async with app.run_test(size=WIDE) as pilot:
        await wait_until(pilot, lambda: isinstance(app.screen, RunScreen))
        screen = app.screen
        assert isinstance(screen, RunScreen)
        published, threads = _published(app.context.bus)
        applied: list[Event] = []
        fold = screen._apply

        def recording_apply(event: Any, *, replaying_history: bool) -> None:
            if not replaying_history:
                applied.append(event)
            fold(event, replaying_history=replaying_history)

        screen._apply = recording_apply  # type: ignore[method-assign]
        await pilot.press("S")
        await wait_until(
            pilot, lambda: not screen.running and any(isinstance(e, RunFinished) for e in applied)
        )

        ui_thread = threading.get_ident()
        assert engine.run_thread is not None
        assert engine.run_thread != ui_thread
        assert engine.run_thread == core_loop().thread_id
        assert set(threads) == {engine.run_thread}  # every event was published on the engine's thread

        assert applied == published  # all of them, in the order the engine published them
        assert isinstance(applied[0], RunStarted)
        finished = applied[-1]
        assert isinstance(finished, RunFinished)
        assert finished.staged > 0
        assert screen.counts == {
            "staged": finished.staged,
            "failed": finished.failed,
            "skipped": finished.skipped,
        }
        assert sum(isinstance(e, RecordStaged) for e in applied) == finished.staged
        assert str(screen.query_one("#run-counts", Static).content).startswith(
            f"[$success]{finished.staged:,} staged[/]"
        )
    with Session(small_demo.db_engine) as session:
        run = session.exec(select(SyncRun).where(SyncRun.id == finished.run_id)).one()
    assert (run.staged, run.failed, run.skipped) == (finished.staged, finished.failed, finished.skipped)


async def test_cancel_crosses_threads_and_stops_the_run(long_demo: DemoHandle) -> None:
    app, engine = _console(long_demo)
    async with app.run_test(size=WIDE) as pilot:
        await wait_until(pilot, lambda: isinstance(app.screen, RunScreen))
        screen = app.screen
        assert isinstance(screen, RunScreen)
        published, _ = _published(app.context.bus)
        await pilot.press("S")
        # Cancel once the bills stage is under way (the engine checks the event between batches).
        await wait_until(
            pilot,
            lambda: any(isinstance(e, StageStarted) and e.stage == "bills" for e in published),
            workers=False,
        )
        assert screen.running
        await pilot.press("k")
        await wait_until(pilot, lambda: not screen.running)

        assert engine.cancel_set_thread == engine.run_thread  # set on the engine's loop, not the UI's
        assert engine.cancel_set_thread != threading.get_ident()
        finished = [e for e in published if isinstance(e, RunFinished)]
        assert len(finished) == 1
        assert finished[0].status == "cancelled"
        assert finished[0].staged < 300
        assert screen.counts["staged"] == finished[0].staged
    with Session(long_demo.db_engine) as session:
        run = session.exec(select(SyncRun).where(SyncRun.id == finished[0].run_id)).one()
    assert run.status == "cancelled"
