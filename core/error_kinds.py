"""What an error means for the operator: re-authorise, wait, the system is unreachable, or something else.

The CLI turns the answer into an exit code and the console into a badge; nothing here looks at messages,
only at the type of the exception.
"""

from __future__ import annotations

import asyncio
from typing import Literal

import httpx

from zbsn.core.servicenow.errors import ServiceNowReauthorize
from zbsn.core.zoho.errors import ZohoAuthError, ZohoTokenThrottled, ZohoTransportError

ErrorKind = Literal["reauthorise", "wait", "unreachable", "other"]


def classify_error(exc: BaseException) -> ErrorKind:
    """What an error means for the operator: re-authorise, wait, the system is unreachable, or other."""
    if isinstance(exc, ZohoTokenThrottled):
        return "wait"
    if isinstance(exc, ZohoAuthError | ServiceNowReauthorize):
        return "reauthorise"  # includes a refused or timed-out consent
    if isinstance(exc, ZohoTransportError | httpx.TransportError | ConnectionError | asyncio.TimeoutError):
        return "unreachable"
    return "other"


__all__ = ["ErrorKind", "classify_error"]
