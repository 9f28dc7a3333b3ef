"""Run: start or cancel a sync, watch it stage by stage, the Zoho budget, the log; manage schedules.

The engine runs on the core loop (`services.core_loop()`), in its own thread: its synchronous database
writes never stall this screen. Its events reach the screen through `engine_feed` in batches, at most ten
times a second; high-rate ones (progress, budget, record counts) are folded into the latest values and drawn
once per batch, and only while the screen is visible (it catches up when shown again). Every widget that
changes during a run has a fixed size, so an update is a repaint, not a re-layout of the screen.

(Over 400 lines: the run and the schedules of one profile share this screen; the stage rows, the budget gauge
and the event log are widgets of their own.)
"""

from __future__ import annotations

import asyncio
from datetime import datetime
from typing import Any, ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.widgets import Button, DataTable, Static

from zbsn.core.engine.events import (
    BudgetChanged,
    RecordFailed,
    RecordSkipped,
    RecordStaged,
    RunFinished,
    RunStarted,
    StageFinished,
    StageProgressed,
    StageStarted,
)
from zbsn.core.scheduling import ScheduleService, ScheduleView
from zbsn.core.webhooks.receiver import ReceiverState
from zbsn.tui.messages import CoreCallFailed, EngineEventsArrived, RunCompleted, SchedulesLoaded
from zbsn.tui.screens.base import NAVIGATION_BINDINGS, ConsoleScreen
from zbsn.tui.screens.schedule_modal import ScheduleForm, ScheduleModal
from zbsn.tui.screens.services import (
    ConsoleContext,
    call_core,
    core_loop,
    describe_error,
    settle_heap,
)
from zbsn.tui.widgets.budget_gauge import BudgetGauge
from zbsn.tui.widgets.engine_feed import EngineFeed, subscribe
from zbsn.tui.widgets.event_log import EventLog
from zbsn.tui.widgets.formatting import timestamp
from zbsn.tui.widgets.repaint import set_text
from zbsn.tui.widgets.stage_progress import StageProgress
from zbsn.tui.widgets.status_bar import StatusBar

IDLE_HINT = "No run in progress. Press s to send what changed since the last run, or S for a full run."


