"""Paged, filtered reads of the audit log for the console and the CLI.

Pages are keyset-paginated on (updated_at desc, id desc), so page 10,000 costs what page 1 costs: every query
walks an index from a cursor and stops after `limit + 1` rows. Counts are bounded ("10,000+") for the same
reason; an exact count over a million rows is a full index scan the operator does not need.

Index use, per filter:
- no status/kind: `ix_audit_record_updated_at` read backwards (SQLite appends the rowid, i.e. `id`, to every
  index, so the index order *is* the page order).
- status and/or kind: one query per (status, kind) pair on `ix_audit_status_kind_updated`, each already in
  page order, merged here. Five small indexed reads beat one sort of every failed row.
- ServiceNow status (`sn_status`, what the last status refresh read): one query on
  `ix_audit_sn_status_updated` (migration 0005), already in page order; a status or kind beside it is a plain
  condition on the rows that index walks (kept off the status index, see `_unindexed`).
- free text of 3+ characters: a case-insensitive substring match ("ltd" finds "Bright Cleaning Ltd") over
  zoho_number, zoho_id, vendor_name and external_key, served by the trigram index of migration 0002 (SQLite
  FTS5 `audit_text`; PostgreSQL `pg_trgm` GIN on the same expression).
- shorter text: a prefix match written as ranges (`col >= 'ab' AND col < 'ac'`) so the B-tree indexes serve
  it (SQLite's LIKE cannot use a BINARY index); a few case variants stand in for case-insensitivity.
  Either way the matching ids are first collected (at most `TEXT_ID_CAP`); when they fit, the page is read by
  id. When the text matches more (e.g. a big vendor), the page walks updated_at and stops early, since common
  matches are dense.

(Over 400 lines: one query planner, whose index choices above depend on each other; the filter and page types
it returns are small and live here because nothing else builds them.)
"""

from __future__ import annotations

import heapq
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from decimal import Decimal
from typing import Any

import sqlalchemy as sa

from zbsn.core.audit_documents import DocumentShown, documents_of
from zbsn.core.audit_servicenow import ServiceNowDetail, servicenow_detail
from zbsn.core.db.models import AuditAttempt, AuditRecord, ServiceNowStatusRecord, SyncRun
from zbsn.core.domain import AuditStatus, RecordKind, ServiceNowStatus

TEXT_SEARCH_NOTE = (
    "Free text finds 3+ characters anywhere in the number, Zoho id, vendor or external key (shorter text: "
    "a prefix)."
)
SUBSTRING_MIN_CHARS = 3  # trigram indexes need three characters to narrow anything
# Exactly the expression migration 0002 indexes (PostgreSQL only uses the index for the same expression).
_SEARCH_TEXT: sa.ColumnClause[str] = sa.literal_column(
    "lower(coalesce(audit_record.zoho_number, '') || ' ' || coalesce(audit_record.zoho_id, '') || ' ' || "
    "coalesce(audit_record.vendor_name, '') || ' ' || coalesce(audit_record.external_key, ''))",
    type_=sa.String(),
)
DEFAULT_PAGE_SIZE = 100
DEFAULT_COUNT_CAP = 10_000
TEXT_ID_CAP = 5_000

# How a ServiceNow status reads in a filter's description ("bills with exceptions in ServiceNow").
_SN_WORDS: dict[str, str] = {
    ServiceNowStatus.DRAFT: "in draft",
    ServiceNowStatus.EXCEPTIONS_FOUND: "with exceptions",
    ServiceNowStatus.PENDING_APPROVAL: "pending approval",
    ServiceNowStatus.APPROVED: "approved",
    ServiceNowStatus.POSTING_FAILED: "whose posting failed",
    ServiceNowStatus.POSTED: "posted",
    ServiceNowStatus.PAID: "paid",
    ServiceNowStatus.CANCELED: "canceled",
    ServiceNowStatus.OTHER: "in another state",
    ServiceNowStatus.NOT_FOUND: "gone",
}
_AR = sa.inspect(AuditRecord).local_table
_ATT = sa.inspect(AuditAttempt).local_table
_RUN = sa.inspect(SyncRun).local_table
_SS = sa.inspect(ServiceNowStatusRecord).local_table
_TEXT_COLUMNS = ("zoho_number", "zoho_id", "vendor_name", "external_key")
_ROW_COLUMNS = (
    "id",
    "profile_id",
    "run_id",
    "kind",
    "status",
    "zoho_id",
    "zoho_number",
    "vendor_name",
    "amount",
    "currency",
    "doc_date",
    "external_key",
    "error_code",
    "error_message",
    "staging_status",
    "sn_status",
    "attempts",
    "updated_at",
)


