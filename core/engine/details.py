"""Detail requests for one batch of listed records, a few at a time (runs and the preview alike).

Per record: its detail, None when Zoho no longer has it (404), or a RecordError when Zoho sent it unreadable
or (with `per_record_failures`) kept failing to serve that one record.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from typing import TypeVar

from zbsn.core.zoho.errors import ZohoApiError, ZohoNotFound, ZohoRateLimited
from zbsn.core.zoho.models import RecordError

D = TypeVar("D")
# When every detail of a batch at least this big fails, the trouble is Zoho's, not the records'.
SYSTEMIC_FAILURE_BATCH = 3


class SourceUnavailable(RecordError):
    """Zoho kept failing to serve one record after the client's retries (the record may be fine)."""


async def fetch_details(
    ids: Sequence[str],
    detail: Callable[[str], Awaitable[D | RecordError]],
    *,
    entity: str,
    concurrency: int,
    per_record_failures: bool,
) -> list[D | RecordError | None]:
    """Each record's detail, in the order of `ids` (None: deleted since it was listed).

    With `per_record_failures`, a record Zoho keeps failing on after the client's retries (an HTTP 500 for
    that record only) becomes a `SourceUnavailable` error, with the reason, and the others go on; replay
    fetches it again. When every detail of a batch fails so, the trouble is Zoho's, not the records': the
    error is raised. Rate limits, transport failures and authorisation errors are always raised (they stop a
    run, not a record); without `per_record_failures` every Zoho API error is.
    """
    semaphore = asyncio.Semaphore(concurrency)
    failures: list[ZohoApiError] = []

    async def one(record_id: str) -> D | RecordError | None:
        async with semaphore:
            try:
                return await detail(record_id)
            except ZohoNotFound:
                return None
            except ZohoRateLimited:
                raise
            except ZohoApiError as exc:
                if not per_record_failures:
                    raise
                failures.append(exc)
                return SourceUnavailable(
                    entity=entity,
                    record_id=record_id,
                    reason=f"Zoho Books kept failing to serve this {entity} ({exc}); replay it to try again",
                )

    details = list(await asyncio.gather(*(one(record_id) for record_id in ids)))
    if failures and len(failures) == len(ids) and len(ids) >= SYSTEMIC_FAILURE_BATCH:
        raise failures[0]
    return details
