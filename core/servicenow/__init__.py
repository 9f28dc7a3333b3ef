"""ServiceNow side of zbsn: OAuth, safe encoded queries, master reads, Import Set staging, the pre-flight, and
what happens to an invoice after staging (status, exceptions, import errors, outbound posting)."""

from zbsn.core.servicenow.auth import ServiceNowAuth
from zbsn.core.servicenow.client import ServiceNowClient
from zbsn.core.servicenow.errors import (
    ServiceNowAPIError,
    ServiceNowConfigError,
    ServiceNowError,
    ServiceNowPreflightError,
    ServiceNowProtocolError,
    ServiceNowRateLimited,
    ServiceNowReauthorize,
    ServiceNowServerError,
    ServiceNowStagingTimeout,
)
from zbsn.core.servicenow.query import EncodedQuery, escape_value
from zbsn.core.servicenow.requester import RetryPolicy

__all__ = [
    "EncodedQuery",
    "RetryPolicy",
    "ServiceNowAPIError",
    "ServiceNowAuth",
    "ServiceNowClient",
    "ServiceNowConfigError",
    "ServiceNowError",
    "ServiceNowPreflightError",
    "ServiceNowProtocolError",
    "ServiceNowRateLimited",
    "ServiceNowReauthorize",
    "ServiceNowServerError",
    "ServiceNowStagingTimeout",
    "escape_value",
]