@dataclass(frozen=True, slots=True)
class AuditFilter:
    """What the operator narrowed the audit log to; every field is optional (None = any)."""

    status: str | None = None  # an AuditStatus value
    kind: str | None = None  # a RecordKind value
    run_id: int | None = None
    period_from: str | None = None  # yyyy-mm-dd, inclusive, on the document date
    period_to: str | None = None  # yyyy-mm-dd, inclusive
    text: str | None = None
    profile_id: int | None = None
    sn_status: str | None = None  # a ServiceNowStatus value: where the invoice stands in ServiceNow

    def describe(self) -> str:
        """The filter in words, for headers and empty states ("failed bills in run 12")."""
        parts: list[str] = []
        if self.status:
            parts.append(self.status)
        parts.append(f"{self.kind.replace('_', ' ')}s" if self.kind else "records")
        if self.sn_status:
            parts.append(f"{_SN_WORDS.get(self.sn_status, self.sn_status)} in ServiceNow")
        if self.run_id is not None:
            parts.append(f"in run {self.run_id}")
        if self.period_from or self.period_to:
            parts.append(f"dated {self.period_from or '…'} to {self.period_to or '…'}")
        if self.text and self.text.strip():
            text = self.text.strip()
            how = "containing" if len(text) >= SUBSTRING_MIN_CHARS else "starting with"
            parts.append(f"{how} “{text}”")
        return " ".join(parts)


@dataclass(frozen=True, slots=True, order=True)
class Cursor:
    """A position in page order: the (updated_at, id) of a row."""

    updated_at: datetime
    id: int


@dataclass(frozen=True, slots=True)
class AuditRow:
    """One line of the audit table (no payloads: those are in `AuditDetail`)."""

    id: int
    profile_id: int
    run_id: int | None
    kind: str
    status: str
    zoho_id: str
    zoho_number: str | None
    vendor_name: str | None
    amount: Decimal | None
    currency: str | None
    doc_date: str | None
    external_key: str
    error_code: str | None
    error_message: str | None
    staging_status: str | None
    sn_status: str | None  # the ServiceNowStatus of the last refresh (None: not followed)
    attempts: int
    updated_at: datetime

    @property
    def cursor(self) -> Cursor:
        return Cursor(self.updated_at, self.id)


@dataclass(frozen=True, slots=True)
class AuditPage:
    """One page in page order (newest first) and the cursors to move from it."""

    rows: tuple[AuditRow, ...]
    next_cursor: Cursor | None  # pass as `after` for older rows; None on the last page
    prev_cursor: Cursor | None  # pass as `before` for newer rows; None on the first page
    filter: AuditFilter = field(default_factory=AuditFilter)

    @property
    def is_first(self) -> bool:
        return self.prev_cursor is None

    @property
    def is_last(self) -> bool:
        return self.next_cursor is None


@dataclass(frozen=True, slots=True)
class BoundedCount:
    """A count that stops at `cap`: exact below it, "cap+" at it."""

    value: int
    exact: bool

    def __str__(self) -> str:
        return f"{self.value:,}" if self.exact else f"{self.value:,}+"


@dataclass(frozen=True, slots=True)
class AttemptRow:
    """One attempt to stage a record."""

    attempt_no: int
    run_id: int | None
    started_at: datetime
    finished_at: datetime | None
    status: str
    error_code: str | None
    error_message: str | None
    staging_status: str | None
    sn_sys_id: str | None


