"""Exceptions raised by the Zoho Books client, grouped by what the operator or the engine must do.

- `ZohoReauthorize`: operator action (consent again, fix client id/secret, scopes or data centre);
- `ZohoTokenThrottled`: wait until `retry_at`, never retry the token endpoint before then;
- `ZohoApiError` / `ZohoNotFound`: Zoho answered with an error envelope;
- `ZohoDailyLimitExceeded`: the org's daily quota is spent until `reset_at`;
- `ZohoTransportError`: the network or Zoho's servers failed even after bounded retries.
"""

from __future__ import annotations

from datetime import datetime


class ZohoError(Exception):
    """Base class of every Zoho client error."""


class ZohoAuthError(ZohoError):
    """Something about the OAuth connection prevents calls."""


class ZohoReauthorize(ZohoAuthError):
    """The connection needs operator action: re-consent, or fix the client credentials / scopes / DC."""

    def __init__(self, message: str, *, error: str | None = None) -> None:
        super().__init__(message)
        self.error = error  # Zoho's `error` value when the token endpoint gave one (e.g. "invalid_code")


class ZohoWrongDataCentre(ZohoReauthorize):
    """A token was sent to an API domain other than the one it was minted for (Zoho answers 401 code 57)."""

    def __init__(self, request_origin: str, token_api_domain: str | None) -> None:
        super().__init__(
            f"401 code 57 from {request_origin}: this connection's token belongs to "
            f"{token_api_domain or 'an unknown API domain'}; use the api_domain stored with the token",
            error="wrong_data_centre",
        )
        self.request_origin = request_origin
        self.token_api_domain = token_api_domain


class ZohoConsentError(ZohoAuthError):
    """The consent redirect was refused by the user, or its `state` does not match ours."""


class ZohoTokenThrottled(ZohoAuthError):
    """Zoho's mint throttle ("Access Denied", HTTP 400): do not call the token endpoint until retry_at."""

    def __init__(self, message: str, *, retry_at: datetime) -> None:
        super().__init__(message)
        self.retry_at = retry_at


class ZohoTransportError(ZohoError):
    """The request did not get a usable answer (connection, timeout, 5xx) after the bounded retries."""


class ZohoApiError(ZohoError):
    """Zoho answered with an error envelope: HTTP status >= 400 and/or body `code != 0`."""

    def __init__(self, code: int | None, message: str, http_status: int) -> None:
        super().__init__(f"Zoho error {code} (HTTP {http_status}): {message}")
        self.code = code
        self.message = message
        self.http_status = http_status


class ZohoNotFound(ZohoApiError):
    """The entity does not exist (HTTP 404 and/or code 1002)."""


class ZohoRateLimited(ZohoApiError):
    """A 429 the budget could not absorb within its bounded retries."""


class ZohoDailyLimitExceeded(ZohoRateLimited):
    """The org's daily quota (code 45) is spent and the reset is further away than the budget will wait."""

    def __init__(self, message: str, *, reset_at: datetime | None) -> None:
        super().__init__(45, message, 429)
        self.reset_at = reset_at


class ZohoPaginationError(ZohoError):
    """A list walk that would never end: a repeated page, a wrong page number, or too many pages."""
