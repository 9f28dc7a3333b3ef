"""Preview: what a run would send. Mappings with what is missing (and how many bills each blocks), the bills
as invoices-to-be with their lines, inline overrides, and a CSV export.

(Over 400 lines: two tabs of one report, the mapping tables and the bill list with its detail, drawn from the
same `PreviewReport`; the row model lives in widgets/preview_model.py, the override dialog in its own screen.)
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any, ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, VerticalScroll
from textual.message import Message
from textual.widgets import DataTable, Static, TabbedContent, TabPane

from zbsn.core.engine.normalize import normalize_name
from zbsn.core.engine.preview import PreviewReport
from zbsn.core.engine.service import Mappings
from zbsn.core.servicenow.models import SNCostCenter, SNGLAccount, SNSupplier
from zbsn.tui.messages import CoreCallFailed, MappingsLoaded, OverrideSaved, PreviewExported, PreviewLoaded
from zbsn.tui.screens.base import NAVIGATION_BINDINGS, ConsoleScreen
from zbsn.tui.screens.override_modal import OverrideChoice, OverrideModal
from zbsn.tui.screens.services import (
    ConsoleContext,
    MissingCostCenter,
    MissingMaster,
    SandboxControl,
    call_core,
    describe_error,
)
from zbsn.tui.widgets.bill_rows import (
    BILL_COLUMNS,
    GROUP_KEY,
    bill_cells,
    header_cells,
    render_bill,
    render_group,
)
from zbsn.tui.widgets.formatting import money, plural
from zbsn.tui.widgets.preview_model import GROUPS, BillPreview, MappingLine, bills_from, mappings_from

MAPPING_TABS = (("cost_center", "Cost centers"), ("gl_account", "GL accounts"), ("supplier", "Suppliers"))
# The preview's error code for a missing mapping of each kind (`PreviewReport.blocked_by` keys).
UNMAPPED_CODES = {
    "cost_center": "UNMAPPED_COST_CENTER",
    "gl_account": "UNMAPPED_GL_ACCOUNT",
    "supplier": "UNMAPPED_SUPPLIER",
}


@dataclass
class DemoCostCenterCreated(Message):
    """Demo mode: a missing cost center now exists in the ServiceNow sandbox; `mappings` are re-read."""

    account_number: str
    name: str
    mappings: Mappings
    created: bool = True  # False: it already existed, only the mappings were refreshed


def with_preview_counts(
    lines: list[MappingLine], kind: str, preview: PreviewReport | None
) -> list[MappingLine]:
    """Bills each missing mapping blocks: the larger of its failed bills (audit) and the preview's count.

    Before the first run nothing has failed yet, so the preview is what says how many bills a gap blocks.
    """
    if preview is None:
        return lines
    blocked_by = preview.blocked_by
    code = UNMAPPED_CODES[kind]
    return [
        replace(line, blocked_bills=max(line.blocked_bills, int(blocked_by.get((code, line.zoho_name), 0))))
        if line.missing
        else line
        for line in lines
    ]


def is_blocked(bill: BillPreview) -> bool:
    """Held back by a problem (a voided bill is a cancellation, a draft waits for approval in Zoho, a credit
    memo waits for its bill: none is a blocked bill)."""
    return not bill.ready and bill.outcome not in ("cancel", "waiting", "credit")


def target_label(target: SNCostCenter | SNGLAccount | SNSupplier | None) -> str | None:
    """'CC-LON-100 (Consulting London)' for the ServiceNow record an override resolved to."""
    if target is None:
        return None
    if isinstance(target, SNCostCenter):
        value = target.account_number or target.code or target.sys_id
    elif isinstance(target, SNGLAccount):
        value = target.number
    else:
        value = target.supplier_code or target.sys_id
    if not value:
        return None
    return f"{value} ({target.name})" if target.name else str(value)


def missing_cost_center_for(sandbox: SandboxControl, zoho_key: str, zoho_name: str) -> MissingMaster | None:
    """The sandbox's missing cost center behind a Zoho value (by the tag option id, else by name), or None."""
    missing = sandbox.missing_cost_centers()
    by_key = next((m for m in missing if m.zoho_key is not None and m.zoho_key == zoho_key), None)
    if by_key is not None:
        return by_key
    wanted = normalize_name(zoho_name)
    return next((m for m in missing if normalize_name(m.name) == wanted), None)


