"""Map one Zoho value (cost center, GL account, supplier) to a ServiceNow value by hand."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, Static

from zbsn.tui.widgets.formatting import plural

# (noun, what the operator types, an example) per mapping kind; a name or a sys_id works for every kind.
KIND_WORDS = {
    "cost_center": ("cost center", "account number", "e.g. CC-LON-100"),
    "gl_account": ("GL account", "GL number", "e.g. 6100"),
    "supplier": ("supplier", "supplier code", "e.g. SUP-0042"),
}


@dataclass(frozen=True)
class OverrideChoice:
    """`value` None means: remove the override and go back to automatic matching."""

    value: str | None


class OverrideModal(ModalScreen[OverrideChoice | None]):
    """Dismisses with the new value, a clear request, or None when cancelled."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "cancel", "Cancel")]
    DEFAULT_CSS = """
    OverrideModal { align: center middle; }
    OverrideModal > Vertical {
        width: 70;
        max-width: 98%;
        height: auto;
        border: thick $primary;
        background: $surface;
        padding: 0 1;
    }
    OverrideModal Label { margin-top: 1; color: $text-muted; }
    OverrideModal Horizontal { height: auto; align-horizontal: right; margin-top: 1; }
    OverrideModal Button { margin-left: 1; }
    """

    def __init__(self, kind: str, zoho_name: str, current: str | None, blocked: int | None) -> None:
        super().__init__()
        self.kind = kind
        self.zoho_name = zoho_name
        self.current = current
        self.blocked = blocked

    def compose(self) -> ComposeResult:
        noun, field, example = KIND_WORDS.get(self.kind, (self.kind, "value", ""))
        blocked = f" It blocks {plural(self.blocked, 'bill')}." if self.blocked else ""
        with Vertical():
            yield Static(f"[b]Map the Zoho {noun} “{self.zoho_name}”[/b]")
            yield Static(
                f"Enter the {field} of the ServiceNow {noun} it should become (its exact name or sys_id "
                f"work too).{blocked} The next preview and run use it; failed bills need a replay "
                "(Audit, F5)."
            )
            yield Label(f"ServiceNow {noun}: {field}")
            yield Input(self.current or "", placeholder=f"{field}, {example}", id="override-value")
            with Horizontal():
                yield Button("Cancel", id="override-cancel")
                yield Button("Remove override", id="override-clear", disabled=self.current is None)
                yield Button("Save", variant="primary", id="override-save")

    @on(Button.Pressed, "#override-save")
    @on(Input.Submitted, "#override-value")
    def save(self) -> None:
        value = self.query_one("#override-value", Input).value.strip()
        if not value:
            self.notify("Enter a value, or Remove override.", severity="warning")
            return
        self.dismiss(OverrideChoice(value))

    @on(Button.Pressed, "#override-clear")
    def clear(self) -> None:
        self.dismiss(OverrideChoice(None))

    @on(Button.Pressed, "#override-cancel")
    def action_cancel(self) -> None:
        self.dismiss(None)