@dataclass(frozen=True, slots=True)
class AuditDetail:
    """Everything the detail pane shows about one record."""

    row: AuditRow
    source_payload: Any  # parsed JSON, or the raw text when it is not JSON
    mapped_payload: Any
    sn_sys_id: str | None
    sn_import_set: str | None
    payload_hash: str | None
    zoho_modified: str | None
    created_at: datetime
    attempts: tuple[AttemptRow, ...]
    servicenow: ServiceNowDetail | None = None  # the invoice in ServiceNow, once a refresh read it
    # a bill's documents attached to its invoice (or failed, with why), or an attachment record's own file
    documents: tuple[DocumentShown, ...] = ()


@dataclass(frozen=True, slots=True)
class RunSummary:
    """A run, as the run filter lists it."""

    id: int
    started_at: datetime
    status: str
    mode: str
    trigger: str
    staged: int
    failed: int


def _prefix_upper_bound(prefix: str) -> str | None:
    """The smallest string greater than every string starting with `prefix` (None: no bound)."""
    trimmed = prefix
    while trimmed:
        last = ord(trimmed[-1])
        if last < 0x10FFFF:
            return trimmed[:-1] + chr(last + 1)
        trimmed = trimmed[:-1]
    return None


def _case_variants(text: str) -> list[str]:
    """As typed, UPPER, lower and Title: covers how numbers and names are really written."""
    seen: dict[str, None] = {}
    for variant in (text, text.upper(), text.lower(), text.title(), text[:1].upper() + text[1:]):
        seen.setdefault(variant, None)
    return list(seen)


def _text_ranges(text: str) -> list[sa.ColumnElement[bool]]:
    """One indexable range per (column, case variant)."""
    ranges: list[sa.ColumnElement[bool]] = []
    for variant in _case_variants(text):
        upper = _prefix_upper_bound(variant)
        for name in _TEXT_COLUMNS:
            column = _AR.c[name]
            if upper is None:
                ranges.append(column >= variant)
            else:
                ranges.append(sa.and_(column >= variant, column < upper))
    return ranges


def _has_fts_table(conn: sa.Connection) -> bool:
    found = conn.execute(sa.text("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'audit_text'"))
    return found.first() is not None


def _substring_clause(text: str, conn: sa.Connection) -> sa.ColumnElement[bool]:
    """Rows whose searchable text contains `text`, through the backend's trigram index."""
    needle = text.lower()
    if conn.dialect.name == "sqlite" and _has_fts_table(conn):
        phrase = '"' + needle.replace('"', '""') + '"'  # an FTS5 string: matched literally, no operators
        matching = "SELECT rowid FROM audit_text WHERE audit_text MATCH :phrase"
        found = (
            conn.execute(sa.text(f"{matching} LIMIT :limit"), {"phrase": phrase, "limit": TEXT_ID_CAP + 1})
            .scalars()
            .all()
        )
        if len(found) <= TEXT_ID_CAP:
            return _AR.c.id.in_(sorted(found)) if found else sa.false()
        # A common term: materialising every match would cost more than walking the page order and testing
        # each row, which stops after a page because matches are dense.
    escaped = needle.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return _SEARCH_TEXT.like(f"%{escaped}%", escape="\\")


def _text_clause(text: str, conn: sa.Connection | None = None) -> sa.ColumnElement[bool]:
    """Substring match for 3+ characters; else `id IN (ids)` for a selective prefix, or the ranges."""
    if conn is not None and len(text) >= SUBSTRING_MIN_CHARS:
        return _substring_clause(text, conn)
    ranges = _text_ranges(text)
    if conn is not None:
        ids: set[int] = set()
        for clause in ranges:
            found = conn.execute(sa.select(_AR.c.id).where(clause).limit(TEXT_ID_CAP + 1)).scalars().all()
            ids.update(found)
            if len(ids) > TEXT_ID_CAP:
                return sa.or_(*ranges)
        return _AR.c.id.in_(sorted(ids)) if ids else sa.false()
    return sa.or_(*ranges)


