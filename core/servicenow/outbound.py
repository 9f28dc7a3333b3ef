"""Answer ServiceNow's outbound posting as the ERP: zbsn marks the invoices it staged as posted.

Issue 15, part 2. working-with-outbound-invoice.md and integration-errors-during-erp-posting.md
(ServiceNowDocs) [C]: an approved invoice is copied to `sn_spend_intg_outbound_invoice` with Integration
status New; the ERP side updates the ERP number and ERP posting date and sets the Integration status to
Processed, and the invoice moves to Pending payment; on failure it writes a Processing message and sets the
status to error. Zoho Books is the ERP here and the bill is already posted there, so zbsn goes from New
straight to Processed with ERP number = the Zoho bill id (vendor payments then match the invoice by that ERP
number). Column names and the stored status values (`processed`, `in_progress`, `error`) are [I] (labels
documented).
"""

from __future__ import annotations

import re
from datetime import date

from zbsn.core.servicenow.invoice_followup import OUTBOUND_FIELDS, OUTBOUND_TABLE, outbound_invoice
from zbsn.core.servicenow.invoice_models import IntegrationStatus, SNOutboundInvoice
from zbsn.core.servicenow.requester import Requester

_SYS_ID = re.compile(r"^[0-9a-f]{32}$")
STATUSES = frozenset(
    {
        IntegrationStatus.NEW,
        IntegrationStatus.IN_PROGRESS,
        IntegrationStatus.PROCESSED,
        IntegrationStatus.ERROR,
    }
)


async def update_outbound_invoice(
    requester: Requester,
    outbound_sys_id: str,
    *,
    integration_status: str,
    erp_number: str | None = None,
    erp_posting_date: date | None = None,
    processing_message: str | None = None,
) -> SNOutboundInvoice:
    """PATCH one outbound record (one request) and return it as the instance now holds it."""
    if not _SYS_ID.match(outbound_sys_id):
        raise ValueError(f"not a sys_id: {outbound_sys_id!r}")
    if integration_status not in STATUSES:
        raise ValueError(f"integration status is one of {', '.join(sorted(STATUSES))}")
    if integration_status == IntegrationStatus.PROCESSED and not (erp_number or "").strip():
        raise ValueError("an outbound invoice is Processed only with its ERP number")
    values: dict[str, str] = {"integration_status": integration_status}
    if erp_number is not None:
        values["erp_number"] = erp_number
    if erp_posting_date is not None:
        values["erp_posting_date"] = erp_posting_date.isoformat()
    if processing_message is not None:
        values["processing_message"] = processing_message
    params = {"sysparm_fields": ",".join(OUTBOUND_FIELDS), "sysparm_exclude_reference_link": "true"}
    _response, body = await requester.request_json(
        "PATCH", f"/api/now/table/{OUTBOUND_TABLE}/{outbound_sys_id}", params=params, json=values
    )
    result = body.get("result")
    return outbound_invoice(result if isinstance(result, dict) else {"sys_id": outbound_sys_id})
