"""Stage rows through the Import Set API and read back what ServiceNow did with each one.

Three modes (sn-ref §4):
- `single`: `POST /api/now/import/{table}` per row, keyed by column name; the transform runs synchronously
  and the answer's `result[]` is the outcome.
- `sync_multiple`: `POST /api/now/import/{table}/insertMultiple` for a table configured synchronous in
  `sys_rest_insert_multiple`; the answer carries one result per record, in order. If the answer carries no
  per-row results after all (the table is asynchronous), the outcomes are read back as in async mode.
- `async_multiple` (what a real instance does by default): insertMultiple answers only `import_set_id`; each
  row's outcome is then read from `sys_import_set_row` (by `sys_import_set`, ordered by `sys_import_row`)
  through the Table API, polling until no row is pending. A row is never reported staged before its
  outcome is known: past `poll_timeout_s`, ServiceNowStagingTimeout names the rows still pending.
  While the transform runs, each poll only asks how many rows are still in a pending state (one record, the
  count in `X-Total-Count`); the rows themselves are read once that count is 0, so a batch's rows cross the
  wire about once however long the transform takes. An instance that sends no `X-Total-Count` is read in
  full each poll. Polls start `poll_interval_s` apart and stretch by half each time, up to
  `poll_interval_max_s`: a fast instance is not kept waiting, a slow one is not asked many times.

insertMultiple keys records by column label by default, or by column name when the table is configured so
(`key_by="column"`, or per table in `table_key_by`). If insertMultiple is unavailable or refused (a
non-transient 4xx), the table falls back to the single-row endpoint for the rest of the call.

An error row's message is its readable reason, never a sys_id: `sys_row_error` references a
`sys_import_set_row_error` record, so when the row carries no comment the reasons are read once, for all such
rows, as display values (row_errors.py).

When `columns` is set (from a pre-flight: `ServiceNowClient.apply_preflight`), a row's values for columns the
instance does not have are left out before sending: zbsn never writes a column the instance lacks.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from zbsn.core.clock import Clock
from zbsn.core.servicenow.errors import (
    ServiceNowAPIError,
    ServiceNowConfigError,
    ServiceNowProtocolError,
    ServiceNowStagingTimeout,
)
from zbsn.core.servicenow.models import StagingOutcome, StagingRow, StagingStatus
from zbsn.core.servicenow.query import EncodedQuery
from zbsn.core.servicenow.requester import Requester
from zbsn.core.servicenow.responses import result_list
from zbsn.core.servicenow.row_errors import NO_REASON, display_reason, needs_display_value, readable_reason

StageMode = Literal["async_multiple", "sync_multiple", "single"]
KeyBy = Literal["label", "column"]

IMPORT_SET_ROW_TABLE = "sys_import_set_row"
IMPORT_ROW_FIELDS = (
    "sys_id",
    "sys_import_set",
    "sys_import_row",
    "sys_import_state",
    "sys_import_state_comment",
    "sys_row_error",
    "sys_target_table",
    "sys_target_sys_id",
)
# [I] Import set row states that mean "not transformed yet"; every StagingStatus value is final.
PENDING_STATES = frozenset({"", "pending", "loading", "processing"})
# sys_ids per read of error reasons: 200 ids keep the URL near 7 KB (PySNC moves to the Batch API past ~10,000
# characters, sn-ref §5 [S])
REASON_CHUNK = 200
# insertMultiple answers that mean "this endpoint is not available here": fall back to single rows.
FALLBACK_STATUSES = frozenset({400, 403, 404, 405, 406, 415, 501})

# A table-API reader: (table, query, fields, limit) -> records; the client's paging reader.
RecordReader = Callable[[str, EncodedQuery, Sequence[str], int | None], Awaitable[list[dict[str, Any]]]]
# A table-API counter: (table, query) -> how many records match, or None when the instance does not say.
RecordCounter = Callable[[str, EncodedQuery], Awaitable[int | None]]


def _text(value: Any) -> str:
    """A Table API value as text, flattening `{link, value}` references."""
    if isinstance(value, dict):
        value = value.get("value", "")
    return "" if value is None else str(value)


def _status(value: str) -> StagingStatus | None:
    try:
        return StagingStatus(value)
    except ValueError:
        return None


def outcome_from_result(
    row: StagingRow, results: Sequence[Any], *, import_set: str | None, staging_sys_id: str | None = None
) -> StagingOutcome:
    """The outcome of one row from Import Set `result[]` entries (one per transform map that ran)."""
    entries = [entry for entry in results if isinstance(entry, dict)]
    if not entries:
        return StagingOutcome(
            source_ref=row.source_ref,
            status=StagingStatus.ERROR,
            import_set=import_set,
            message="ServiceNow returned no transform result for this row",
        )
    errors = [e for e in entries if _status(_text(e.get("status"))) in (StagingStatus.ERROR, None)]
    chosen = errors[0] if errors else entries[0]
    status = _status(_text(chosen.get("status"))) or StagingStatus.ERROR
    message = _text(chosen.get("error_message")) or _text(chosen.get("status_message")) or None
    if status is StagingStatus.ERROR and message is None:
        message = f"transform status {_text(chosen.get('status'))!r}"
    table, sys_id = _text(chosen.get("table")) or None, _text(chosen.get("sys_id")) or None
    if table == row.table:  # no target record: the entry names the staging row instead (§4.2)
        staging_sys_id, table, sys_id = staging_sys_id or sys_id, None, None
    return StagingOutcome(
        source_ref=row.source_ref,
        status=status,
        target_table=table,
        target_sys_id=sys_id,
        staging_sys_id=staging_sys_id,
        import_set=import_set,
        message=message,
        raw={"results": entries},
    )


def outcome_from_import_row(row: StagingRow, record: Mapping[str, Any]) -> StagingOutcome:
    """The outcome of one row from its `sys_import_set_row` record (whose state is final)."""
    state = _text(record.get("sys_import_state"))
    status = _status(state)
    message = readable_reason(record)  # sys_row_error is a reference: its raw value is never shown
    if status is None:
        detail = f": {message}" if message else ""
        status, message = StagingStatus.ERROR, f"unexpected import state {state!r}{detail}"
    target_sys_id = _text(record.get("sys_target_sys_id")) or None
    # every value is already text or a StagingStatus, so validation is skipped (this runs for every row)
    return StagingOutcome.model_construct(
        source_ref=row.source_ref,
        status=status,
        target_table=(_text(record.get("sys_target_table")) or None) if target_sys_id else None,
        target_sys_id=target_sys_id,
        staging_sys_id=_text(record.get("sys_id")) or None,
        import_set=_text(record.get("sys_import_set")) or None,
        message=message,
        raw=dict(record),
    )


@dataclass
class _PendingSet:
    """One insertMultiple batch whose rows are still being transformed."""

    import_set: str
    rows: list[StagingRow]


@dataclass
class Stager:
    """Stages rows in one of the three modes; see the module docstring."""

    requester: Requester
    read_records: RecordReader
    clock: Clock
    batch_size: int = 200
    mode: StageMode = "async_multiple"
    key_by: KeyBy = "label"
    labels: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    poll_interval_s: float = 0.05
    poll_timeout_s: float = 120.0
    fallback_tables: set[str] = field(default_factory=set)
    count_records: RecordCounter | None = None
    poll_interval_max_s: float = 2.0
    # the same reader with display values (`sysparm_display_value=all`): the reasons of error rows
    read_display_records: RecordReader | None = None
    # table -> the columns the instance has (from a pre-flight); None: send every column
    columns: Mapping[str, frozenset[str]] | None = None
    # table -> how that table's insertMultiple keys records, overriding `key_by`
    table_key_by: Mapping[str, KeyBy] = field(default_factory=dict)

    async def stage(self, rows: Sequence[StagingRow]) -> list[StagingOutcome]:
        """Stage `rows` (any mix of tables) and return their outcomes in the same order."""
        refs = [row.source_ref for row in rows]
        if len(set(refs)) != len(refs):
            raise ValueError("every StagingRow needs a distinct source_ref to map its outcome back")
        by_table: dict[str, list[StagingRow]] = {}
        for row in rows:  # dicts keep first-seen order: the caller's order between tables holds
            by_table.setdefault(row.table, []).append(self._known_columns(row))
        if self.mode != "single":
            for table, table_rows in by_table.items():
                if self._key_by(table) == "label":
                    self._check_labels(table, table_rows)
        outcomes: dict[str, StagingOutcome] = {}
        for table, table_rows in by_table.items():
            # Each table is finished (outcomes known) before the next starts: lines need their header.
            for outcome in await self._stage_table(table, table_rows):
                outcomes[outcome.source_ref] = outcome
        return [outcomes[ref] for ref in refs]

    def _key_by(self, table: str) -> KeyBy:
        return self.table_key_by.get(table, self.key_by)

    def _known_columns(self, row: StagingRow) -> StagingRow:
        """`row` without the columns the instance does not have (when a pre-flight told which it has)."""
        known = self.columns.get(row.table) if self.columns is not None else None
        if known is None or all(column in known for column in row.values):
            return row
        values = {column: value for column, value in row.values.items() if column in known}
        return StagingRow.model_construct(table=row.table, values=values, source_ref=row.source_ref)

    def _check_labels(self, table: str, rows: Sequence[StagingRow]) -> None:
        known = self.labels.get(table, {})
        missing = sorted({col for row in rows for col in row.values if col not in known})
        if missing:
            raise ServiceNowConfigError(
                f"no column label known for {table}: {', '.join(missing)}; insertMultiple keys records by "
                "label, so pass labels= for these columns, or key_by='column' if the table is so configured"
            )

    async def _stage_table(self, table: str, rows: list[StagingRow]) -> list[StagingOutcome]:
        if self.mode == "single" or table in self.fallback_tables:
            return [await self._stage_single(row) for row in rows]
        outcomes: list[StagingOutcome] = []
        pending: list[_PendingSet] = []
        for start in range(0, len(rows), self.batch_size):
            batch = rows[start : start + self.batch_size]
            if table in self.fallback_tables:
                outcomes += [await self._stage_single(row) for row in batch]
                continue
            try:
                response_body = await self._insert_multiple(table, batch)
            except ServiceNowAPIError as exc:
                if exc.status_code not in FALLBACK_STATUSES:
                    raise
                self.fallback_tables.add(table)
                outcomes += [await self._stage_single(row) for row in batch]
                continue
            import_set = _text(response_body.get("import_set_id"))
            results = response_body.get("result")
            if self.mode == "sync_multiple" and isinstance(results, list) and len(results) == len(batch):
                outcomes += [
                    outcome_from_result(row, [result], import_set=import_set or None)
                    for row, result in zip(batch, results, strict=True)
                ]
            elif import_set:
                pending.append(_PendingSet(import_set, batch))
            else:
                raise ServiceNowProtocolError(
                    f"insertMultiple on {table} answered neither per-row results nor an import_set_id"
                )
        # All batches of this table are submitted before polling, so one poll reads every import set.
        if pending:
            outcomes += await self._read_back(pending)
        return outcomes

    async def _insert_multiple(self, table: str, batch: Sequence[StagingRow]) -> dict[str, Any]:
        if self._key_by(table) == "label":
            labels = self.labels.get(table, {})
            records = [{labels[col]: value for col, value in row.values.items()} for row in batch]
        else:
            records = [dict(row.values) for row in batch]
        _response, body = await self.requester.request_json(
            "POST", f"/api/now/import/{table}/insertMultiple", json={"records": records}
        )
        return body

    async def _stage_single(self, row: StagingRow) -> StagingOutcome:
        try:
            response, body = await self.requester.request_json(
                "POST", f"/api/now/import/{row.table}", json=dict(row.values)
            )
        except ServiceNowAPIError as exc:
            if exc.status_code >= 500 or exc.status_code == 429:
                raise  # retries are spent: the row's fate is unknown, so it must not be reported
            return StagingOutcome(
                source_ref=row.source_ref,
                status=StagingStatus.ERROR,
                message=str(exc),
                raw={"status_code": exc.status_code, "message": exc.message, "detail": exc.detail},
            )
        results = result_list(body, f"POST {response.request.url.path}")
        import_set = _text(body.get("import_set")) or None
        return outcome_from_result(row, results, import_set=import_set)

    async def _read_back(self, pending: list[_PendingSet]) -> list[StagingOutcome]:
        """Poll `sys_import_set_row` until every row of every pending set has a final state."""
        by_set = {p.import_set: p for p in pending}
        decided: dict[str, StagingOutcome] = {}
        deadline = self.clock.monotonic() + self.poll_timeout_s
        interval = self.poll_interval_s
        while True:
            # the transform has not run yet right after the upload (it is queued), so wait before each poll
            await self.requester.sleep(interval)
            interval = min(interval * 1.5, max(self.poll_interval_s, self.poll_interval_max_s))
            open_sets = [s for s, p in by_set.items() if any(r.source_ref not in decided for r in p.rows)]
            timed_out = self.clock.monotonic() >= deadline
            # the count only gates the read; the rows read decide (a state outside PENDING_STATES, a row
            # not there yet), so a count that misses such a row costs one more full read, nothing else
            if timed_out or await self._maybe_all_final(open_sets):
                records = await self.read_records(
                    IMPORT_SET_ROW_TABLE,
                    EncodedQuery().in_("sys_import_set", open_sets).order_by("sys_import_row"),
                    IMPORT_ROW_FIELDS,
                    None,
                )
                grouped: dict[str, list[Mapping[str, Any]]] = {s: [] for s in open_sets}
                for record in records:
                    grouped.setdefault(_text(record.get("sys_import_set")), []).append(record)
                for import_set in open_sets:
                    self._decide(by_set[import_set], grouped.get(import_set, []), decided)
            undecided = [r.source_ref for p in pending for r in p.rows if r.source_ref not in decided]
            if not undecided:
                outcomes = [decided[r.source_ref] for p in pending for r in p.rows]
                await self._read_reasons(outcomes)
                return outcomes
            if timed_out:
                raise ServiceNowStagingTimeout(
                    f"{len(undecided)} staged rows still pending after {self.poll_timeout_s:g}s in import "
                    f"sets {', '.join(open_sets)}; they are NOT reported staged (re-stage them later: the "
                    "coalesce makes that safe)",
                    import_sets=open_sets,
                    known=list(decided.values()),
                    pending_refs=undecided,
                )

    async def _read_reasons(self, outcomes: Sequence[StagingOutcome]) -> None:
        """Give every error outcome a readable message: the rows whose reason is only a reference are read
        once more, all together, with display values (a sys_id is never shown)."""
        unread = [o for o in outcomes if o.status is StagingStatus.ERROR and needs_display_value(o.raw)]
        if unread and self.read_display_records is not None:
            ids = sorted({o.staging_sys_id for o in unread if o.staging_sys_id})
            reasons: dict[str, str | None] = {}
            for start in range(0, len(ids), REASON_CHUNK):
                query = EncodedQuery().in_("sys_id", ids[start : start + REASON_CHUNK])
                for record in await self.read_display_records(
                    IMPORT_SET_ROW_TABLE, query, ("sys_id", "sys_row_error"), None
                ):
                    reasons[_text(record.get("sys_id"))] = display_reason(record)
            for outcome in unread:
                outcome.message = reasons.get(outcome.staging_sys_id or "")
        for outcome in outcomes:
            if outcome.status is StagingStatus.ERROR and not outcome.message:
                outcome.message = NO_REASON

    async def _maybe_all_final(self, import_sets: Sequence[str]) -> bool:
        """False only when the instance counts rows of these sets still in a pending state."""
        if self.count_records is None:
            return True
        still_pending = await self.count_records(
            IMPORT_SET_ROW_TABLE,
            EncodedQuery()
            .in_("sys_import_set", import_sets)
            .in_("sys_import_state", sorted(state for state in PENDING_STATES if state)),
        )
        return still_pending is None or still_pending == 0

    @staticmethod
    def _decide(
        pending: _PendingSet, records: Sequence[Mapping[str, Any]], decided: dict[str, StagingOutcome]
    ) -> None:
        """Map import set rows to the batch's rows by `sys_import_row` rank; only final states decide."""
        if len(records) < len(pending.rows):
            return  # the set is still loading: rows are numbered only once they all exist
        if len(records) > len(pending.rows):
            raise ServiceNowProtocolError(
                f"import set {pending.import_set} holds {len(records)} rows for {len(pending.rows)} records"
            )
        try:
            ordered = sorted(records, key=lambda r: int(_text(r.get("sys_import_row")) or 0))
        except ValueError as exc:
            where = f"import set {pending.import_set}"
            raise ServiceNowProtocolError(f"{where}: sys_import_row is not a number") from exc
        for row, record in zip(pending.rows, ordered, strict=True):
            if row.source_ref in decided:
                continue
            if _text(record.get("sys_import_state")).lower() in PENDING_STATES:
                continue
            decided[row.source_ref] = outcome_from_import_row(row, record)
