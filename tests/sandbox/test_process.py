"""`zbsn sandbox` itself: its one JSON line, a printed self-client code that works, any data centre,
its conveniences, a clear refusal of a bad option, and a clean stop on SIGTERM."""

from __future__ import annotations

import subprocess
import sys

import httpx

from tests.external_sandbox import ExternalSandbox

REQUIRED = {
    "zoho_accounts_url",
    "zoho_client_id",
    "zoho_client_secret",
    "zoho_self_client_code",
    "zoho_organization_id",
    "servicenow_url",
    "servicenow_client_id",
    "servicenow_client_secret",
}


def exchange(info: dict[str, str], code: str) -> httpx.Response:
    """What a client does with a self-client code: POST it to the accounts server's token endpoint."""
    return httpx.post(
        f"{info['zoho_accounts_url']}/oauth/v2/token",
        data={
            "grant_type": "authorization_code",
            "code": code,
            "client_id": info["zoho_client_id"],
            "client_secret": info["zoho_client_secret"],
        },
        timeout=30,
    )


def test_one_json_line_a_working_code_in_any_data_centre_and_a_clean_stop() -> None:
    process = ExternalSandbox.start(
        "--bills", "20", "--seed", "3", "--zoho-dc", "ca", "--window-seconds", "5"
    )
    try:
        info = process.info
        assert set(info) >= REQUIRED
        assert info["zoho_dc"] == "ca"
        assert info["window_seconds"] == 5.0
        assert info["bills"] == 20
        first = exchange(info, info["zoho_self_client_code"]).json()
        assert first.get("access_token"), first  # the printed code is good for one exchange
        assert first["api_domain"] == info["zoho_api_domain"]
        assert exchange(info, info["zoho_self_client_code"]).json().get("error") == "invalid_code"

        more = subprocess.run(
            [sys.executable, "-m", "zbsn.core.cli.main", "sandbox", "self-client-code",
             "--zoho-admin", info["zoho_admin_url"]],
            capture_output=True, text=True, timeout=120, check=True,
        )  # fmt: skip
        assert exchange(info, more.stdout.strip()).json().get("access_token")

        # the organization answers at the Canadian API domain, with the token minted there
        orgs = httpx.get(
            f"{info['zoho_api_domain']}/books/v3/organizations",
            headers={"Authorization": f"Zoho-oauthtoken {first['access_token']}"},
            timeout=30,
        ).json()
        assert [o["organization_id"] for o in orgs["organizations"]] == [info["zoho_organization_id"]]
    finally:
        assert process.stop() == 0


def test_an_unknown_data_centre_is_refused_with_the_list() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "zbsn.core.cli.main", "sandbox", "--zoho-dc", "mars"],
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert done.returncode == 2
    said = " ".join(done.stderr.split())  # the terminal width may wrap it
    assert "unknown Zoho data centre 'mars'" in said
    assert "us, eu, in, au, jp, ca, cn, sa, uk" in said
    assert done.stdout == ""
