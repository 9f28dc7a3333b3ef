"""Add or edit a schedule: cron with its meaning in plain words and the next run times, live."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, Select, Static

from zbsn.tui.widgets.formatting import timestamp


@dataclass(frozen=True)
class ScheduleForm:
    """What the operator entered."""

    name: str
    cron: str
    mode: str


def cron_preview(cron: str, now: datetime | None = None) -> tuple[bool, str]:
    """(valid, text): plain words and the next five runs, or what is wrong."""
    try:
        from zbsn.core.scheduling import describe_cron, next_runs
    except ImportError:
        return True, "(preview unavailable)"
    try:
        words = describe_cron(cron)
        runs = next_runs(cron, 5, now)
    except ValueError as error:
        return False, f"[$error]{error}[/]"
    upcoming = "\n".join(f"  {timestamp(r.astimezone(UTC))} UTC" for r in runs)
    return True, f"[b]{words}[/b]\nNext runs:\n{upcoming}"


class ScheduleModal(ModalScreen[ScheduleForm | None]):
    """Dismisses with the form, or None when cancelled."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "cancel", "Cancel")]
    DEFAULT_CSS = """
    ScheduleModal { align: center middle; }
    ScheduleModal > Vertical {
        width: 72;
        max-width: 98%;
        height: auto;
        border: thick $primary;
        background: $surface;
        padding: 0 1;
    }
    ScheduleModal Label { margin-top: 1; color: $text-muted; }
    ScheduleModal #schedule-preview { height: auto; min-height: 7; margin-top: 1; }
    ScheduleModal Horizontal { height: auto; align-horizontal: right; margin-top: 1; }
    ScheduleModal Button { margin-left: 1; }
    """

    def __init__(self, existing: Any = None, now: datetime | None = None) -> None:
        super().__init__()
        self.existing = existing
        self.now = now  # the preview's "now"; None is the real clock

    def compose(self) -> ComposeResult:
        editing = self.existing is not None
        with Vertical():
            yield Static("[b]Edit schedule[/b]" if editing else "[b]Add a schedule[/b]")
            yield Label("Cron (minute hour day month weekday), e.g. 0 6 * * 1-5 = 06:00 on weekdays")
            yield Input(self.existing.cron if editing else "0 6 * * 1-5", id="schedule-cron")
            yield Label("What to send")
            yield Select(
                [("What changed since the last run", "changed"), ("Everything (full run)", "full")],
                value=self.existing.mode if editing else "changed",
                allow_blank=False,
                id="schedule-mode",
            )
            yield Label("Name (optional)")
            yield Input(
                self.existing.name if editing else "", placeholder="e.g. Weekday mornings", id="schedule-name"
            )
            yield Static("", id="schedule-preview")
            with Horizontal():
                yield Button("Cancel", id="schedule-cancel")
                yield Button("Save", variant="primary", id="schedule-save")

    def on_mount(self) -> None:
        self._preview(self.query_one("#schedule-cron", Input).value)

    @on(Input.Changed, "#schedule-cron")
    def cron_changed(self, event: Input.Changed) -> None:
        self._preview(event.value)

    def _preview(self, cron: str) -> None:
        valid, text = cron_preview(cron, self.now)
        self.query_one("#schedule-preview", Static).update(text)
        self.query_one("#schedule-save", Button).disabled = not valid

    @on(Button.Pressed, "#schedule-save")
    def save(self) -> None:
        mode = self.query_one("#schedule-mode", Select).value
        self.dismiss(
            ScheduleForm(
                name=self.query_one("#schedule-name", Input).value.strip(),
                cron=self.query_one("#schedule-cron", Input).value.strip(),
                mode=str(mode),
            )
        )

    @on(Button.Pressed, "#schedule-cancel")
    def action_cancel(self) -> None:
        self.dismiss(None)
