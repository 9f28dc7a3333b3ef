"""The run's scrolling event log: one readable line per engine event worth reading."""

from __future__ import annotations

from textual.geometry import Size
from textual.reactive import Reactive
from textual.widgets import RichLog

from zbsn.core.engine.events import (
    Event,
    LogLine,
    RecordFailed,
    RecordSkipped,
    RecordStaged,
    RunFinished,
    RunStarted,
    StageFinished,
    StageStarted,
    TokenStatusChanged,
)
from zbsn.tui.widgets.formatting import STAGE_TITLES, finished_words, token_words


def describe_event(event: Event) -> str | None:
    """The log line for `event` (Rich markup), or None for events only the gauges show."""
    match event:
        case RunStarted():
            return f"[b]Run {event.run_id} started[/b] ({event.mode}, {event.trigger})"
        case StageStarted():
            total = "size unknown" if event.total is None else f"{event.total:,} to check"
            return f"{STAGE_TITLES[event.stage]}: started, {total}"
        case StageFinished():
            words = finished_words(event.stage, event.staged, event.failed, event.skipped)
            return f"{STAGE_TITLES[event.stage]}: done — {words}"
        case RecordStaged():
            return f"[green]staged[/] {event.kind} {event.number or event.zoho_id} ({event.staging_status})"
        case RecordFailed():
            return f"[red]failed[/] {event.kind} {event.number or event.zoho_id or ''}: {event.message}"
        case RecordSkipped():
            return f"[dim]skipped {event.kind} {event.zoho_id}: {event.reason}[/]"
        case TokenStatusChanged():
            words, _ = token_words(event.state)
            return f"{event.system} token: {words}" + (f" — {event.message}" if event.message else "")
        case LogLine():
            colour = {"info": "", "warning": "yellow", "error": "red"}[event.level]
            return f"[{colour}]{event.text}[/]" if colour else event.text
        case RunFinished():
            return (
                f"[b]Run {event.run_id} finished: {event.status.replace('_', ' ')}[/b] — "
                f"{event.staged:,} staged, {event.failed:,} failed, {event.skipped:,} skipped, "
                f"{event.unchanged:,} unchanged"
            )
    return None


MAX_LINES = 2000


class EventLog(RichLog):
    """A bounded RichLog fed with engine events, whose new lines repaint it without a screen re-layout.

    A RichLog grows its virtual size with every line, and Textual re-lays-out the whole screen for every
    virtual-size change (~tens of ms on the Run screen, ten times a second during a run). This log's own
    size never changes (its box is fixed by CSS), so a new line only needs its scrollbar and its lines
    repainted: the virtual size is set without a layout, and a layout is asked for only when the vertical
    scrollbar appears or goes (the text area's width changes then).
    """

    DEFAULT_CSS = """
    EventLog { border: round $primary-darken-2; height: 1fr; min-height: 4; }
    """

    virtual_size: Reactive[Size] = Reactive(Size(0, 0), layout=False)

    def __init__(self, *, id: str | None = None) -> None:  # noqa: A002
        super().__init__(id=id, max_lines=MAX_LINES, markup=True, wrap=True, highlight=False)
        self.border_title = "Event log"
        self._token_states: dict[str, tuple[str, str | None]] = {}

    def watch_virtual_size(self, size: Size) -> None:
        if not self._size_known:
            return
        had_scrollbar = self.show_vertical_scrollbar
        self._scroll_update(size)
        if self.show_vertical_scrollbar != had_scrollbar:
            self.refresh(layout=True)

    def add_event(self, event: Event) -> None:
        if isinstance(event, TokenStatusChanged):
            # The engine re-announces token states as it checks them; the log shows only the changes.
            state = (event.state, event.message)
            if self._token_states.get(event.system) == state:
                return
            self._token_states[event.system] = state
        line = describe_event(event)
        if line is not None:
            stamp = event.at.strftime("%H:%M:%S")
            self.write(f"[dim]{stamp}[/] {line}")
