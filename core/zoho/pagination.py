"""Walking Zoho list endpoints page by page (zoho-ref §4.1), with loop detection and dedupe by id.

Zoho pages are 1-based and end when `page_context.has_more_page` is false. A walk refuses to go on when a
page comes back again (same records as an earlier page), when Zoho answers another page number than the one
asked, or after `max_pages`. A record seen twice within one walk is yielded once (the first time); when the
repeat carries another `last_modified_time`, the walk notes it in its stats so the cursor can account for it.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from zbsn.core.zoho.errors import ZohoPaginationError
from zbsn.core.zoho.models import parse_zoho_timestamp

FetchPage = Callable[[int], Awaitable[dict[str, Any]]]
DEFAULT_MAX_PAGES = 10_000


@dataclass(slots=True)
class WalkStats:
    """What one list walk saw."""

    pages: int = 0
    records: int = 0  # records yielded (after dedupe)
    duplicates: int = 0
    newer_duplicates: dict[str, str] = field(default_factory=dict)  # id -> last_modified_time of the repeat


def _records(body: dict[str, Any], keys: Sequence[str]) -> list[Any]:
    for key in keys:
        value = body.get(key)
        if isinstance(value, list):
            return value
    raise ZohoPaginationError(f"list response has none of the keys {list(keys)}")


def _is_newer(candidate: str, first: str | None) -> bool:
    if first is None:
        return True
    try:
        return parse_zoho_timestamp(candidate) > parse_zoho_timestamp(first)
    except ValueError:
        return candidate != first


def _record_id(record: Any, id_field: str) -> str | None:
    if not isinstance(record, dict):
        return None
    value = record.get(id_field)
    return str(value) if value not in (None, "") else None


async def walk_pages(
    fetch: FetchPage,
    keys: Sequence[str],
    id_field: str,
    stats: WalkStats,
    *,
    max_pages: int = DEFAULT_MAX_PAGES,
) -> AsyncIterator[Any]:
    """Yield the raw records of every page, each id once; raise `ZohoPaginationError` on a loop."""
    seen: dict[str, str | None] = {}
    fingerprints: set[tuple[str, ...]] = set()
    page = 1
    while True:
        if page > max_pages:
            raise ZohoPaginationError(f"more than {max_pages} pages: giving up")
        body = await fetch(page)
        records = _records(body, keys)
        context = body.get("page_context")
        context = context if isinstance(context, dict) else {}
        answered = context.get("page")
        if answered is not None and str(answered) != str(page):
            raise ZohoPaginationError(f"asked for page {page}, Zoho answered page {answered}")
        fingerprint = tuple(_record_id(r, id_field) or repr(r) for r in records)
        if fingerprint and fingerprint in fingerprints:
            raise ZohoPaginationError(f"page {page} repeats an earlier page: stopping a pagination loop")
        fingerprints.add(fingerprint)
        stats.pages += 1
        for record in records:
            record_id = _record_id(record, id_field)
            if record_id is not None:
                modified = record.get("last_modified_time")
                if record_id in seen:
                    stats.duplicates += 1
                    if modified and _is_newer(str(modified), seen[record_id]):
                        stats.newer_duplicates[record_id] = str(modified)
                    continue
                seen[record_id] = str(modified) if modified else None
            stats.records += 1
            yield record
        has_more = context.get("has_more_page") is True
        if not has_more:
            return
        if not records:
            raise ZohoPaginationError(f"page {page} is empty but claims more pages")
        page += 1
