"""Help: what each screen is for and its keys, built from the screens' own HELP and BINDINGS."""

from __future__ import annotations

from typing import ClassVar

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

GLOBAL_KEYS = [
    ("F1", "This help"),
    ("F2 / F3 / F4 / F5", "Connect / Preview / Run / Audit"),
    ("F6 / F7", "Profiles / All profiles (every organization at a glance)"),
    ("Esc", "Back to the home screen (closes dialogs first)"),
    ("Ctrl+P", "Command palette: every action by name"),
    ("Ctrl+T", "Switch between the dark and light theme"),
    ("Ctrl+Q", "Quit"),
]

PURPOSE = {
    "Connect": "Authorise Zoho Books and ServiceNow. Do this first; come back when a token says "
    "re-authorise.",
    "Preview": "See what a run would send, before sending it: unmapped cost centers, GL accounts and "
    "suppliers "
    "block bills. Fix them here with an override.",
    "Run": "Send to ServiceNow now, watch progress and the Zoho request budget, manage schedules.",
    "Audit": "Every record ever sent, with why it failed and its attempts. Select failed ones and "
    "replay them.",
    "All profiles": "Every organization at a glance (F7): what runs or waits, failures, the shared Zoho "
    "budget. Filter, then Enter works on one.",
}


def help_renderable(sections: list[tuple[str, list[tuple[str, str]]]]) -> Group:
    parts: list[RenderableType] = []
    for title, keys in sections:
        parts.append(Text(f"\n{title}", style="bold underline"))
        if title in PURPOSE:
            parts.append(Text(PURPOSE[title], style="italic"))
        table = Table.grid(padding=(0, 2))
        table.add_column(style="bold cyan", no_wrap=True, min_width=18)
        table.add_column()
        for key, description in keys:
            table.add_row(key, description)
        parts.append(table)
    return Group(*parts)


class HelpScreen(ModalScreen[None]):
    """Keys for every screen; the section of the screen it was opened from comes first."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,f1,q", "dismiss_help", "Close"),
    ]
    DEFAULT_CSS = """
    HelpScreen { align: center middle; }
    HelpScreen > Vertical {
        width: 96;
        max-width: 98%;
        height: 90%;
        border: thick $primary;
        background: $surface;
        padding: 0 1;
    }
    HelpScreen #help-title { text-style: bold; height: 1; }
    """

    def __init__(self, sections: list[tuple[str, list[tuple[str, str]]]]) -> None:
        super().__init__()
        self.sections = sections

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static("zbsn help — Esc closes", id="help-title")
            with VerticalScroll():
                yield Static(help_renderable(self.sections), id="help-body")

    def action_dismiss_help(self) -> None:
        self.dismiss(None)
