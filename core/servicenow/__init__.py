"""ServiceNow side of zbsn: OAuth, safe encoded queries, master reads and Import Set staging."""

from zbsn.core.servicenow.auth import ServiceNowAuth
from zbsn.core.servicenow.client import ServiceNowClient
from zbsn.core.servicenow.errors import (
    ServiceNowAPIError,
    ServiceNowConfigError,
    ServiceNowError,
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
    "ServiceNowProtocolError",
    "ServiceNowRateLimited",
    "ServiceNowReauthorize",
    "ServiceNowServerError",
    "ServiceNowStagingTimeout",
    "escape_value",
]
