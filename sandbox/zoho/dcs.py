"""Zoho data centres: the real hostnames (zoho-ref §1.1) and the loopback URLs the sandbox serves them on.

The sandbox listens on two loopback ports per DC: one plays `accounts.zoho.<tld>` (OAuth), the other plays
`www.zohoapis.<tld>` (the API domain, Books under `/books/v3`). The ASGI app tells them apart by the local
port of each connection.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class DataCentre:
    """One Zoho DC as the real service names it."""

    code: str  # the `location` value on the OAuth redirect
    name: str
    accounts_host: str  # e.g. "https://accounts.zoho.eu"
    api_domain: str  # e.g. "https://www.zohoapis.eu" (the token response's `api_domain`)


# `location` codes for au/jp/ca/sa/uk are [CODE] and cn is [INF] in the reference; UK Books is [INF].
DATA_CENTRES: dict[str, DataCentre] = {
    dc.code: dc
    for dc in (
        DataCentre("us", "United States", "https://accounts.zoho.com", "https://www.zohoapis.com"),
        DataCentre("eu", "Europe", "https://accounts.zoho.eu", "https://www.zohoapis.eu"),
        DataCentre("in", "India", "https://accounts.zoho.in", "https://www.zohoapis.in"),
        DataCentre("au", "Australia", "https://accounts.zoho.com.au", "https://www.zohoapis.com.au"),
        DataCentre("jp", "Japan", "https://accounts.zoho.jp", "https://www.zohoapis.jp"),
        # Canada's accounts server is zohocloud.ca, not zoho.ca [DOC].
        DataCentre("ca", "Canada", "https://accounts.zohocloud.ca", "https://www.zohoapis.ca"),
        DataCentre("cn", "China", "https://accounts.zoho.com.cn", "https://www.zohoapis.com.cn"),
        DataCentre("sa", "Saudi Arabia", "https://accounts.zoho.sa", "https://www.zohoapis.sa"),
        DataCentre("uk", "United Kingdom", "https://accounts.zoho.uk", "https://www.zohoapis.uk"),
    )
}
DC_CODES: tuple[str, ...] = tuple(DATA_CENTRES)
BOOKS_PATH = "/books/v3"


@dataclass(frozen=True, slots=True)
class DcUrls:
    """Where the sandbox serves one DC on loopback."""

    dc: str
    accounts_url: str  # plays DataCentre.accounts_host
    api_domain: str  # plays DataCentre.api_domain

    @property
    def books_base(self) -> str:
        """The Books v3 base URL on this DC's API domain."""
        return self.api_domain + BOOKS_PATH


@dataclass(frozen=True, slots=True)
class PortRole:
    """What a local port plays: which DC, and whether it is the accounts server or the API domain."""

    dc: str
    kind: str  # "accounts" | "api"


def assign_ports(ports: list[int]) -> dict[int, PortRole]:
    """Map 2 ports per DC: the first len(DC_CODES) are API domains, the rest accounts servers, in DC order."""
    if len(ports) != 2 * len(DC_CODES):
        raise ValueError(f"need {2 * len(DC_CODES)} ports, got {len(ports)}")
    roles: dict[int, PortRole] = {}
    for index, code in enumerate(DC_CODES):
        roles[ports[index]] = PortRole(code, "api")
        roles[ports[len(DC_CODES) + index]] = PortRole(code, "accounts")
    return roles