def mapping_cells(line: MappingLine) -> list[Any]:
    if line.missing:
        status = Text("MISSING", style="bold red")
    elif line.origin == "manual":
        status = Text("override", style="cyan")
    else:
        status = Text(line.status, style="green")
    blocked = Text(
        f"{line.blocked_bills:,}", style="bold red" if line.blocked_bills else "dim", justify="right"
    )
    return [status, line.zoho_name, line.sn_value or "—", line.sn_name or "", blocked]


class PreviewScreen(ConsoleScreen):
    """Dry run: nothing is sent from this screen."""

    TITLE_TEXT = "Preview (nothing is sent from here)"
    KEYS_HELP: ClassVar[list[tuple[str, str]]] = [
        ("o / Enter", "Edit the override of the highlighted mapping"),
        ("m", "Jump to the next missing mapping"),
        ("w", "Export the bills to CSV"),
        ("r", "Reload the preview from Zoho and ServiceNow"),
        ("n", "Demo: create the missing cost center in ServiceNow"),
        ("←/→ (tabs)", "Cost centers, GL accounts, Suppliers, Bills"),
    ]
    BINDINGS: ClassVar[list[BindingType]] = [
        *NAVIGATION_BINDINGS,
        Binding("o", "edit_override", "Override"),
        Binding("m", "next_missing", "Next missing"),
        Binding("w", "export_csv", "Export CSV"),
        Binding("r", "reload", "Reload"),
        Binding("n", "demo_create_cost_center", "Create in ServiceNow (demo)"),
    ]
    DEFAULT_CSS = """
    PreviewScreen #preview-summary { height: auto; padding: 0 1; }
    PreviewScreen TabbedContent { height: 1fr; }
    PreviewScreen TabPane { padding: 0; }
    PreviewScreen DataTable { height: 1fr; }
    PreviewScreen #bills-split { height: 1fr; }
    PreviewScreen #bill-table { width: 3fr; }
    PreviewScreen #bill-detail { width: 2fr; border: round $primary-darken-2; padding: 0 1; }
    PreviewScreen.-narrow #bills-split { layout: vertical; }
    PreviewScreen.-narrow #bill-table { width: 1fr; height: 1fr; }
    PreviewScreen.-narrow #bill-detail { width: 1fr; height: 1fr; }
    """

    def __init__(self, context: ConsoleContext, *, name: str | None = None) -> None:
        super().__init__(context, name=name)
        self.mappings: dict[str, list[MappingLine]] = {kind: [] for kind, _ in MAPPING_TABS}
        self.bills: list[BillPreview] = []  # the bills (the CSV export's rows)
        self.memos: list[BillPreview] = []  # the vendor credits, as the credit memos they would become
        self.preview: PreviewReport | None = None
        self.demo_busy = False

    @property
    def sandbox(self) -> SandboxControl | None:
        """The ServiceNow sandbox's admin (only when the console runs the demo), else None."""
        return self.context.sandbox

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "demo_create_cost_center":
            return self.sandbox is not None  # outside the demo the key and its footer entry do not exist
        return True

    def profile_changed(self) -> None:
        self.preview = None
        self.bills = []
        self.memos = []
        self.action_reload()

    def compose_body(self) -> ComposeResult:
        yield Static("", id="preview-summary")
        with TabbedContent(id="preview-tabs"):
            for kind, title in MAPPING_TABS:
                with TabPane(title, id=f"tab-{kind}"):
                    yield DataTable(cursor_type="row", zebra_stripes=True, id=f"map-{kind}")
            with TabPane("Bills", id="tab-bills"):
                with Horizontal(id="bills-split"):
                    yield DataTable(cursor_type="row", zebra_stripes=True, id="bill-table")
                    with VerticalScroll(id="bill-detail"):
                        yield Static("Highlight a bill to see its lines.", id="bill-detail-body")

    def on_mount(self) -> None:
        for kind, _ in MAPPING_TABS:
            table = self.query_one(f"#map-{kind}", DataTable)
            for key, label in (
                ("status", "Status"),
                ("zoho", "Zoho"),
                ("sn", "ServiceNow"),
                ("sn_name", "ServiceNow name"),
                ("blocks", "Bills blocked"),
            ):
                table.add_column(label, key=key)
        bills = self.query_one("#bill-table", DataTable)
        for key, label in BILL_COLUMNS:
            bills.add_column(label, key=key)
        self.query_one("#bill-detail").border_title = "Invoice to be"
        self.action_reload()

    # ---- loading ---------------------------------------------------------------------------------------
    def action_reload(self) -> None:
        if self.context.profile_id is None:
            self.set_hint("No sync profile yet: connect both systems (F2), then create a profile (F6).")
            self.query_one("#preview-summary", Static).update(
                "A profile pairs a Zoho Books organization with a ServiceNow instance; the preview then "
                "shows every bill as the invoice it would become."
            )
            return
        self.set_hint("Reading Zoho Books and ServiceNow to build the preview… (nothing is sent)")
        for table in self.query(DataTable):
            table.loading = True
        self.load_mappings()
        self.load_preview()

    @work(exclusive=True, group="preview-mappings", exit_on_error=False)
    async def load_mappings(self) -> None:
        try:
            result = await call_core(self.context.engine_service.mappings, self.context.profile_id)
        except Exception as error:
            self.post_message(CoreCallFailed("read the mappings", describe_error(error)))
            return
        found = mappings_from(result)
        self.post_message(MappingsLoaded(found["cost_center"], found["gl_account"], found["supplier"]))

    @work(exclusive=True, group="preview-bills", exit_on_error=False)
    async def load_preview(self) -> None:
        try:
            result = await call_core(self.context.engine_service.preview, self.context.profile_id)
        except Exception as error:
            self.post_message(CoreCallFailed("build the preview", describe_error(error)))
            return
        self.post_message(PreviewLoaded(result))

    @on(MappingsLoaded)
    def mappings_loaded(self, message: MappingsLoaded) -> None:
        self.show_mappings(
            {
                "cost_center": message.cost_centers,
                "gl_account": message.gl_accounts,
                "supplier": message.suppliers,
            }
        )

    def show_mappings(self, mappings: dict[str, list[MappingLine]]) -> None:
        """Draw the three mapping tables (missing first, with how many bills each blocks)."""
        self.mappings = {
            kind: sorted(
                with_preview_counts(list(mappings.get(kind, [])), kind, self.preview),
                key=lambda m: (not m.missing, -m.blocked_bills, m.zoho_name.lower()),
            )
            for kind, _ in MAPPING_TABS
        }
        tabs = self.query_one(TabbedContent)
        for kind, title in MAPPING_TABS:
            table = self.query_one(f"#map-{kind}", DataTable)
            table.loading = False
            cursor = table.cursor_row
            table.clear()
            for line in self.mappings[kind]:
                table.add_row(*mapping_cells(line), key=line.zoho_key)
            if table.row_count:
                table.move_cursor(row=min(cursor, table.row_count - 1))
            missing = sum(1 for line in self.mappings[kind] if line.missing)
            label = f"{title} ({missing} missing)" if missing else title
            tabs.get_tab(f"tab-{kind}").label = label
        self._summarise()

    @on(PreviewLoaded)
    def preview_loaded(self, message: PreviewLoaded) -> None:
        self.preview = message.preview
        rows = bills_from(message.preview)
        self.bills = [row for row in rows if row.outcome != "credit"]
        self.memos = [row for row in rows if row.outcome == "credit"]
        table = self.query_one("#bill-table", DataTable)
        table.loading = False
        table.clear()
        for group, _title in GROUPS:
            rows = [bill for bill in (*self.bills, *self.memos) if bill.group == group]
            if not rows:
                continue
            width = len(table.columns)
            table.add_row(*header_cells(group, rows, width), key=f"{GROUP_KEY}{group}")
            for bill in rows:
                table.add_row(*bill_cells(bill), key=bill.key)
        blocked = sum(1 for b in self.bills if is_blocked(b))
        label = f"Bills ({blocked} blocked)" if blocked else f"Bills ({len(self.bills)})"
        self.query_one(TabbedContent).get_tab("tab-bills").label = label
        self._summarise()
        self.load_mappings()  # the preview re-aligned the mapping tables: show them as they are now

    @on(CoreCallFailed)
    def core_call_failed(self, message: CoreCallFailed) -> None:
        if message.action in ("save the override", "create the cost center in ServiceNow"):
            self.demo_busy = False
            self.notify(f"Could not {message.action}: {message.error}", severity="error", timeout=12)
            return
        for table in self.query(DataTable):
            table.loading = False
        self.set_hint(f"[$error]Could not {message.action}:[/] {message.error}. Press r to try again.")

    def _summarise(self) -> None:
        missing = {kind: [m for m in lines if m.missing] for kind, lines in self.mappings.items()}
        ready = [b for b in self.bills if b.ready]
        blocked = [b for b in self.bills if is_blocked(b)]
        cancels = [b for b in self.bills if b.outcome == "cancel"]
        waiting = [b for b in self.bills if b.outcome == "waiting"]
        memos = self.memos
        total = sum((b.total for b in ready if b.total is not None), start=Decimal(0))
        parts = [f"[$success]{plural(len(ready), 'bill')} ready[/] ({money(total) if ready else '0.00'})"]
        if blocked:
            parts.append(f"[$error]{plural(len(blocked), 'bill')} blocked[/]")
        if waiting:
            parts.append(f"[$warning]{len(waiting):,} waiting for approval in Zoho[/]")
        if cancels:
            parts.append(f"{plural(len(cancels), 'voided bill')} to cancel")
        if memos:
            parts.append(plural(len(memos), "vendor credit"))
        gaps = [
            f"{len(v)} {k.replace('_', ' ')}{'s' if len(v) != 1 else ''}" for k, v in missing.items() if v
        ]
        if gaps:
            parts.append("unmapped: " + ", ".join(gaps))
        self.query_one("#preview-summary", Static).update(" · ".join(parts))
        if gaps and self.sandbox is not None and missing["cost_center"]:
            self.set_hint(
                "Demo: highlight a MISSING cost center and press n to create it in the ServiceNow sandbox "
                "(or o to map it to an existing account number). Blocked bills fail in a run until mapped."
            )
        elif gaps:
            self.set_hint(
                "Blocked bills fail in a run until mapped: highlight a MISSING row and press o to map it "
                "(account number, GL number or supplier code), or create the value in ServiceNow and press r."
            )
        elif self.bills:
            self.set_hint("Everything is mapped. Start a run on the Run screen (F4).")

    # ---- bills detail ----------------------------------------------------------------------------------
    @on(DataTable.RowHighlighted, "#bill-table")
    def bill_highlighted(self, event: DataTable.RowHighlighted) -> None:
        key = str(event.row_key.value)
        body = self.query_one("#bill-detail-body", Static)
        if key.startswith(GROUP_KEY):
            group = key.removeprefix(GROUP_KEY)
            body.update(render_group(group, [b for b in (*self.bills, *self.memos) if b.group == group]))
            return
        bill = next((b for b in (*self.bills, *self.memos) if b.key == key), None)
        if bill is not None:
            body.update(render_bill(bill))

    # ---- overrides -------------------------------------------------------------------------------------
    def _active_mapping(self) -> tuple[str, MappingLine] | None:
        active = self.query_one(TabbedContent).active
        kind = active.removeprefix("tab-")
        if kind not in self.mappings:
            return None
        table = self.query_one(f"#map-{kind}", DataTable)
        if table.row_count == 0:
            return None
        key = table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value
        line = next((m for m in self.mappings[kind] if m.zoho_key == key), None)
        return (kind, line) if line else None

    @on(DataTable.RowSelected, "#map-cost_center, #map-gl_account, #map-supplier")
    def action_edit_override(self) -> None:
        active = self._active_mapping()
        if active is None:
            self.notify("Open a mapping tab and highlight a row to map it.", severity="warning")
            return
        kind, line = active
        current = line.sn_value if line.origin == "manual" else None

        def done(choice: OverrideChoice | None) -> None:
            if choice is not None:
                self.save_override(kind, line.zoho_key, choice.value)

        self.app.push_screen(OverrideModal(kind, line.zoho_name, current, line.blocked_bills), done)

    @work(exclusive=True, group="preview-override", exit_on_error=False)
    async def save_override(self, kind: str, zoho_key: str, value: str | None) -> None:
        service = self.context.engine_service
        try:
            if value is None:
                await call_core(service.clear_override, self.context.profile_id, kind, zoho_key)
            else:
                target = await call_core(service.set_override, self.context.profile_id, kind, zoho_key, value)
                value = target_label(target) or value
        except Exception as error:
            self.post_message(CoreCallFailed("save the override", describe_error(error)))
            return
        self.post_message(OverrideSaved(kind, zoho_key, value))

    @on(OverrideSaved)
    def override_saved(self, message: OverrideSaved) -> None:
        what = f"mapped to {message.value}" if message.value else "back to automatic matching"
        self.notify(f"Saved: {what}. Reloading the preview.")
        self.action_reload()

    # ---- demo actions ----------------------------------------------------------------------------------
    def action_demo_create_cost_center(self) -> None:
        """Demo: create the highlighted missing cost center in the ServiceNow sandbox, then re-match."""
        if self.sandbox is None:
            return
        if self.demo_busy:
            self.notify("Already creating a cost center in the ServiceNow sandbox…")
            return
        self.query_one(TabbedContent).active = "tab-cost_center"
        active = self._active_mapping()
        if active is None or not active[1].missing:
            line = next((m for m in self.mappings["cost_center"] if m.missing), None)
            if line is None:
                self.notify("Every cost center is mapped: nothing to create.")
                return
            self.query_one("#map-cost_center", DataTable).move_cursor(
                row=self.mappings["cost_center"].index(line)
            )
        else:
            line = active[1]
        self.demo_busy = True
        self.set_hint(f"Demo: creating “{line.zoho_name}” in the ServiceNow sandbox, then re-matching…")
        self.create_in_servicenow(line.zoho_key, line.zoho_name)

    @work(exclusive=True, group="preview-demo", exit_on_error=False)
    async def create_in_servicenow(self, zoho_key: str, zoho_name: str) -> None:
        sandbox = self.sandbox
        assert sandbox is not None
        assert self.context.profile_id is not None
        try:
            missing = await call_core(missing_cost_center_for, sandbox, zoho_key, zoho_name)
            created = missing is not None
            if missing is not None:
                await call_core(sandbox.create_cost_center, missing.account_number, missing.name)
            else:  # it exists already (created before): re-matching is all that is left
                missing = MissingCostCenter(account_number="(existing)", name=zoho_name, zoho_key=zoho_key)
            mappings = await call_core(self.context.engine_service.refresh_mappings, self.context.profile_id)
        except Exception as error:
            self.post_message(CoreCallFailed("create the cost center in ServiceNow", describe_error(error)))
            return
        self.post_message(DemoCostCenterCreated(missing.account_number, missing.name, mappings, created))

    @on(DemoCostCenterCreated)
    def demo_cost_center_created(self, message: DemoCostCenterCreated) -> None:
        self.demo_busy = False
        self.show_mappings(mappings_from(message.mappings))
        line = next((m for m in self.mappings["cost_center"] if m.zoho_name == message.name), None)
        matched = line is not None and not line.missing
        verb = "Created" if message.created else "Found"
        if matched:
            self.notify(
                f"{verb} {message.account_number} “{message.name}” in the ServiceNow sandbox: "
                "it now matches. Replay the failed bills on Audit (F5: f, then X).",
                timeout=10,
            )
        else:
            self.notify(
                f"{verb} {message.account_number} in ServiceNow, but “{message.name}” still does not match.",
                severity="warning",
                timeout=10,
            )
        remaining = [m for m in self.mappings["cost_center"] if m.missing]
        if not remaining:
            self.set_hint(
                "Every cost center now matches. Bills that failed need a replay: Audit (F5), f, then X. "
                "Press r to re-read the preview."
            )

    def action_next_missing(self) -> None:
        for kind, _ in MAPPING_TABS:
            for index, line in enumerate(self.mappings[kind]):
                if line.missing:
                    self.query_one(TabbedContent).active = f"tab-{kind}"
                    table = self.query_one(f"#map-{kind}", DataTable)
                    table.move_cursor(row=index)
                    table.focus()
                    return
        self.notify("Nothing is missing.")

    # ---- export ----------------------------------------------------------------------------------------
    def action_export_csv(self) -> None:
        if self.preview is None:
            self.notify("Nothing to export yet: the preview has not loaded.", severity="warning")
            return
        folder = Path(self.context.export_dir or Path.cwd())
        path = folder / f"zbsn-preview-{datetime.now(UTC):%Y%m%d-%H%M%S}.csv"
        self.export_csv(path)

    @work(exclusive=True, group="preview-export", exit_on_error=False)
    async def export_csv(self, path: Path) -> None:
        preview = self.preview
        assert preview is not None
        try:
            await call_core(preview.to_csv, path)
        except Exception as error:
            self.post_message(CoreCallFailed("export the CSV", describe_error(error)))
            return
        self.post_message(PreviewExported(str(path), len(self.bills)))

    @on(PreviewExported)
    def exported(self, message: PreviewExported) -> None:
        self.notify(f"Exported {plural(message.rows, 'bill')} to {message.path}", timeout=8)