def _base_clauses(flt: AuditFilter, conn: sa.Connection | None = None) -> list[sa.ColumnElement[bool]]:
    """Filter clauses except status and kind (the caller spreads those over the composite index)."""
    clauses: list[sa.ColumnElement[bool]] = []
    if flt.profile_id is not None:
        clauses.append(_AR.c.profile_id == flt.profile_id)
    if flt.run_id is not None:
        clauses.append(_AR.c.run_id == flt.run_id)
    if flt.period_from:
        clauses.append(_AR.c.doc_date >= flt.period_from)
    if flt.period_to:
        clauses.append(_AR.c.doc_date <= flt.period_to)
    if flt.sn_status is not None:
        clauses.append(_AR.c.sn_status == flt.sn_status)
        clauses += _pair_clauses(flt.status, flt.kind, indexed=False)
    text = (flt.text or "").strip()
    if text:
        clauses.append(_text_clause(text, conn))
    return clauses


def _status_kind_pairs(flt: AuditFilter) -> list[tuple[str | None, str | None]]:
    """One (status, kind) pair per indexed read; (None, None) means 'no status/kind filter' (or that the
    ServiceNow status index serves the read, status and kind being plain conditions then)."""
    if (flt.status is None and flt.kind is None) or flt.sn_status is not None:
        return [(None, None)]
    statuses = [flt.status] if flt.status is not None else [s.value for s in AuditStatus]
    kinds = [flt.kind] if flt.kind is not None else [k.value for k in RecordKind]
    return [(s, k) for s in statuses for k in kinds]


def _unindexed(column: sa.ColumnElement[Any]) -> sa.ColumnElement[Any]:
    """`column || ''`: the same value, but no index on `column` can serve the comparison, so the planner
    keeps to the index the caller means (the ServiceNow status one) instead of walking every staged row."""
    return column.op("||")(sa.literal(""))


def _pair_clauses(
    status: str | None, kind: str | None, *, indexed: bool = True
) -> list[sa.ColumnElement[bool]]:
    status_column = _AR.c.status if indexed else _unindexed(_AR.c.status)
    kind_column = _AR.c.kind if indexed else _unindexed(_AR.c.kind)
    clauses: list[sa.ColumnElement[bool]] = []
    if status is not None:
        clauses.append(status_column == status)
    if kind is not None:
        clauses.append(kind_column == kind)
    return clauses


def _keyset(cursor: Cursor, *, older: bool) -> sa.ColumnElement[bool]:
    """Rows strictly older (or newer) than `cursor`, written so the updated_at index bounds the range."""
    updated, ident = _AR.c.updated_at, _AR.c.id
    if older:
        return sa.and_(updated <= cursor.updated_at, sa.or_(updated < cursor.updated_at, ident < cursor.id))
    return sa.and_(updated >= cursor.updated_at, sa.or_(updated > cursor.updated_at, ident > cursor.id))


def _to_row(mapping: sa.RowMapping) -> AuditRow:
    values = {name: mapping[name] for name in _ROW_COLUMNS}
    values["attempts"] = int(values["attempts"] or 0)
    return AuditRow(**values)


