"""The DC table and where consent starts."""

from __future__ import annotations

import pytest

from zbsn.core.zoho.regions import (
    REGIONS,
    books_base_url,
    consent_server_for,
    region_for_accounts_server,
    region_for_location,
)


def test_nine_dcs_with_canada_on_zohocloud() -> None:
    assert [r.location for r in REGIONS] == ["us", "eu", "in", "au", "jp", "ca", "cn", "sa", "uk"]
    canada = region_for_location("CA")
    assert canada is not None
    assert canada.accounts_server == "https://accounts.zohocloud.ca"
    assert canada.api_domain == "https://www.zohoapis.ca"


@pytest.mark.parametrize("region", REGIONS, ids=lambda r: r.location)
def test_lookups_are_inverse(region) -> None:  # type: ignore[no-untyped-def]
    assert region_for_location(region.location) is region
    assert region_for_accounts_server(region.accounts_server + "/") is region


def test_unknown_lookups_return_none() -> None:
    assert region_for_location("mars") is None
    assert region_for_accounts_server("https://accounts.zoho.ca") is None  # the wrong Canadian host


def test_consent_starts_at_us_except_china_or_an_override() -> None:
    assert consent_server_for() == "https://accounts.zoho.com"
    assert consent_server_for("eu") == "https://accounts.zoho.com"
    assert consent_server_for("cn") == "https://accounts.zoho.com.cn"
    assert consent_server_for("cn", override="http://127.0.0.1:9000/") == "http://127.0.0.1:9000"


def test_books_base_url_comes_from_api_domain() -> None:
    assert books_base_url("https://www.zohoapis.com.au/") == "https://www.zohoapis.com.au/books/v3"
