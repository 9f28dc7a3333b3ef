"""The loopback listener that catches the consent redirect."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from zbsn.core.zoho.errors import ZohoConsentError
from zbsn.core.zoho.redirect_catcher import RedirectCatcher


async def test_catches_code_location_server_and_state() -> None:
    async with RedirectCatcher() as catcher:
        assert catcher.redirect_uri.startswith("http://127.0.0.1:")
        waiting = asyncio.create_task(catcher.wait("s1", timeout_s=5))
        async with httpx.AsyncClient() as http:
            stray = await http.get(catcher.redirect_uri.replace("/callback", "/favicon.ico"))
            page = await http.get(
                catcher.redirect_uri,
                params={
                    "code": "1000.c",
                    "location": "in",
                    "accounts-server": "https://accounts.zoho.in",
                    "state": "s1",
                },
            )
        redirect = await waiting
    assert stray.status_code == 404
    assert page.status_code == 200
    assert "authorised" in page.text
    assert (redirect.code, redirect.location, redirect.accounts_server, redirect.state) == (
        "1000.c",
        "in",
        "https://accounts.zoho.in",
        "s1",
    )


async def test_a_foreign_state_is_refused() -> None:
    async with RedirectCatcher() as catcher:
        waiting = asyncio.create_task(catcher.wait("ours", timeout_s=5))
        async with httpx.AsyncClient() as http:
            await http.get(catcher.redirect_uri, params={"code": "c", "location": "us", "state": "theirs"})
        with pytest.raises(ZohoConsentError, match="state"):
            await waiting


async def test_times_out_without_a_redirect() -> None:
    async with RedirectCatcher() as catcher:
        with pytest.raises(TimeoutError):
            await catcher.wait("s", timeout_s=0.05)
