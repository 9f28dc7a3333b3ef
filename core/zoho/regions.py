"""Zoho data centres (zoho-ref §1.1): `location` codes, accounts servers and API domains.

The client never derives its API base from the DC: it uses the `api_domain` persisted from the token
response. This table serves lookups (the DC of a consent redirect, labels for the TUI) and the default
server where consent starts.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

BOOKS_PATH = "/books/v3"


@dataclass(frozen=True, slots=True)
class Region:
    """One Zoho data centre as the real service names it."""

    location: str  # the `location` value on the OAuth redirect
    name: str
    accounts_server: str
    api_domain: str


# `location` codes for au/jp/ca/sa/uk are [CODE] and cn is [INF] in the reference; UK Books is [INF].
REGIONS: tuple[Region, ...] = (
    Region("us", "United States", "https://accounts.zoho.com", "https://www.zohoapis.com"),
    Region("eu", "Europe", "https://accounts.zoho.eu", "https://www.zohoapis.eu"),
    Region("in", "India", "https://accounts.zoho.in", "https://www.zohoapis.in"),
    Region("au", "Australia", "https://accounts.zoho.com.au", "https://www.zohoapis.com.au"),
    Region("jp", "Japan", "https://accounts.zoho.jp", "https://www.zohoapis.jp"),
    Region("ca", "Canada", "https://accounts.zohocloud.ca", "https://www.zohoapis.ca"),  # not zoho.ca
    Region("cn", "China", "https://accounts.zoho.com.cn", "https://www.zohoapis.com.cn"),
    Region("sa", "Saudi Arabia", "https://accounts.zoho.sa", "https://www.zohoapis.sa"),
    Region("uk", "United Kingdom", "https://accounts.zoho.uk", "https://www.zohoapis.uk"),
)
_BY_LOCATION = {region.location: region for region in REGIONS}

# Every DC but China may start consent at the US server and gets redirected; CN must start at its own
# server (zoho-ref §1.1, sister-product docs).
DEFAULT_CONSENT_SERVER = "https://accounts.zoho.com"


def _origin(url: str) -> str:
    parts = urlsplit(url.strip())
    return f"{parts.scheme.lower()}://{parts.netloc.lower()}"


def region_for_location(location: str) -> Region | None:
    """The region whose redirect `location` code is `location` (case-insensitive), if known."""
    return _BY_LOCATION.get(location.strip().lower())


def region_for_accounts_server(accounts_server: str) -> Region | None:
    """The region whose accounts server is `accounts_server` (scheme+host compared), if known."""
    wanted = _origin(accounts_server)
    return next((r for r in REGIONS if _origin(r.accounts_server) == wanted), None)


def consent_server_for(location: str | None = None, override: str | None = None) -> str:
    """Where to start consent: `override` (e.g. a sandbox URL) if given, CN's own server, else the US one."""
    if override:
        return override.rstrip("/")
    if location and location.strip().lower() == "cn":
        return _BY_LOCATION["cn"].accounts_server
    return DEFAULT_CONSENT_SERVER


def books_base_url(api_domain: str) -> str:
    """The Books v3 base URL on a token's `api_domain`."""
    return api_domain.rstrip("/") + BOOKS_PATH
