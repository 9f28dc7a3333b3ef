"""The vendor credits stage: every vendor credit (debit note) changed since its cursor staged as a credit memo
with a settlement per bill it was applied to (`transform_credits`), after the bills (a settlement names a
bill's invoice) and the payments. A draft or void credit is skipped with the reason.

It runs after the payments (nothing else waits for it): a token Zoho refuses for vendor credits, a grant
made before zbsn asked for `ZohoBooks.debitnotes.READ`, then stops the run as `reauth` naming that scope,
with the bills and payments already staged. A client that cannot read credits (no `iter_vendor_credits`)
leaves them unread with a warning.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime
from typing import Protocol, runtime_checkable

from zbsn.core.domain import AuditStatus, RecordKind
from zbsn.core.engine import cursors
from zbsn.core.engine.audit_writer import AuditEntry
from zbsn.core.engine.credit_entries import credit_entry, unstaged_credit_entry
from zbsn.core.engine.entries import error_entry
from zbsn.core.engine.incremental import Fetched, IncrementalEntity, stage_incremental
from zbsn.core.engine.session import RunSession
from zbsn.core.engine.transform_credits import credit_key
from zbsn.core.engine.unchanged import Known
from zbsn.core.engine.write_pipeline import WritePipeline
from zbsn.core.zoho.errors import ZohoApiError, ZohoReauthorize
from zbsn.core.zoho.models import RecordError, ZohoVendorCredit, ZohoVendorCreditSummary


@runtime_checkable
class CreditSource(Protocol):
    """The Zoho client's vendor credit reads (ZohoBooksClient)."""

    def iter_vendor_credits(
        self, modified_since: str | None = None
    ) -> AsyncIterator[ZohoVendorCreditSummary | RecordError]: ...

    async def get_vendor_credit(self, vendor_credit_id: str) -> ZohoVendorCredit | RecordError: ...


def _modified(credit: ZohoVendorCreditSummary) -> tuple[str | None, datetime | None]:
    return credit.last_modified_time_raw, credit.last_modified_time or credit.created_time


def _without_detail(
    run: RunSession, summary: ZohoVendorCreditSummary, marker: str | None, previous: Known | None
) -> AuditEntry | None:
    staged = previous is not None and previous.status == AuditStatus.STAGED
    return unstaged_credit_entry(summary, run.context, marker, staged)


def _entries(
    run: RunSession, fetched: list[Fetched[ZohoVendorCreditSummary, ZohoVendorCredit]]
) -> list[AuditEntry]:
    applied = {
        a.bill_id for f in fetched if isinstance(f.detail, ZohoVendorCredit) for a in f.detail.bills_credited
    }
    staged = run.history.staged_bills(applied)
    entries = []
    for one in fetched:
        if one.detail is None:
            continue  # deleted between the list and the detail: the next run no longer sees it
        if isinstance(one.detail, RecordError):
            entry = error_entry(RecordKind.VENDOR_CREDIT, one.detail, run.context)
            entry.zoho_id, entry.zoho_modified = one.summary.vendor_credit_id, one.marker
            entry.external_key = credit_key(run.context.organization_id, one.summary.vendor_credit_id)
            entries.append(entry)
            continue
        entries.append(credit_entry(one.detail, run.context, run.index, staged, one.marker))
    return entries


def _list(zoho: object, since: str | None) -> AsyncIterator[ZohoVendorCreditSummary | RecordError]:
    assert isinstance(zoho, CreditSource)
    return zoho.iter_vendor_credits(modified_since=since)


async def _detail(zoho: object, vendor_credit_id: str) -> ZohoVendorCredit | RecordError:
    assert isinstance(zoho, CreditSource)
    return await zoho.get_vendor_credit(vendor_credit_id)


VENDOR_CREDITS: IncrementalEntity[ZohoVendorCreditSummary, ZohoVendorCredit] = IncrementalEntity(
    kind=RecordKind.VENDOR_CREDIT,
    stage="vendor_credits",
    cursor=cursors.VENDOR_CREDITS,
    list_call=_list,
    detail_call=_detail,
    record_id=lambda credit: credit.vendor_credit_id,
    modified=_modified,
    build=_entries,
    without_detail=_without_detail,
    per_record_failures=True,
)


async def stage_vendor_credits(run: RunSession) -> None:
    """Stage the vendor credits changed since the cursor (all of them in mode "full")."""
    if not isinstance(run.zoho, CreditSource):
        run.log("warning", "vendor credits not read: this Zoho client cannot read them")
        return
    pipeline = WritePipeline(run.write, in_flight=0)
    try:
        await stage_incremental(run, VENDOR_CREDITS, full=run.mode == "full", pipeline=pipeline)
    except ZohoReauthorize as exc:
        # Bills and payments were just read with the same token: Zoho refusing it here is, in all
        # likelihood, a grant made before zbsn asked for the vendor credits scope. Only re-authorising fixes
        # that, so the run stops as any refused token stops it, saying which scope to grant.
        raise ZohoReauthorize(
            f"{exc} (reading vendor credits: re-authorise to grant ZohoBooks.debitnotes.READ)",
            error=exc.error,
        ) from exc
    except ZohoApiError as exc:
        run.log("warning", f"vendor credits not read this run ({exc}); the next run reads them")