def _fetch(
    conn: sa.Connection, flt: AuditFilter, limit: int, cursor: Cursor | None, *, older: bool
) -> list[AuditRow]:
    """Up to `limit` rows in walk order (older: newest first; newer: oldest first)."""
    base = _base_clauses(flt, conn)
    if cursor is not None:
        base.append(_keyset(cursor, older=older))
    order = (_AR.c.updated_at.desc(), _AR.c.id.desc()) if older else (_AR.c.updated_at.asc(), _AR.c.id.asc())
    columns = [_AR.c[name] for name in _ROW_COLUMNS]
    streams: list[list[AuditRow]] = []
    for status, kind in _status_kind_pairs(flt):
        # The page's ids first, then its rows: choosing and ordering the page touches only index columns
        # (every index carries the id), so a filter matching 90,000 rows sorts 90,000 narrow index entries
        # instead of reading 90,000 table rows; only the page's rows are read in full.
        ids = (
            conn.execute(
                sa.select(_AR.c.id).where(*base, *_pair_clauses(status, kind)).order_by(*order).limit(limit)
            )
            .scalars()
            .all()
        )
        if not ids:
            streams.append([])
            continue
        found = {m["id"]: m for m in conn.execute(sa.select(*columns).where(_AR.c.id.in_(ids))).mappings()}
        streams.append([_to_row(found[i]) for i in ids if i in found])
    if len(streams) == 1:
        return streams[0]
    merged = heapq.merge(*streams, key=lambda row: row.cursor, reverse=older)
    return [row for _, row in zip(range(limit), merged, strict=False)]


def page(
    engine: sa.Engine,
    flt: AuditFilter,
    limit: int = DEFAULT_PAGE_SIZE,
    after: Cursor | None = None,
    before: Cursor | None = None,
) -> AuditPage:
    """One page, newest first: the first one, the one older than `after` or the one newer than `before`."""
    if after is not None and before is not None:
        raise ValueError("give `after` or `before`, not both")
    with engine.connect() as conn:
        if before is None:
            rows = _fetch(conn, flt, limit + 1, after, older=True)
            has_more = len(rows) > limit
            rows = rows[:limit]
            next_cursor = rows[-1].cursor if has_more and rows else None
            prev_cursor = rows[0].cursor if after is not None and rows else None
            if after is not None and not rows:
                # Walked off the end (rows vanished under us): show the last real page instead.
                return page(engine, flt, limit, before=after)
        else:
            newer = _fetch(conn, flt, limit + 1, before, older=False)
            has_newer = len(newer) > limit
            rows = list(reversed(newer[:limit]))
            if not rows:
                return page(engine, flt, limit)
            prev_cursor = rows[0].cursor if has_newer else None
            next_cursor = rows[-1].cursor
    return AuditPage(rows=tuple(rows), next_cursor=next_cursor, prev_cursor=prev_cursor, filter=flt)


def _count_query(
    base: list[sa.ColumnElement[bool]], status: str | None, kind: str | None, cap: int
) -> sa.Select[Any]:
    inner = (
        sa.select(sa.literal(1).label("one"))
        .select_from(_AR)
        .where(*base, *_pair_clauses(status, kind))
        .limit(cap)
        .subquery()
    )
    return sa.select(sa.func.count()).select_from(inner)


def _fts_count(conn: sa.Connection, flt: AuditFilter, cap: int) -> int | None:
    """Count a text-only filter straight from the SQLite trigram index (None when that does not apply)."""
    text = (flt.text or "").strip()
    others = (flt.status, flt.kind, flt.run_id, flt.period_from, flt.period_to, flt.profile_id, flt.sn_status)
    if len(text) < SUBSTRING_MIN_CHARS or any(v is not None for v in others):
        return None
    if conn.dialect.name != "sqlite" or not _has_fts_table(conn):
        return None
    phrase = '"' + text.lower().replace('"', '""') + '"'
    query = sa.text(
        "SELECT count(*) FROM (SELECT rowid FROM audit_text WHERE audit_text MATCH :phrase LIMIT :limit)"
    )
    return int(conn.execute(query, {"phrase": phrase, "limit": cap + 1}).scalar_one())


def count(engine: sa.Engine, flt: AuditFilter, cap: int = DEFAULT_COUNT_CAP) -> BoundedCount:
    """How many rows match, counting no further than `cap` (so it stays fast on any table size)."""
    total = 0
    with engine.connect() as conn:
        text_only = _fts_count(conn, flt, cap)
        if text_only is not None:
            return BoundedCount(value=min(text_only, cap), exact=text_only <= cap)
        base = _base_clauses(flt, conn)
        for status, kind in _status_kind_pairs(flt):
            remaining = cap + 1 - total
            if remaining <= 0:
                break
            total += int(conn.execute(_count_query(base, status, kind, remaining)).scalar_one())
    return BoundedCount(value=min(total, cap), exact=total <= cap)


