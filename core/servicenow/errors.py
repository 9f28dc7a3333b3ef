"""What can go wrong talking to ServiceNow, as exceptions the engine and the TUI can tell apart."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from zbsn.core.servicenow.models import StagingOutcome

if TYPE_CHECKING:
    from zbsn.core.servicenow.preflight_report import PreflightReport


class ServiceNowError(Exception):
    """Base class of every error this package raises."""


class ServiceNowReauthorize(ServiceNowError):
    """The credentials no longer work: a person must re-authorise the connection (nothing to retry)."""


class ServiceNowProtocolError(ServiceNowError):
    """The answer is not what the API promises (HTML, non-JSON, no `result`): never a parse crash."""


class ServiceNowAPIError(ServiceNowError):
    """ServiceNow refused the request; carries its `error.message` / `error.detail`."""

    def __init__(self, status_code: int, message: str, detail: str | None = None, *, url: str = "") -> None:
        self.status_code = status_code
        self.message = message
        self.detail = detail
        self.url = url
        text = f"ServiceNow answered {status_code}: {message}"
        if detail:
            text += f" ({detail})"
        if url:
            text += f" [{url}]"
        super().__init__(text)


class ServiceNowServerError(ServiceNowAPIError):
    """A 5xx answer: transient, retried with backoff; raised once the retries are spent."""


class ServiceNowRateLimited(ServiceNowAPIError):
    """A 429 answer; `retry_after_s` is the server's Retry-After (None when absent)."""

    def __init__(
        self,
        status_code: int,
        message: str,
        detail: str | None = None,
        *,
        url: str = "",
        retry_after_s: float | None = None,
    ) -> None:
        super().__init__(status_code, message, detail, url=url)
        self.retry_after_s = retry_after_s


class ServiceNowConfigError(ServiceNowError, ValueError):
    """The client was asked for something its configuration cannot express (e.g. a column with no label)."""


class ServiceNowStagingTimeout(ServiceNowError):
    """Import set rows stayed pending past the poll timeout; their rows are NOT staged.

    `known` holds the outcomes read back before the timeout; `pending_refs` the rows still undecided.
    """

    def __init__(
        self,
        message: str,
        *,
        import_sets: Sequence[str],
        known: Sequence[StagingOutcome],
        pending_refs: Sequence[str],
    ) -> None:
        super().__init__(message)
        self.import_sets = list(import_sets)
        self.known = list(known)
        self.pending_refs = list(pending_refs)


class ServiceNowPreflightError(ServiceNowError):
    """The instance lacks what staging needs (a table, a column, a transform map, coalesce, a role): zbsn
    refuses to stage instead of polling for rows no transform will ever process. `report` says everything."""

    def __init__(self, report: PreflightReport) -> None:
        super().__init__(report.summary())
        self.report = report


def refused_read(exc: BaseException) -> bool:
    """True for a read the instance refused to the integration user (401/403 on the table): what zbsn works
    around for an optional master (users, currencies, supplier mappings); anything else stops the run."""
    return isinstance(exc, ServiceNowAPIError) and exc.status_code in (401, 403)
