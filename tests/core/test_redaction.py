"""Secrets never reach the log file, tracebacks or reprs."""

from __future__ import annotations

import logging
import stat
from pathlib import Path

import pytest

from zbsn.core.db.models import Connection
from zbsn.core.domain import ConnectionKind
from zbsn.core.logs import OwnerOnlyRotatingFileHandler, setup_logging
from zbsn.core.redaction import redact, register_secret
from zbsn.core.vault import KeySource, LocatedKey, RotationResult, Vault, encode_key, generate_key

ZOHO_TOKEN = "1000.8f1c0b1e2d3a4b5c6d7e8f9a0b1c2d3e.a1b2c3d4e5f60718293a4b5c6d7e8f90"


@pytest.mark.parametrize(
    ("text", "secret"),
    [
        (f"token {ZOHO_TOKEN} expired", ZOHO_TOKEN),
        ("Authorization: Zoho-oauthtoken abc.DEF-123", "abc.DEF-123"),
        ("headers={'Authorization': 'Bearer eyJhbGciOiJIUzI1NiJ9.e30.sig'}", "eyJhbGciOiJIUzI1NiJ9"),
        ("Authorization: Basic dXNlcjpwYXNzd29yZA==", "dXNlcjpwYXNzd29yZA"),
        ("POST /oauth/v2/token?refresh_token=r-tok-1&client_secret=cs-2&grant_type=x", "r-tok-1"),
        ("POST /oauth/v2/token?refresh_token=r-tok-1&client_secret=cs-2&grant_type=x", "cs-2"),
        ("GET /callback?code=grant-code-77&state=s", "grant-code-77"),
        ('{"access_token": "at-999", "api_domain": "https://www.zohoapis.eu"}', "at-999"),
        ('{"password":"p\\"w-1"}', 'p\\"w-1'),
        ("grant_type=password&username=u&password=hunter2x", "hunter2x"),
        ("postgresql://zbsn:db-pass-3@db/zbsn", "db-pass-3"),
    ],
)
def test_redact_removes_credentials(text: str, secret: str) -> None:
    cleaned = redact(text)
    assert secret not in cleaned
    assert "***" in cleaned


def test_redact_keeps_what_is_not_secret() -> None:
    text = '{"code": 57, "message": "You are not authorized"} grant_type=refresh_token error_code=44'
    assert redact(text) == text


def test_registered_secret_is_redacted_anywhere() -> None:
    assert "sn-client-secret-42" in redact("value sn-client-secret-42 here")
    register_secret("sn-client-secret-42")
    assert redact("value sn-client-secret-42 here") == "value *** here"


def _read_log(path: Path) -> str:
    for handler in logging.getLogger().handlers:
        handler.flush()
    return path.read_text(encoding="utf-8")


def test_log_file_lines_are_redacted(tmp_path: Path) -> None:
    path = setup_logging("DEBUG", tmp_path / "logs" / "zbsn.log")
    log = logging.getLogger("zbsn.test.http")
    log.info("refreshing at %s", f"https://accounts.zoho.eu/oauth/v2/token?refresh_token={ZOHO_TOKEN}")
    log.debug("sent Authorization: Zoho-oauthtoken %s", ZOHO_TOKEN)
    register_secret("runtime-registered-secret")
    log.warning("client secret was runtime-registered-secret")
    content = _read_log(path)
    assert "refreshing at https://accounts.zoho.eu/oauth/v2/token?refresh_token=***" in content
    assert "client secret was ***" in content
    assert ZOHO_TOKEN not in content
    assert "runtime-registered-secret" not in content


def test_logged_exception_message_and_traceback_are_redacted(tmp_path: Path) -> None:
    path = setup_logging("INFO", tmp_path / "zbsn.log")

    def refresh(token: str) -> None:
        raise RuntimeError(f"refresh refused for refresh_token={token} (Bearer {token})")

    try:
        refresh(ZOHO_TOKEN)
    except RuntimeError:
        logging.getLogger("zbsn.test").exception("refresh failed with %s", ZOHO_TOKEN)
    content = _read_log(path)
    assert "Traceback (most recent call last)" in content
    assert "RuntimeError: refresh refused for refresh_token=***" in content
    assert ZOHO_TOKEN not in content


def test_log_files_are_owner_only_including_after_rotation(tmp_path: Path) -> None:
    path = setup_logging("INFO", tmp_path / "zbsn.log")
    logging.getLogger("zbsn.test").info("first")
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    handler = next(h for h in logging.getLogger().handlers if isinstance(h, OwnerOnlyRotatingFileHandler))
    handler.doRollover()
    logging.getLogger("zbsn.test").info("second")
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE((tmp_path / "zbsn.log.1").stat().st_mode) == 0o600
    assert "first" in (tmp_path / "zbsn.log.1").read_text()


def test_logging_never_writes_to_stdout(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    setup_logging("DEBUG", tmp_path / "zbsn.log")
    logging.getLogger("zbsn.test").error("to the file only")
    assert capsys.readouterr().out == ""
    assert "to the file only" in _read_log(tmp_path / "zbsn.log")


def test_reprs_hide_secrets() -> None:
    connection = Connection(
        kind=ConnectionKind.ZOHO,
        name="Acme",
        client_secret_enc="v1:k:client-secret-cipher",
        refresh_token_enc="v1:k:refresh-cipher",
        access_token_enc="v1:k:access-cipher",
    )
    shown = repr(connection)
    assert "name='Acme'" in shown
    assert "cipher" not in shown
    key = generate_key()
    vault = Vault(key, KeySource.FILE)
    rotation = RotationResult("a", "b", KeySource.ENV, 0, new_key_for_operator=encode_key(key))
    for obj in (vault, LocatedKey(key, KeySource.FILE, "somewhere"), rotation):
        assert encode_key(key) not in repr(obj)
        assert str(key) not in repr(obj)
    assert vault.key_id in repr(vault)