def status_counts(
    engine: sa.Engine, flt: AuditFilter, cap: int = DEFAULT_COUNT_CAP
) -> dict[str, BoundedCount]:
    """Bounded counts per status for the filter's other fields (the tabs 'Failed 12 · Staged 10,000+')."""
    return {s.value: count(engine, replace(flt, status=s.value), cap) for s in AuditStatus}


def servicenow_counts(
    engine: sa.Engine, flt: AuditFilter, cap: int = DEFAULT_COUNT_CAP
) -> dict[str, BoundedCount]:
    """Bounded counts per ServiceNow status for the filter's other fields (statuses with none left out)."""
    counts = {s.value: count(engine, replace(flt, sn_status=s.value), cap) for s in ServiceNowStatus}
    return {status: found for status, found in counts.items() if found.value}


def replayable_ids(engine: sa.Engine, flt: AuditFilter) -> list[int]:
    """Ids of the records in `flt` a replay can move on, newest first: the failed ones (as `failed_ids`), and
    those whose ServiceNow status says re-staging fixes what holds them (`replay_fixes`)."""
    ids = failed_ids(engine, flt) if flt.status in (None, AuditStatus.FAILED.value) else []
    with engine.connect() as conn:
        base = _base_clauses(replace(flt, status=None, kind=None, sn_status=None), conn)
        base += _pair_clauses(None, flt.kind)
        if flt.status is not None:
            base.append(_AR.c.status == flt.status)
        if flt.sn_status is not None:
            base.append(_AR.c.sn_status == flt.sn_status)
        query = (
            sa.select(_AR.c.id)
            .join(_SS, _SS.c.audit_id == _AR.c.id)
            .where(_SS.c.replay_fixes.is_(True), *base)
            .order_by(_AR.c.updated_at.desc(), _AR.c.id.desc())
        )
        fixable = list(conn.execute(query).scalars())
    seen = set(ids)
    return ids + [i for i in fixable if i not in seen]


def failed_ids(engine: sa.Engine, flt: AuditFilter, limit: int | None = None) -> list[int]:
    """Ids of the failed records in `flt` (its status is ignored), newest first: 'replay all failed'."""
    failed = replace(flt, status=AuditStatus.FAILED.value)
    ids: list[int] = []
    cursor: Cursor | None = None
    batch = 1000 if limit is None else min(limit, 1000)
    while limit is None or len(ids) < limit:
        current = page(engine, failed, limit=batch, after=cursor)
        ids.extend(row.id for row in current.rows)
        if current.next_cursor is None:
            break
        cursor = current.next_cursor
    return ids if limit is None else ids[:limit]


def _parse_json(text: str | None) -> Any:
    if text is None:
        return None
    try:
        return json.loads(text)
    except ValueError:
        return text


def detail(engine: sa.Engine, audit_id: int) -> AuditDetail | None:
    """The record with its payloads and every attempt (oldest first); None when it does not exist."""
    with engine.connect() as conn:
        record = conn.execute(sa.select(_AR).where(_AR.c.id == audit_id)).mappings().first()
        if record is None:
            return None
        attempts = conn.execute(
            sa.select(_ATT).where(_ATT.c.audit_id == audit_id).order_by(_ATT.c.attempt_no, _ATT.c.id)
        ).mappings()
        attempt_rows = tuple(
            AttemptRow(
                attempt_no=a["attempt_no"],
                run_id=a["run_id"],
                started_at=a["started_at"],
                finished_at=a["finished_at"],
                status=a["status"],
                error_code=a["error_code"],
                error_message=a["error_message"],
                staging_status=a["staging_status"],
                sn_sys_id=a["sn_sys_id"],
            )
            for a in attempts
        )
    return AuditDetail(
        row=_to_row(record),
        source_payload=_parse_json(record["source_payload"]),
        mapped_payload=_parse_json(record["mapped_payload"]),
        sn_sys_id=record["sn_sys_id"],
        sn_import_set=record["sn_import_set"],
        payload_hash=record["payload_hash"],
        zoho_modified=record["zoho_modified"],
        created_at=record["created_at"],
        attempts=attempt_rows,
        servicenow=servicenow_detail(engine, audit_id),
        documents=tuple(documents_of(engine, [audit_id]).get(audit_id, [])),
    )


