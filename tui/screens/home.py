"""Home: the stored connections (Zoho Books organizations, ServiceNow instances), or what to do first."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

import sqlalchemy as sa
from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.message import Message
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Header, Static
from textual.worker import Worker, WorkerState

from zbsn.core.connections import ConnectionRepository
from zbsn.core.db.models import Connection, ConnectionKind, ConnectionState
from zbsn.tui.screens.base import NAVIGATION_BINDINGS

EMPTY_MESSAGE = "No connections yet — press c to connect Zoho Books and ServiceNow, or run zbsn-tui --demo"
NEXT_STEPS = (
    "Next: [b]F3[/b] Preview how every bill would map (nothing is sent) · [b]F4[/b] Run a sync · "
    "[b]F5[/b] Audit log and replay · [b]F2[/b] Connect or re-authorise · [b]F1[/b] Help"
)
DEMO_STORY = (
    "[b]Demo[/b]: both systems are simulated on this machine. F3 shows two cost centers ServiceNow lacks; "
    "F4 → s runs the sync and the bills they block fail; back on F3 press n to create them in the "
    "ServiceNow sandbox; F5 → X replays every failure."
)
COLUMNS = ("Kind", "Name", "State", "DC / Instance", "Organization")
KIND_LABELS = {ConnectionKind.ZOHO.value: "Zoho Books", ConnectionKind.SERVICENOW.value: "ServiceNow"}
STATE_STYLES = {
    ConnectionState.CONNECTED.value: "green",
    ConnectionState.NEW.value: "yellow",
    ConnectionState.WAIT.value: "yellow",
    ConnectionState.REAUTH.value: "red",
    ConnectionState.ERROR.value: "red",
}


@dataclass(frozen=True)
class ConnectionSummary:
    """What the home table shows about one connection (no secrets)."""

    kind: str
    name: str
    state: str
    location: str
    organization: str

    @classmethod
    def of(cls, row: Connection) -> ConnectionSummary:
        """Summarise a stored connection row."""
        if row.kind == ConnectionKind.ZOHO.value:
            location = (row.dc or "?").upper()
            organization = row.organization_name or row.organization_id or "—"
        else:
            location = urlsplit(row.instance_url).hostname or row.instance_url if row.instance_url else "—"
            organization = "—"
        return cls(KIND_LABELS.get(row.kind, row.kind), row.name, row.state, location or "—", organization)


class HomeScreen(Screen[None]):
    """Lists stored connections; the starting point of the console."""

    BINDINGS = [
        Binding("c", "go('connect')", "Connect"),
        Binding("r", "refresh", "Refresh"),
        *NAVIGATION_BINDINGS[1:5],
    ]

    class ConnectionsLoaded(Message):
        """The connections were read from the database."""

        def __init__(self, connections: list[ConnectionSummary]) -> None:
            super().__init__()
            self.connections = connections

    def __init__(self, engine: sa.Engine, *, demo: bool = False) -> None:
        super().__init__()
        self.engine = engine
        self.demo = demo

    def compose(self) -> ComposeResult:
        yield Header()
        with Vertical(id="home"):
            yield Static("Connections", id="home-title")
            yield DataTable(id="connections", cursor_type="row", zebra_stripes=True)
            yield Static("Loading connections…", id="home-empty")
            yield Static(NEXT_STEPS, id="home-next")
            if self.demo:
                yield Static(DEMO_STORY, id="home-demo")
        yield Footer()

    def on_mount(self) -> None:
        table = self.query_one("#connections", DataTable)
        table.add_columns(*COLUMNS)
        table.display = False
        self.load_connections()

    @work(thread=True, exclusive=True, group="home-connections", exit_on_error=False)
    def load_connections(self) -> None:
        """Read the connections off the UI thread and post them."""
        rows = ConnectionRepository(self.engine).list()
        self.post_message(self.ConnectionsLoaded([ConnectionSummary.of(row) for row in rows]))

    @on(ConnectionsLoaded)
    def show_connections(self, message: ConnectionsLoaded) -> None:
        table = self.query_one("#connections", DataTable)
        empty = self.query_one("#home-empty", Static)
        table.clear()
        for item in message.connections:
            state = Text(item.state, style=STATE_STYLES.get(item.state, ""))
            table.add_row(item.kind, item.name, state, item.location, item.organization)
        table.display = bool(message.connections)
        empty.display = not message.connections
        empty.update(EMPTY_MESSAGE)
        if message.connections:
            table.focus()

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.worker.group == "home-connections" and event.state is WorkerState.ERROR:
            self.query_one("#home-empty", Static).update(
                f"Could not read the connections: {event.worker.error}. Run `zbsn doctor` for details."
            )

    def action_refresh(self) -> None:
        """Reload the connections from the database."""
        self.load_connections()

    def action_go(self, destination: str) -> None:
        """Open a console screen (Connect, Preview, Run, Audit, Help)."""
        from zbsn.tui.navigation import show

        show(self.app, destination)
