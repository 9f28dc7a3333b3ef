"""Words and numbers the way an AP operator reads them."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from urllib.parse import urlsplit

from zbsn.core.domain import ServiceNowStatus
from zbsn.core.workspace import ConnectionView

TOKEN_WORDS = {
    "ok": ("connected", "success"),
    "connected": ("connected", "success"),
    "wait": ("throttled, retrying", "warning"),
    "reauthorise": ("re-authorise needed", "error"),
    "reauth": ("re-authorise needed", "error"),
    "new": ("not connected", "warning"),
    "not connected": ("not connected", "warning"),
    "error": ("error", "error"),
    "unknown": ("not connected", "warning"),
}

STATUS_STYLE = {
    "failed": "error",
    "staged": "success",
    "pending": "warning",
    "skipped": "secondary",
    "cancelled": "secondary",
    "flagged": "warning",
}

# How each ServiceNow status reads on screen: (words, severity). "error": someone must act; "warning": the
# invoice waits on the AP team or the ERP; "success": it went through.
SERVICENOW_STYLE: dict[str, tuple[str, str]] = {
    ServiceNowStatus.DRAFT: ("draft", "secondary"),
    ServiceNowStatus.EXCEPTIONS_FOUND: ("exceptions", "error"),
    ServiceNowStatus.PENDING_APPROVAL: ("pending approval", "warning"),
    ServiceNowStatus.APPROVED: ("approved", "warning"),
    ServiceNowStatus.POSTING_FAILED: ("posting failed", "error"),
    ServiceNowStatus.POSTED: ("posted", "success"),
    ServiceNowStatus.PAID: ("paid", "success"),
    ServiceNowStatus.CANCELED: ("canceled", "secondary"),
    ServiceNowStatus.OTHER: ("other state", "secondary"),
    ServiceNowStatus.NOT_FOUND: ("not found", "error"),
}
SEVERITY_COLOUR = {"error": "red", "success": "green", "warning": "yellow"}


def servicenow_words(status: str | None) -> tuple[str, str]:
    """(words, Rich style) of a ServiceNow status; ("", "dim") when the record is not followed."""
    if not status:
        return "", "dim"
    words, severity = SERVICENOW_STYLE.get(status, (status.replace("_", " "), "secondary"))
    return words, SEVERITY_COLOUR.get(severity, "dim")


STAGE_TITLES = {
    "pending": "Resend pending",
    "cost_centers": "Cost centers",
    "gl_accounts": "GL accounts",
    "suppliers": "Suppliers",
    "bills": "Bills",
    "attachments": "Documents",
    "payments": "Payments",
    "vendor_credits": "Vendor credits",
    "statuses": "ServiceNow",
}


def finished_words(stage: str, staged: int, failed: int, skipped: int) -> str:
    """A finished stage's counts in its own words."""
    if stage == "statuses":  # the invoices read in ServiceNow, and those waiting on someone
        return f"{staged:,} followed · {failed:,} need someone"
    if stage == "pending":
        if not (staged or failed):
            return "nothing left pending"
        return f"{staged:,} resent · {failed:,} failed"
    if stage == "attachments":
        if not (staged or failed or skipped):
            return "no documents to attach"
        return f"{staged:,} attached · {failed:,} failed · {skipped:,} done before"
    if stage == "vendor_credits":
        return f"{staged:,} memos staged · {failed:,} failed · {skipped:,} skipped"
    return f"{staged:,} staged · {failed:,} failed · {skipped:,} skipped"


def duration(seconds: float | None) -> str:
    """'2h 05m', '41m', '35s'; '—' when unknown."""
    if seconds is None:
        return "—"
    seconds = max(0, int(seconds))
    if seconds >= 3600:
        return f"{seconds // 3600}h {seconds % 3600 // 60:02d}m"
    if seconds >= 60:
        return f"{seconds // 60}m {seconds % 60:02d}s" if seconds < 600 else f"{seconds // 60}m"
    return f"{seconds}s"


def until(moment: datetime | None, now: datetime | None = None) -> str:
    """Time from now to `moment`, as `duration`."""
    if moment is None:
        return "—"
    return duration((moment - (now or datetime.now(UTC))).total_seconds())


def money(amount: Decimal | None, currency: str | None = None) -> str:
    if amount is None:
        return ""
    text = f"{amount:,.2f}"
    return f"{text} {currency}" if currency else text


def timestamp(moment: datetime | None) -> str:
    """'2025-03-31 17:00' in UTC, the way the audit log stores it."""
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M") if moment else ""


def token_words(state: str | None) -> tuple[str, str]:
    """(words, severity) for a token state from either system."""
    return TOKEN_WORDS.get((state or "unknown").lower(), (state or "unknown", "warning"))


def plural(count: int, noun: str) -> str:
    return f"{count:,} {noun}" if count == 1 else f"{count:,} {noun}s"


def zoho_connection_label(view: ConnectionView) -> str:
    """'Northwind Advisory Ltd (20061234) · EU' (the data centre when Zoho named it; a loopback sandbox's
    self-client grant does not)."""
    org = (
        f"{view.organization_name or view.organization_id} ({view.organization_id})"
        if view.organization_id
        else f"{view.name}: no organization yet"
    )
    return f"{org} · {view.dc.upper()}" if view.dc else org


def servicenow_connection_label(view: ConnectionView) -> str:
    """The connection's name, with the instance's host when the name does not already say it."""
    host = urlsplit(view.instance_url).hostname if view.instance_url else None
    return view.name if host is None or host in view.name else f"{view.name} · {host}"