def recent_runs(engine: sa.Engine, profile_id: int | None = None, limit: int = 50) -> list[RunSummary]:
    """The latest runs, newest first, for the run filter."""
    query = sa.select(_RUN).order_by(_RUN.c.started_at.desc(), _RUN.c.id.desc()).limit(limit)
    if profile_id is not None:
        query = query.where(_RUN.c.profile_id == profile_id)
    with engine.connect() as conn:
        return [
            RunSummary(
                id=r["id"],
                started_at=r["started_at"],
                status=r["status"],
                mode=r["mode"],
                trigger=r["trigger"],
                staged=r["staged"],
                failed=r["failed"],
            )
            for r in conn.execute(query).mappings()
        ]


def rows_by_ids(engine: sa.Engine, ids: Iterable[int]) -> dict[int, AuditRow]:
    """The current rows for `ids` (to refresh the lines a replay just changed)."""
    wanted: Sequence[int] = list(ids)
    if not wanted:
        return {}
    columns = [_AR.c[name] for name in _ROW_COLUMNS]
    with engine.connect() as conn:
        result = conn.execute(sa.select(*columns).where(_AR.c.id.in_(wanted))).mappings()
        return {row.id: row for row in (_to_row(m) for m in result)}


@dataclass(frozen=True, slots=True)
class AuditLog:
    """The audit log of one database, for front ends that hold no database handle of their own."""

    engine: sa.Engine

    def page(
        self,
        flt: AuditFilter,
        limit: int = DEFAULT_PAGE_SIZE,
        after: Cursor | None = None,
        before: Cursor | None = None,
    ) -> AuditPage:
        """One page of records matching `flt` (see `page`)."""
        return page(self.engine, flt, limit, after, before)

    def count(self, flt: AuditFilter, cap: int = DEFAULT_COUNT_CAP) -> BoundedCount:
        """How many records match `flt`, counted up to `cap`."""
        return count(self.engine, flt, cap)

    def status_counts(self, flt: AuditFilter, cap: int = DEFAULT_COUNT_CAP) -> dict[str, BoundedCount]:
        """Per status, how many records match `flt`."""
        return status_counts(self.engine, flt, cap)

    def failed_ids(self, flt: AuditFilter, limit: int | None = None) -> list[int]:
        """Ids of the failed records matching `flt`."""
        return failed_ids(self.engine, flt, limit)

    def replayable_ids(self, flt: AuditFilter) -> list[int]:
        """Ids of the records matching `flt` that a replay can move on (failed, or fixable per ServiceNow)."""
        return replayable_ids(self.engine, flt)

    def servicenow_counts(self, flt: AuditFilter, cap: int = DEFAULT_COUNT_CAP) -> dict[str, BoundedCount]:
        """Per ServiceNow status, how many records match `flt` (statuses with none left out)."""
        return servicenow_counts(self.engine, flt, cap)

    def detail(self, audit_id: int) -> AuditDetail | None:
        """One record with its attempts and payloads."""
        return detail(self.engine, audit_id)

    def recent_runs(self, profile_id: int | None = None, limit: int = 50) -> list[RunSummary]:
        """The latest runs, newest first."""
        return recent_runs(self.engine, profile_id, limit)

    def rows_by_ids(self, ids: Iterable[int]) -> dict[int, AuditRow]:
        """The current rows for `ids`."""
        return rows_by_ids(self.engine, ids)
