"""Audit: every record the engine touched, paged from the database, with its ServiceNow status, detail,
replay (of failures, and of what ServiceNow says re-staging fixes), a status refresh and reconciliation.

Over 400 lines because it is one screen's whole interaction (filters, paging, selection, replay, refresh);
its table rows live in widgets/audit_rows.py and its detail pane in widgets/audit_detail.py.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import replace
from typing import Any, ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal
from textual.validation import Regex
from textual.widgets import DataTable, Input, Select, Static

from zbsn.core.audit_query import AuditFilter, AuditPage, AuditRow, BoundedCount, Cursor
from zbsn.core.domain import AuditStatus, RecordKind, ServiceNowStatus
from zbsn.core.engine.events import RecordFailed, RecordStaged
from zbsn.tui.messages import (
    AuditDetailLoaded,
    AuditPageLoaded,
    CoreCallFailed,
    EngineEventsArrived,
    ReplayFinished,
    ReplayRequested,
    ReplayStarted,
    StatusesRefreshDone,
)
from zbsn.tui.screens.base import NAVIGATION_BINDINGS, ConsoleScreen
from zbsn.tui.screens.confirm import ConfirmModal
from zbsn.tui.screens.reconcile import ReconcileModal
from zbsn.tui.screens.services import ConsoleContext, call_core, describe_error
from zbsn.tui.widgets.audit_detail import AuditDetailPane
from zbsn.tui.widgets.audit_rows import COLUMNS, row_cells, status_cell
from zbsn.tui.widgets.engine_feed import subscribe
from zbsn.tui.widgets.formatting import STATUS_STYLE, plural, servicenow_words, timestamp

PAGE_SIZE = 100
DATE = Regex(r"^$|^\d{4}-\d{2}-\d{2}$", failure_description="Use yyyy-mm-dd")
REPLAYABLE_SN = ("exceptions_found", "not_found")  # ServiceNow statuses a replay may move on


class AuditScreen(ConsoleScreen):
    """The audit log: filter, page, inspect, replay."""

    TITLE_TEXT = "Audit log"
    KEYS_HELP: ClassVar[list[tuple[str, str]]] = [
        ("] / [", "Older page / newer page"),
        ("g", "Back to the first (newest) page"),
        ("space", "Select or unselect the highlighted record"),
        ("x", "Replay the selected records (failed, or with ServiceNow exceptions), or the highlighted one"),
        (
            "X",
            "Replay every record in this filter a replay can move on (failed, or fixable per ServiceNow)",
        ),
        ("f", "Show failed records only / all records"),
        ("R", "Refresh the ServiceNow status of every followed invoice now"),
        ("/", "Search by number, vendor, Zoho id or key (prefix)"),
        ("c", "Clear all filters"),
        ("e", "Reconciliation report for a period"),
        ("r", "Reload"),
        ("Enter / v", "On a narrow terminal: show the highlighted record's detail, and back"),
    ]
    BINDINGS: ClassVar[list[BindingType]] = [
        *NAVIGATION_BINDINGS,
        Binding("right_square_bracket", "older", "Older page", key_display="]"),
        Binding("left_square_bracket", "newer", "Newer page", key_display="["),
        Binding("g", "first_page", "First page", show=False),
        Binding("space", "toggle_select", "Select", show=False),
        Binding("x", "replay_selected", "Replay"),
        Binding("X", "replay_all_failed", "Replay all failed"),
        Binding("f", "toggle_failed", "Failed only"),
        Binding("R", "refresh_statuses", "Refresh SN"),
        Binding("slash", "focus_search", "Search", key_display="/"),
        Binding("c", "clear_filters", "Clear filters", show=False),
        Binding("e", "reconcile", "Reconcile"),
        Binding("r", "reload", "Reload", show=False),
        Binding("v", "toggle_detail", "Detail", show=False),
    ]
    DEFAULT_CSS = """
    AuditScreen #audit-filters { height: 3; }
    AuditScreen #audit-filters Select { width: 18; }
    AuditScreen #audit-filters #filter-run { width: 22; }
    AuditScreen #audit-filters Input { width: 16; }
    AuditScreen #audit-filters #filter-text { width: 1fr; }
    AuditScreen #audit-counts { height: 1; padding: 0 1; }
    AuditScreen #audit-main { height: 1fr; }
    AuditScreen #audit-table { width: 3fr; height: 1fr; }
    AuditScreen #audit-detail { width: 2fr; height: 1fr; }
    AuditScreen #audit-empty {
        display: none;
        width: 3fr;
        height: 1fr;
        content-align: center middle;
        color: $text-muted;
        border: round $primary-darken-2;
    }
    AuditScreen.-empty #audit-empty { display: block; }
    AuditScreen.-empty #audit-table { display: none; }
    AuditScreen #audit-pager { height: 1; padding: 0 1; color: $text-muted; }
    AuditScreen #audit-error {
        display: none;
        height: auto;
        padding: 0 1;
        background: $error 20%;
        color: $text;
    }
    AuditScreen.-error #audit-error { display: block; }
    AuditScreen #audit-filters #filter-sn { width: 26; }
    AuditScreen.-narrow #audit-filters { layout: grid; grid-size: 4; height: 6; }
    AuditScreen.-narrow #audit-filters #filter-sn { width: 1fr; }
    AuditScreen.-narrow #audit-filters Select, AuditScreen.-narrow #audit-filters Input { width: 1fr; }
    AuditScreen.-narrow #audit-filters #filter-run { width: 1fr; }
    AuditScreen.-narrow #audit-table, AuditScreen.-narrow #audit-empty { width: 1fr; }
    AuditScreen.-narrow #audit-detail { display: none; }
    AuditScreen.-narrow.-show-detail #audit-detail { display: block; width: 1fr; }
    AuditScreen.-narrow.-show-detail #audit-table { display: none; }
    """

    def __init__(self, context: ConsoleContext, *, name: str | None = None) -> None:
        super().__init__(context, name=name)
        self.filter = AuditFilter(profile_id=context.profile_id)
        self.page_data: AuditPage | None = None
        self.page_number = 1
        self.selected: set[int] = set()
        self.replaying: set[int] = set()
        self._unsubscribe: Any = None

    def compose_body(self) -> ComposeResult:
        with Horizontal(id="audit-filters"):
            yield Select(
                [(s.value.capitalize(), s.value) for s in AuditStatus],
                prompt="Any status",
                id="filter-status",
            )
            yield Select(
                [(k.value.replace("_", " ").capitalize(), k.value) for k in RecordKind],
                prompt="Any kind",
                id="filter-kind",
            )
            yield Select(
                [(s.label, s.value) for s in ServiceNowStatus],
                prompt="SN: any",
                id="filter-sn",
            )
            yield Select([], prompt="Any run", id="filter-run")
            yield Input(placeholder="from yyyy-mm-dd", validators=[DATE], id="filter-from")
            yield Input(placeholder="to yyyy-mm-dd", validators=[DATE], id="filter-to")
            yield Input(placeholder="/ search number, vendor, Zoho id…", id="filter-text")
        yield Static("", id="audit-counts")
        yield Static("", id="audit-error")
        with Horizontal(id="audit-main"):
            yield DataTable(cursor_type="row", zebra_stripes=True, id="audit-table")
            yield Static("", id="audit-empty")
            yield AuditDetailPane(id="audit-detail")
        yield Static("", id="audit-pager")

    def on_mount(self) -> None:
        table = self.query_one("#audit-table", DataTable)
        for key, label, width in COLUMNS:
            table.add_column(label, key=key, width=width)
        self.set_hint("Loading the audit log…")
        self._unsubscribe = subscribe(self, self.context.bus, lambda event: bool(self.replaying))
        self.load_runs()
        self.reload()

    def on_unmount(self) -> None:
        if self._unsubscribe is not None:
            self._unsubscribe()

    # ---- loading ---------------------------------------------------------------------------------------
    def reload(self, after: Cursor | None = None, before: Cursor | None = None, page_number: int = 1) -> None:
        self.query_one("#audit-table", DataTable).loading = True
        self.load_page(self.filter, after, before, page_number)
        if page_number == 1:
            self.load_counts(self.filter)

    @work(exclusive=True, group="audit-page", exit_on_error=False)
    async def load_page(
        self, flt: AuditFilter, after: Cursor | None, before: Cursor | None, page_number: int
    ) -> None:
        try:
            page = await call_core(self.context.audit.page, flt, PAGE_SIZE, after, before)
        except Exception as error:
            self.post_message(CoreCallFailed("read the audit log", describe_error(error)))
            return
        empty = BoundedCount(0, exact=True)
        self.post_message(AuditPageLoaded(page=page, counts={}, total=empty, page_number=page_number))

    @work(exclusive=True, group="audit-counts", exit_on_error=False)
    async def load_counts(self, flt: AuditFilter) -> None:
        try:
            counts = await call_core(self.context.audit.status_counts, replace(flt, status=None))
            followed = await call_core(self.context.audit.servicenow_counts, replace(flt, sn_status=None))
        except Exception as error:
            self.post_message(CoreCallFailed("count the audit log", describe_error(error)))
            return
        self.post_message(
            AuditPageLoaded(
                page=AuditPage((), None, None, flt),
                counts=counts,
                total=_total(counts, flt),
                page_number=0,
                servicenow_counts=followed,
            )
        )

    @work(exclusive=True, group="audit-detail", exit_on_error=False)
    async def load_detail(self, audit_id: int) -> None:
        try:
            found = await call_core(self.context.audit.detail, audit_id)
        except Exception as error:
            self.post_message(CoreCallFailed("read the record", describe_error(error)))
            return
        self.post_message(AuditDetailLoaded(audit_id, found))

    @work(exclusive=True, group="audit-runs", exit_on_error=False)
    async def load_runs(self) -> None:
        try:
            runs = await call_core(self.context.audit.recent_runs, self.context.profile_id)
        except Exception:
            return
        options = [
            (f"Run {r.id} · {timestamp(r.started_at)} · {r.status.replace('_', ' ')}", r.id) for r in runs
        ]
        self.query_one("#filter-run", Select).set_options(options)

    # ---- results ---------------------------------------------------------------------------------------
    @on(AuditPageLoaded)
    def page_loaded(self, message: AuditPageLoaded) -> None:
        if message.page.filter != self.filter:
            return  # a stale answer for a filter the operator already changed
        self.remove_class("-error")
        if message.page_number == 0:
            self._show_counts(message.counts, message.total, message.servicenow_counts)
            return
        self.page_data = message.page
        self.page_number = message.page_number
        table = self.query_one("#audit-table", DataTable)
        table.loading = False
        table.clear()
        for row in message.page.rows:
            table.add_row(*row_cells(row, row.id in self.selected), key=str(row.id))
        self.set_class(not message.page.rows, "-empty")
        if not message.page.rows:
            self._show_empty()
        self._show_pager()
        self._show_hint()

    @on(AuditDetailLoaded)
    def detail_loaded(self, message: AuditDetailLoaded) -> None:
        if self._highlighted_id() == message.audit_id:
            self.query_one(AuditDetailPane).show(message.detail)

    @on(CoreCallFailed)
    def core_call_failed(self, message: CoreCallFailed) -> None:
        self.query_one("#audit-table", DataTable).loading = False
        self._show_error(f"Could not {message.action}: {message.error}. Press r to retry.")

    @on(DataTable.RowHighlighted, "#audit-table")
    def row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        if event.row_key.value is not None:
            self.load_detail(int(event.row_key.value))

    @on(DataTable.RowSelected, "#audit-table")
    def action_toggle_detail(self) -> None:
        if self.has_class("-narrow"):
            self.toggle_class("-show-detail")

    # ---- filters ---------------------------------------------------------------------------------------
    @on(Select.Changed)
    def select_changed(self, event: Select.Changed) -> None:
        value: Any = None if event.value is Select.NULL else event.value
        field = {
            "filter-status": "status",
            "filter-kind": "kind",
            "filter-run": "run_id",
            "filter-sn": "sn_status",
        }.get(event.select.id or "")
        if field:
            self.apply_filter(replace(self.filter, **{field: value}))

    @on(Input.Changed, "#filter-text")
    def text_changed(self, event: Input.Changed) -> None:
        self.apply_filter(replace(self.filter, text=event.value.strip() or None))

    @on(Input.Submitted, "#filter-from, #filter-to")
    @on(Input.Blurred, "#filter-from, #filter-to")
    def period_changed(self, event: Input.Submitted | Input.Blurred) -> None:
        start = self.query_one("#filter-from", Input).value.strip()
        end = self.query_one("#filter-to", Input).value.strip()
        if not (re.fullmatch(r"(\d{4}-\d{2}-\d{2})?", start) and re.fullmatch(r"(\d{4}-\d{2}-\d{2})?", end)):
            self.notify("Dates are yyyy-mm-dd, e.g. 2025-03-01.", severity="warning")
            return
        self.apply_filter(replace(self.filter, period_from=start or None, period_to=end or None))

    def apply_filter(self, flt: AuditFilter) -> None:
        if flt == self.filter:
            return
        self.filter = flt
        self.reload()

    # ---- actions ---------------------------------------------------------------------------------------
    def action_older(self) -> None:
        if self.page_data is not None and self.page_data.next_cursor is not None:
            self.reload(after=self.page_data.next_cursor, page_number=self.page_number + 1)
        else:
            self.notify("This is the last page.")

    def action_newer(self) -> None:
        if self.page_data is not None and self.page_data.prev_cursor is not None:
            self.reload(before=self.page_data.prev_cursor, page_number=max(1, self.page_number - 1))
        else:
            self.notify("This is the first page.")

    def action_first_page(self) -> None:
        self.reload()

    def action_reload(self) -> None:
        self.load_runs()
        self.reload()

    def action_toggle_select(self) -> None:
        audit_id = self._highlighted_id()
        if audit_id is None:
            return
        self.selected.symmetric_difference_update({audit_id})
        table = self.query_one("#audit-table", DataTable)
        table.update_cell(str(audit_id), "sel", Text("✓", style="bold") if audit_id in self.selected else "")
        self._show_pager()

    def action_toggle_failed(self) -> None:
        status = None if self.filter.status == AuditStatus.FAILED.value else AuditStatus.FAILED.value
        self.query_one("#filter-status", Select).value = status if status else Select.NULL

    def action_focus_search(self) -> None:
        self.query_one("#filter-text", Input).focus()

    def profile_changed(self) -> None:
        self.selected.clear()
        self.load_runs()
        self.action_clear_filters()

    def action_clear_filters(self) -> None:
        self.query_one("#filter-status", Select).clear()
        self.query_one("#filter-kind", Select).clear()
        self.query_one("#filter-sn", Select).clear()
        self.query_one("#filter-run", Select).clear()
        for input_id in ("#filter-from", "#filter-to", "#filter-text"):
            self.query_one(input_id, Input).value = ""
        self.selected.clear()
        self.apply_filter(AuditFilter(profile_id=self.context.profile_id))

    def action_replay_selected(self) -> None:
        ids = (
            self._replayable_among(self.selected)
            if self.selected
            else self._replayable_among({self._highlighted_id()})
        )
        if not ids:
            self.notify(
                "Select failed records (or ones with ServiceNow exceptions) with space, or highlight one, to "
                "replay them.",
                severity="warning",
            )
            return
        self._confirm_replay(ids, None, f"Replay {plural(len(ids), 'record')}?")

    def action_replay_all_failed(self) -> None:
        self._confirm_replay(
            [],
            self.filter,
            f"Replay every record a replay can move on in: {self.filter.describe()}? (failed ones, and those "
            "whose ServiceNow exceptions re-staging clears)",
        )

    def action_refresh_statuses(self) -> None:
        if self.context.profile_id is None:
            self.notify("No sync profile yet: create one on Profiles (F6) first.", severity="warning")
            return
        self.set_hint("Reading the followed invoices in ServiceNow…")
        self.refresh_statuses(self.context.profile_id)

    @work(exclusive=True, group="audit-refresh", exit_on_error=False)
    async def refresh_statuses(self, profile_id: int) -> None:
        try:
            result = await call_core(self.context.engine_service.refresh_statuses, profile_id)
        except Exception as error:
            self.post_message(CoreCallFailed("refresh the ServiceNow statuses", describe_error(error)))
            return
        self.post_message(StatusesRefreshDone(result))

    @on(StatusesRefreshDone)
    def statuses_refreshed(self, message: StatusesRefreshDone) -> None:
        result = message.result
        if result.status not in ("succeeded", "completed_with_failures"):
            self.notify(f"The refresh {result.status.replace('_', ' ')}: {result.message}", severity="error")
        else:
            counts = ", ".join(
                f"{n} {ServiceNowStatus(s).label.lower()}"
                for s, n in sorted(result.servicenow_statuses.items(), key=lambda item: -item[1])
            )
            self.notify(f"ServiceNow: {counts or 'no staged invoice to follow'}.")
        self.action_reload()

    def action_reconcile(self) -> None:
        self.app.push_screen(ReconcileModal(self.context))

    def _confirm_replay(self, ids: list[int], flt: AuditFilter | None, question: str) -> None:
        if self.context.profile_id is None:
            self.notify("No sync profile yet: create one on Profiles (F6) first.", severity="warning")
            return
        detail = (
            "Each record is sent to ServiceNow staging again with today's mappings. Staging coalesces on the "
            "record's key, so nothing is duplicated."
        )

        def confirmed(answer: bool | None) -> None:
            if answer:
                self.post_message(ReplayRequested(ids=ids, filter=flt))

        self.app.push_screen(ConfirmModal(question, detail, confirm_label="Replay"), confirmed)

    @on(ReplayRequested)
    def replay_requested(self, message: ReplayRequested) -> None:
        self.start_replay(message.ids, message.filter)

    @work(exclusive=True, group="audit-replay", exit_on_error=False)
    async def start_replay(self, ids: list[int], flt: AuditFilter | None) -> None:
        try:
            if flt is not None:
                ids = await call_core(self.context.audit.replayable_ids, flt)
            self.post_message(ReplayStarted(ids))
            result = await call_core(
                self.context.engine_service.replay,
                self.context.profile_id,
                ids,
                events=self.context.bus,
            )
        except Exception as error:
            self.post_message(CoreCallFailed("replay", describe_error(error)))
            return
        self.post_message(ReplayFinished(ids=ids, result=result))

    @on(EngineEventsArrived)
    def engine_events(self, message: EngineEventsArrived) -> None:
        for event in message.drain():
            if self.replaying and isinstance(event, RecordStaged | RecordFailed):
                self._show_outcome(event)

    def _show_outcome(self, event: RecordStaged | RecordFailed) -> None:
        """A replayed record's outcome, on its line, as it arrives."""
        table = self.query_one("#audit-table", DataTable)
        for row in self.page_data.rows if self.page_data else ():
            if row.zoho_id == event.zoho_id and row.kind == event.kind and row.id in self.replaying:
                table.update_cell(
                    str(row.id),
                    "status",
                    status_cell("staged" if isinstance(event, RecordStaged) else "failed"),
                )

    @on(ReplayFinished)
    def replay_finished(self, message: ReplayFinished) -> None:
        self.replaying.clear()
        self.selected.difference_update(message.ids)
        rows = message.ids
        self.notify(f"Replay finished for {plural(len(rows), 'record')}. The list shows the new outcome.")
        self.reload()

    @on(ReplayStarted)
    def replay_started(self, message: ReplayStarted) -> None:
        self.replaying = set(message.ids)
        table = self.query_one("#audit-table", DataTable)
        for audit_id in message.ids:
            if self.page_data and any(r.id == audit_id for r in self.page_data.rows):
                table.update_cell(str(audit_id), "status", Text("replaying…", style="bold yellow"))
        self.set_hint(f"Replaying {plural(len(message.ids), 'record')}… outcomes appear as they arrive.")

    # ---- rendering helpers -----------------------------------------------------------------------------
    def _highlighted_id(self) -> int | None:
        table = self.query_one("#audit-table", DataTable)
        if table.row_count == 0:
            return None
        key = table.coordinate_to_cell_key(table.cursor_coordinate).row_key
        return int(key.value) if key.value is not None else None

    def _replayable_among(self, ids: Iterable[int | None]) -> list[int]:
        """The ids a replay can move on: failed ones, and those ServiceNow holds with exceptions (or lost)."""
        rows = {r.id: r for r in (self.page_data.rows if self.page_data else ())}

        def replayable(row: AuditRow) -> bool:
            return row.status == "failed" or row.sn_status in REPLAYABLE_SN

        found = [i for i in ids if i is not None and (i not in rows or replayable(rows[i]))]
        return sorted(found)

    def _show_counts(
        self, counts: dict[str, BoundedCount], total: BoundedCount, followed: dict[str, BoundedCount]
    ) -> None:
        parts = []
        order = sorted(counts, key=lambda status: status != "failed")
        for status, bounded in (
            (s, counts[s]) for s in order if counts[s].value or s in ("failed", "staged")
        ):
            style = {"error": "red", "success": "green", "warning": "yellow"}.get(
                STATUS_STYLE.get(status, ""), "dim"
            )
            parts.append(f"[{style}]{status.capitalize()}[/] {bounded}")
        line = " · ".join(parts)
        if followed:
            shown = []
            for status, bounded in followed.items():
                words, style = servicenow_words(status)
                shown.append(f"[{style}]{words}[/] {bounded}")
            line += "   ServiceNow: " + " · ".join(shown)
        self.query_one("#audit-counts", Static).update(line)
        self._total = total
        self._show_hint()

    def _show_pager(self) -> None:
        page = self.page_data
        if page is None:
            return
        first = (self.page_number - 1) * PAGE_SIZE + 1
        last = first + len(page.rows) - 1
        span = f"rows {first:,} to {last:,}" if page.rows else "no rows"
        moves = []
        if not page.is_first:
            moves.append("[ newer")
        if not page.is_last:
            moves.append("] older")
        selected = f" · {len(self.selected)} selected (x to replay)" if self.selected else ""
        self.query_one("#audit-pager", Static).update(
            f"Page {self.page_number} · {span}" + (f" · {' · '.join(moves)}" if moves else "") + selected
        )

    def _show_hint(self) -> None:
        total: BoundedCount | None = getattr(self, "_total", None)
        described = self.filter.describe()
        if total is None:
            self.set_hint(f"Showing {described}.")
        elif self.filter.status == "failed" and total.value:
            self.set_hint(
                f"{total} {described}. Highlight one to see why; fix the cause, then replay "
                "(x, or X for all)."
            )
        elif self.filter.sn_status and total.value:
            self.set_hint(
                f"{total} {described}. The detail pane says who acts; X replays those a re-stage fixes; "
                "R reads ServiceNow again."
            )
        elif total.value == 0:
            self.set_hint(f"No {described}.")
        else:
            self.set_hint(f"{total} {described}. Press f to see failed records only.")

    def _show_empty(self) -> None:
        if self.filter == AuditFilter(profile_id=self.context.profile_id):
            text = (
                "Nothing has been synced yet.\n\n"
                "Start a run on the Run screen (F4); every record it touches appears here."
            )
        else:
            text = f"No {self.filter.describe()}.\n\nPress c to clear the filters."
        self.query_one("#audit-empty", Static).update(text)
        self.query_one(AuditDetailPane).show_message("No record highlighted.")

    def _show_error(self, text: str) -> None:
        self.add_class("-error")
        self.query_one("#audit-error", Static).update(text)
        self.set_hint("The audit log could not be read.")


def _total(counts: dict[str, BoundedCount], flt: AuditFilter) -> BoundedCount:
    if flt.status is not None:
        return counts.get(flt.status, BoundedCount(0, True))
    return BoundedCount(sum(c.value for c in counts.values()), all(c.exact for c in counts.values()))