class RunScreen(ConsoleScreen):
    """Live view of the current (or last) run, and the schedules that start runs."""

    TITLE_TEXT = "Run"
    KEYS_HELP: ClassVar[list[tuple[str, str]]] = [
        ("s", "Start a run: what changed since the last run"),
        ("S", "Start a full run (re-checks every record)"),
        ("k", "Cancel the running sync"),
        ("a", "Add a schedule"),
        ("e", "Edit the highlighted schedule"),
        ("t", "Enable / disable the highlighted schedule"),
        ("F5", "After a run: the Audit screen lists every failure"),
    ]
    BINDINGS: ClassVar[list[BindingType]] = [
        *NAVIGATION_BINDINGS,
        Binding("s", "start_changed", "Run changed"),
        Binding("S", "start_full", "Full run"),
        Binding("k", "cancel_run", "Cancel run"),
        Binding("a", "add_schedule", "Add schedule", show=False),
        Binding("e", "edit_schedule", "Edit schedule", show=False),
        Binding("t", "toggle_schedule", "On/off", show=False),
    ]
    DEFAULT_CSS = """
    RunScreen #run-columns { height: 1fr; }
    RunScreen #run-left { width: 3fr; }
    RunScreen #run-right { width: 2fr; }
    RunScreen #run-controls { height: 3; }
    RunScreen #run-controls Button { margin-right: 1; }
    RunScreen #run-counts { width: 1fr; content-align: right middle; height: 3; padding-right: 1; }
    RunScreen #schedules { height: 1fr; border: round $primary-darken-2; }
    RunScreen #schedule-table { height: 1fr; }
    RunScreen #schedule-buttons { height: 3; }
    RunScreen #schedule-buttons Button { margin-right: 1; min-width: 10; }
    RunScreen #webhooks { height: auto; border: round $primary-darken-2; padding: 0 1; color: $text-muted; }
    RunScreen.-narrow #run-right { display: none; }
    RunScreen.-narrow #run-controls Button { min-width: 8; }
    """

    def __init__(self, context: ConsoleContext, *, name: str | None = None) -> None:
        super().__init__(context, name=name)
        self.cancel_event: asyncio.Event | None = None
        self.running = False
        self.counts = {"staged": 0, "failed": 0, "skipped": 0}
        self.schedules: list[ScheduleView] = []
        self._feed: EngineFeed | None = None
        self.preview_now: datetime | None = (
            None  # fixed "now" for cron previews (tests, screenshots); None = real clock
        )
        self._dirty = False
        self._pending_progress: dict[Any, StageProgressed] = {}
        self._pending_budget: BudgetChanged | None = None

    def compose_body(self) -> ComposeResult:
        with Horizontal(id="run-columns"):
            with Vertical(id="run-left"):
                with Horizontal(id="run-controls"):
                    yield Button("Run changed (s)", variant="primary", id="run-changed")
                    yield Button("Full run (S)", id="run-full")
                    yield Button("Cancel (k)", variant="error", id="run-cancel", disabled=True)
                    yield Static("", id="run-counts")
                yield StageProgress(id="stages")
                yield BudgetGauge(shared=self.context.services.settings.zoho.shared_budget, id="budget")
                yield EventLog(id="event-log")
            with Vertical(id="run-right"):
                with Vertical(id="schedules"):
                    yield DataTable(cursor_type="row", id="schedule-table")
                    with Horizontal(id="schedule-buttons"):
                        yield Button("Add (a)", id="schedule-add")
                        yield Button("Edit (e)", id="schedule-edit")
                        yield Button("On/off (t)", id="schedule-toggle")
                yield Static("", id="webhooks")

    def on_mount(self) -> None:
        self.query_one("#schedules").border_title = "Schedules"
        self.query_one("#webhooks").border_title = "Zoho webhooks"
        table = self.query_one("#schedule-table", DataTable)
        for key, label, width in (
            ("on", "On", 3),
            ("when", "When", 34),
            ("mode", "Sends", 7),
            ("next", "Next (UTC)", 16),
        ):
            table.add_column(label, key=key, width=width)
        self._show_counts()
        self.set_hint(IDLE_HINT)
        for event in list(self.context.bus.history):
            self._apply(event, replaying_history=True)
        self._flush()
        self._feed = subscribe(self, self.context.bus)
        self.load_schedules()

    def profile_changed(self) -> None:
        self.load_schedules()

    def on_unmount(self) -> None:
        if self._feed is not None:
            self._feed.close()
        if self.running and self.cancel_event is not None:
            core_loop().call_soon(self.cancel_event.set)  # the console is closing: stop between batches

    def on_screen_resume(self) -> None:
        self._flush()  # what arrived while another screen was on top

    # ---- runs ------------------------------------------------------------------------------------------
    @on(Button.Pressed, "#run-changed")
    def action_start_changed(self) -> None:
        self._start("changed")

    @on(Button.Pressed, "#run-full")
    def action_start_full(self) -> None:
        self._start("full")

    def _start(self, mode: str) -> None:
        if self.running:
            self.notify("A run is already in progress.", severity="warning")
            return
        if self.context.profile_id is None:
            self.notify("No sync profile yet: create one on Profiles (F6) first.", severity="warning")
            return
        settle_heap()  # keeps full garbage collections during the run short (they pause the UI too)
        self.cancel_event = asyncio.Event()
        self._set_running(True)
        self.set_hint(f"Starting a {'full' if mode == 'full' else 'changed-since-last'} run…")
        self.run_sync(mode, self.cancel_event)

    @work(exclusive=True, group="run", exit_on_error=False)
    async def run_sync(self, mode: str, cancel: asyncio.Event) -> None:
        """Await the engine's run, which executes on the core loop's thread (see `call_core`)."""
        try:
            result = await call_core(
                self.context.engine_service.run,
                self.context.profile_id,
                mode,
                "manual",
                self.context.bus,
                cancel,
            )
        except Exception as error:
            self.post_message(CoreCallFailed("run the sync", describe_error(error)))
            return
        self.post_message(RunCompleted(result))

    @on(Button.Pressed, "#run-cancel")
    def action_cancel_run(self) -> None:
        if not self.running or self.cancel_event is None:
            self.notify("No run to cancel.")
            return
        # The event belongs to the engine's loop: set it there (the engine checks it between batches).
        core_loop().call_soon(self.cancel_event.set)
        self.set_hint("Cancelling: the record in flight finishes, nothing else is sent.")

    @on(RunCompleted)
    def run_completed(self, message: RunCompleted) -> None:
        self._take_waiting_events()  # everything the run published, before its end is shown
        self._set_running(False)
        self._flush()

    @on(CoreCallFailed)
    def core_call_failed(self, message: CoreCallFailed) -> None:
        if message.action == "run the sync":
            self._take_waiting_events()
            self._set_running(False)
        self.query_one(EventLog).write(f"[red]Could not {message.action}: {message.error}[/]")
        self.set_hint(f"Could not {message.action}: {message.error}")

    def _set_running(self, running: bool) -> None:
        self.running = running
        self.query_one("#run-changed", Button).disabled = running
        self.query_one("#run-full", Button).disabled = running
        self.query_one("#run-cancel", Button).disabled = not running

    # ---- engine events ---------------------------------------------------------------------------------
    @on(EngineEventsArrived)
    def engine_events(self, message: EngineEventsArrived) -> None:
        self._take(message.drain())

    def _take_waiting_events(self) -> None:
        if self._feed is not None:
            self._take(self._feed.flush())
        for bar in self.query(StatusBar):  # its own feed ticks twice a second: show the end state now
            bar.catch_up()

    def _take(self, events: list[Any]) -> None:
        for event in events:
            self._apply(event, replaying_history=False)
        self._flush()

    def _apply(self, event: Any, *, replaying_history: bool) -> None:
        """Fold one event into the view; high-rate ones only update the pending state `_flush` draws."""
        match event:
            case RecordStaged():
                self.counts["staged"] += 1
                self._dirty = True
                return
            case RecordSkipped():
                self.counts["skipped"] += 1
                self._dirty = True
                return
            case StageProgressed():
                self._pending_progress[event.stage] = event
                self._dirty = True
                return
            case BudgetChanged():
                self._pending_budget = event
                self._dirty = True
                return
            case RunStarted():
                if not replaying_history:
                    settle_heap()  # also for runs started elsewhere (a schedule, a webhook)
                self.counts = {"staged": 0, "failed": 0, "skipped": 0}
                self._pending_progress.clear()
                self.query_one(StageProgress).reset()
                self._set_running(not replaying_history or self.running)
                self.set_hint(f"Run {event.run_id} in progress ({event.mode}). Press k to cancel.")
            case StageStarted():
                self.query_one(StageProgress).row(event.stage).started(event.total)
            case StageFinished():
                self._pending_progress.pop(event.stage, None)
                row = self.query_one(StageProgress).row(event.stage)
                row.finished(event.staged, event.failed, event.skipped)
            case RecordFailed():
                self.counts["failed"] += 1
            case RunFinished():
                self.counts = {"staged": event.staged, "failed": event.failed, "skipped": event.skipped}
                self._set_running(False)
                self.set_hint(self._finished_hint(event))
        self._dirty = True
        self.query_one(EventLog).add_event(event)

    def _flush(self) -> None:
        """Draw what high-rate events changed since the last flush (only while this screen is shown)."""
        if not self._dirty or not self.is_current:
            return
        self._dirty = False
        stages = self.query_one(StageProgress)
        for stage, progress in self._pending_progress.items():
            stages.row(stage).progressed(progress.done, progress.total)
        self._pending_progress.clear()
        if self._pending_budget is not None:
            self.query_one(BudgetGauge).show(self._pending_budget)
            self._pending_budget = None
        self._show_counts()

    def _finished_hint(self, event: RunFinished) -> str:
        status = event.status.replace("_", " ")
        if event.failed:
            return (
                f"Run {event.run_id} {status}: {event.failed:,} failed. Open Audit (F5), press f for "
                "failures, "
                "fix the cause (often a missing mapping: Preview, F3), then replay."
            )
        return f"Run {event.run_id} {status}: {event.staged:,} staged. Nothing needs you. {IDLE_HINT}"

    def _show_counts(self) -> None:
        c = self.counts
        failed = f"[$error]{c['failed']:,} failed[/]" if c["failed"] else "0 failed"
        set_text(
            self.query_one("#run-counts", Static),
            f"[$success]{c['staged']:,} staged[/] · {failed} · {c['skipped']:,} skipped",
        )

    # ---- schedules -------------------------------------------------------------------------------------
    def _schedule_service(self) -> ScheduleService:
        return self.context.schedules

    @work(exclusive=True, group="schedules", exit_on_error=False)
    async def load_schedules(self) -> None:
        service = self._schedule_service()
        if self.context.profile_id is None:
            self.post_message(SchedulesLoaded([], self.context.webhook_receiver))
            return
        try:
            schedules = await call_core(service.list_schedules, self.context.profile_id)
        except Exception as error:
            self.post_message(CoreCallFailed("read the schedules", describe_error(error)))
            return
        self.post_message(SchedulesLoaded(schedules, self.context.webhook_receiver))

    @on(SchedulesLoaded)
    def schedules_loaded(self, message: SchedulesLoaded) -> None:
        self.schedules = list(message.schedules)
        table = self.query_one("#schedule-table", DataTable)
        table.clear()
        for schedule in self.schedules:
            table.add_row(
                Text("on", style="green") if schedule.enabled else Text("off", style="dim"),
                schedule.description,
                schedule.mode,
                timestamp(schedule.next_run_at) if schedule.enabled else "—",
                key=str(schedule.id),
            )
        if not self.schedules:
            table.add_row("", "None yet: press a", "", "", key="none")
        self.query_one("#webhooks", Static).update(webhook_text(message.receiver, self.context.serve_problem))

    def _highlighted_schedule(self) -> ScheduleView | None:
        table = self.query_one("#schedule-table", DataTable)
        if not self.schedules or table.row_count == 0:
            return None
        key = table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value
        return next((s for s in self.schedules if str(s.id) == key), None)

    @on(Button.Pressed, "#schedule-add")
    def action_add_schedule(self) -> None:
        if self.context.profile_id is None:
            self.notify("No sync profile yet: create one on Profiles (F6) first.", severity="warning")
            return
        self.app.push_screen(ScheduleModal(now=self.preview_now), self._saved(None))

    @on(Button.Pressed, "#schedule-edit")
    def action_edit_schedule(self) -> None:
        schedule = self._highlighted_schedule()
        if schedule is None:
            self.notify("Highlight a schedule first (or press a to add one).", severity="warning")
            return
        self.app.push_screen(ScheduleModal(schedule, now=self.preview_now), self._saved(schedule.id))

    def _saved(self, schedule_id: int | None) -> Any:
        def done(form: ScheduleForm | None) -> None:
            if form is not None:
                self.save_schedule(schedule_id, form)

        return done

    @work(exclusive=True, group="schedule-save", exit_on_error=False)
    async def save_schedule(self, schedule_id: int | None, form: ScheduleForm) -> None:
        service = self._schedule_service()
        try:
            if schedule_id is None:
                await call_core(
                    service.add, self.context.profile_id, form.cron, name=form.name or None, mode=form.mode
                )
            else:
                await call_core(
                    service.edit, schedule_id, cron=form.cron, name=form.name or None, mode=form.mode
                )
        except Exception as error:
            self.post_message(CoreCallFailed("save the schedule", describe_error(error)))
            return
        self.load_schedules()

    @on(Button.Pressed, "#schedule-toggle")
    def action_toggle_schedule(self) -> None:
        schedule = self._highlighted_schedule()
        if schedule is None:
            self.notify("Highlight a schedule first.", severity="warning")
            return
        self.toggle_schedule(schedule.id, not schedule.enabled)

    @work(exclusive=True, group="schedule-save", exit_on_error=False)
    async def toggle_schedule(self, schedule_id: int, enabled: bool) -> None:
        try:
            await call_core(self._schedule_service().set_enabled, schedule_id, enabled)
        except Exception as error:
            self.post_message(CoreCallFailed("change the schedule", describe_error(error)))
            return
        self.load_schedules()


NOT_SERVING = (
    "This console does not receive webhooks or run schedules: `zbsn serve` does (or start the console "
    "with --serve). Runs start by hand here."
)


def webhook_text(receiver: ReceiverState | None, problem: str | None = None) -> str:
    """The receiver's state in a sentence or three."""
    if problem is not None:
        return f"[$warning]The console's receiver did not start:[/] {problem}\n{NOT_SERVING}"
    if receiver is None:
        return NOT_SERVING
    url = receiver.listening_url
    if not url:
        return "Schedules run in this console; webhooks are not received (no webhook secret configured)."
    last = receiver.last_received_at
    lines = [
        f"[$success]●[/] Listening on {url}",
        f"{receiver.stored:,} stored · {receiver.duplicates:,} duplicates · {receiver.refused:,} refused",
        f"Last delivery {timestamp(last)} UTC" if last else "No delivery yet.",
    ]
    if receiver.last_refusal:
        lines.append(f"[$warning]Last refusal: {receiver.last_refusal}[/]")
    return "\n".join(lines)
