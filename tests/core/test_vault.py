"""The vault: secrets encrypted at rest, the key checked against the database, rotation all-or-nothing."""

from __future__ import annotations

import logging
import stat
from typing import Any

import pytest
import sqlalchemy as sa

from tests.conftest import MemoryKeyring
from zbsn.core import vault as vault_module
from zbsn.core.connections import ConnectionRepository
from zbsn.core.db.models import Connection
from zbsn.core.domain import ConnectionKind
from zbsn.core.vault import (
    KEYRING_USERNAME,
    PENDING_KEYRING_USERNAME,
    KeySource,
    MasterKeyInvalid,
    Vault,
    VaultKeyMismatch,
    VaultKeyMissing,
    VaultRotationRefused,
    VaultTokenInvalid,
    decode_key,
    encode_key,
    generate_key,
    key_file_path,
    open_vault,
)

REFRESH_TOKEN = "1000.0f1e2d3c4b5a69788796a5b4c3d2e1f0.00112233445566778899aabbccddeeff"
CLIENT_SECRET = "zoho-client-secret-9c1d"
SN_SECRET = "servicenow-client-secret-77ab"
SN_ACCESS = "sn-access-token-5e5e5e5e"
PLAINTEXTS = (REFRESH_TOKEN, CLIENT_SECRET, SN_SECRET, SN_ACCESS)


def _raw_secrets(engine: sa.Engine) -> list[tuple[Any, ...]]:
    """Every *_enc column and the vault check value, straight from SQL."""
    with engine.connect() as conn:
        rows = conn.execute(
            sa.text(
                "SELECT id, client_secret_enc, refresh_token_enc, access_token_enc"
                " FROM connection ORDER BY id"
            )
        ).all()
        meta = conn.execute(sa.text("SELECT id, key_id, check_value FROM vault_meta ORDER BY id")).all()
    return [tuple(row) for row in rows] + [tuple(row) for row in meta]


def _store_two_connections(engine: sa.Engine, vault: Vault) -> ConnectionRepository:
    repo = ConnectionRepository(engine, vault)
    zoho = repo.create(ConnectionKind.ZOHO, "Acme Books", dc="eu", organization_id="20061234")
    repo.set_secret(zoho, "refresh_token", REFRESH_TOKEN)
    repo.set_secret(zoho, "client_secret", CLIENT_SECRET)
    now = repo.create(ConnectionKind.SERVICENOW, "Acme Now", instance_url="https://acme.service-now.com")
    repo.set_secret(now, "client_secret", SN_SECRET)
    repo.set_secret(now, "access_token", SN_ACCESS)
    return repo


def _assert_no_plaintext(engine: sa.Engine) -> None:
    dump = repr(_raw_secrets(engine))
    for plaintext in PLAINTEXTS:
        assert plaintext not in dump


def test_secret_round_trips_and_the_column_holds_only_ciphertext(engine: sa.Engine) -> None:
    vault = open_vault(engine)
    repo = ConnectionRepository(engine, vault)
    zoho = repo.create(ConnectionKind.ZOHO, "Acme Books", dc="eu")
    repo.set_secret(zoho, "refresh_token", REFRESH_TOKEN)
    with engine.connect() as conn:
        stored = conn.execute(
            sa.text("SELECT refresh_token_enc FROM connection WHERE id = :id"), {"id": zoho.id}
        ).scalar_one()
    assert stored.startswith(f"v1:{vault.key_id}:")
    assert REFRESH_TOKEN not in stored
    reopened = ConnectionRepository(engine, open_vault(engine))
    assert reopened.get_secret(reopened.get_by_name("Acme Books"), "refresh_token") == REFRESH_TOKEN
    assert reopened.get_secret(zoho, "access_token") is None
    assert vault.encrypt("same") != vault.encrypt("same")  # random nonce


def test_all_secrets_of_two_connections_are_encrypted(engine: sa.Engine) -> None:
    repo = _store_two_connections(engine, open_vault(engine))
    _assert_no_plaintext(engine)
    listed = repo.list()
    assert [(c.kind, c.name) for c in listed] == [("zoho", "Acme Books"), ("servicenow", "Acme Now")]
    assert repo.get_secret(listed[1], "access_token") == SN_ACCESS


def test_repository_refuses_secrets_as_plain_columns(sqlite_engine: sa.Engine) -> None:
    repo = ConnectionRepository(sqlite_engine, open_vault(sqlite_engine))
    with pytest.raises(ValueError, match="refresh_token_enc"):
        repo.create(ConnectionKind.ZOHO, "Leaky", refresh_token_enc="plain")
    with pytest.raises(ValueError, match="unknown secret field"):
        repo.set_secret(repo.create(ConnectionKind.ZOHO, "Ok"), "password", "x")  # type: ignore[arg-type]


def test_wrong_key_fails_clearly_and_changes_nothing(
    engine: sa.Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    vault = open_vault(engine)
    assert vault.key_source is KeySource.FILE
    _store_two_connections(engine, vault)
    before = _raw_secrets(engine)
    key_file_before = key_file_path().read_bytes()

    monkeypatch.setenv("ZBSN_MASTER_KEY", encode_key(generate_key()))
    with pytest.raises(VaultKeyMismatch, match=f"encrypted under key {vault.key_id}. Nothing was changed"):
        open_vault(engine)
    wrong = Vault(decode_key(encode_key(generate_key()), "test"), KeySource.ENV)
    with pytest.raises(VaultKeyMismatch, match=f"encrypted under key {vault.key_id}"):
        wrong.decrypt(before[0][1])

    monkeypatch.delenv("ZBSN_MASTER_KEY")
    key_file_path().rename(key_file_path().with_suffix(".moved"))
    with pytest.raises(VaultKeyMissing, match="no data key was found"):
        open_vault(engine)
    assert not key_file_path().exists()  # no new key was generated over existing data

    assert _raw_secrets(engine) == before
    key_file_path().with_suffix(".moved").rename(key_file_path())
    assert key_file_path().read_bytes() == key_file_before
    assert (
        ConnectionRepository(engine, open_vault(engine)).get_secret(
            ConnectionRepository(engine).get_by_name("Acme Books"), "refresh_token"
        )
        == REFRESH_TOKEN
    )


def test_tampered_or_malformed_ciphertext_is_refused() -> None:
    vault = Vault(generate_key(), KeySource.FILE)
    token = vault.encrypt("secret")
    tampered = token[:-4] + ("AAAA" if not token.endswith("AAAA") else "BBBB")
    with pytest.raises(VaultTokenInvalid):
        vault.decrypt(tampered)
    with pytest.raises(VaultTokenInvalid):
        vault.decrypt("plain text")


def test_invalid_master_key_env_is_reported(engine: sa.Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ZBSN_MASTER_KEY", "dG9vIHNob3J0")
    with pytest.raises(MasterKeyInvalid, match="ZBSN_MASTER_KEY must decode to 32 bytes"):
        open_vault(engine)


def test_key_file_is_created_owner_only_and_logged(
    sqlite_engine: sa.Engine, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="zbsn.core.vault"):
        vault = open_vault(sqlite_engine)
    assert vault.key_source is KeySource.FILE
    assert stat.S_IMODE(key_file_path().stat().st_mode) == 0o600
    assert any(str(key_file_path()) in record.getMessage() for record in caplog.records)
    assert encode_key(generate_key()) not in key_file_path().read_text()
    assert open_vault(sqlite_engine).key_id == vault.key_id  # reused, not regenerated


def test_env_key_wins_and_no_file_is_created(
    sqlite_engine: sa.Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ZBSN_MASTER_KEY", encode_key(generate_key()))
    vault = open_vault(sqlite_engine)
    assert vault.key_source is KeySource.ENV
    assert not key_file_path().exists()


def test_keyring_is_used_when_a_real_backend_exists(
    sqlite_engine: sa.Engine, memory_keyring: MemoryKeyring
) -> None:
    vault = open_vault(sqlite_engine)
    assert vault.key_source is KeySource.KEYRING
    assert ("zbsn", KEYRING_USERNAME) in memory_keyring.entries
    assert not key_file_path().exists()
    _store_two_connections(sqlite_engine, vault)
    old_entry = memory_keyring.entries[("zbsn", KEYRING_USERNAME)]
    result = vault.rotate(sqlite_engine)
    assert memory_keyring.entries[("zbsn", KEYRING_USERNAME)] != old_entry
    assert ("zbsn", PENDING_KEYRING_USERNAME) not in memory_keyring.entries
    assert open_vault(sqlite_engine).key_id == result.new_key_id


def test_rotation_reencrypts_everything_and_retires_the_old_key(engine: sa.Engine) -> None:
    vault = open_vault(engine)
    repo = _store_two_connections(engine, vault)
    old_key = decode_key(key_file_path().read_text(), "test")
    old_id = vault.key_id

    result = vault.rotate(engine)

    assert result.old_key_id == old_id
    assert result.new_key_id != old_id
    assert result.secrets_reencrypted == 4
    assert vault.key_id == result.new_key_id  # the vault in hand switched keys
    raw = _raw_secrets(engine)
    tokens = [value for row in raw for value in row if isinstance(value, str) and value.startswith("v1:")]
    assert len(tokens) == 5  # four secrets and the check value
    assert all(token.startswith(f"v1:{result.new_key_id}:") for token in tokens)
    _assert_no_plaintext(engine)
    with pytest.raises(VaultKeyMismatch):
        Vault(old_key, KeySource.FILE).decrypt(tokens[0])
    fresh = open_vault(engine)
    assert fresh.key_id == result.new_key_id
    assert (
        ConnectionRepository(engine, fresh).get_secret(repo.get_by_name("Acme Now"), "client_secret")
        == SN_SECRET
    )
    assert not key_file_path().with_name("master.key.pending").exists()


def _assert_old_state_intact(
    engine: sa.Engine, before: list[tuple[Any, ...]], key_file: bytes, key_id: str
) -> None:
    assert _raw_secrets(engine) == before
    assert key_file_path().read_bytes() == key_file
    assert not key_file_path().with_name("master.key.pending").exists()
    reopened = open_vault(engine)
    assert reopened.key_id == key_id
    repo = ConnectionRepository(engine, reopened)
    assert repo.get_secret(repo.get_by_name("Acme Books"), "refresh_token") == REFRESH_TOKEN


def test_failure_while_reencrypting_leaves_the_old_state(
    engine: sa.Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    vault = open_vault(engine)
    _store_two_connections(engine, vault)
    before, key_file, old_id = _raw_secrets(engine), key_file_path().read_bytes(), vault.key_id
    real_encrypt = Vault.encrypt
    calls = 0

    def encrypt_then_fail(self: Vault, plaintext: str) -> str:
        nonlocal calls
        calls += 1
        if calls == 3:
            raise RuntimeError("injected failure mid-rotation")
        return real_encrypt(self, plaintext)

    monkeypatch.setattr(Vault, "encrypt", encrypt_then_fail)
    with pytest.raises(RuntimeError, match="injected failure"):
        vault.rotate(engine)
    monkeypatch.setattr(Vault, "encrypt", real_encrypt)

    assert calls == 3
    assert vault.key_id == old_id
    _assert_old_state_intact(engine, before, key_file, old_id)


def test_failed_commit_leaves_the_old_state(engine: sa.Engine) -> None:
    vault = open_vault(engine)
    _store_two_connections(engine, vault)
    before, key_file, old_id = _raw_secrets(engine), key_file_path().read_bytes(), vault.key_id

    def refuse_commit(_conn: sa.Connection) -> None:
        raise RuntimeError("injected commit failure")

    sa.event.listen(engine, "commit", refuse_commit)
    try:
        with pytest.raises(RuntimeError, match="injected commit failure"):
            vault.rotate(engine)
    finally:
        sa.event.remove(engine, "commit", refuse_commit)
    _assert_old_state_intact(engine, before, key_file, old_id)


def test_interrupted_key_promotion_is_finished_on_next_open(
    sqlite_engine: sa.Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    vault = open_vault(sqlite_engine)
    _store_two_connections(sqlite_engine, vault)
    old_key_file = key_file_path().read_bytes()

    def crash(_store: object) -> None:
        raise OSError("power cut while promoting the key")

    real_promote = vault_module._KeyStore.promote_pending
    monkeypatch.setattr(vault_module._KeyStore, "promote_pending", crash)
    with pytest.raises(OSError, match="power cut"):
        vault.rotate(sqlite_engine)
    monkeypatch.setattr(vault_module._KeyStore, "promote_pending", real_promote)
    assert key_file_path().read_bytes() == old_key_file  # database already re-encrypted, key not promoted

    recovered = open_vault(sqlite_engine)
    assert key_file_path().read_bytes() != old_key_file
    assert not key_file_path().with_name("master.key.pending").exists()
    repo = ConnectionRepository(sqlite_engine, recovered)
    assert repo.get_secret(repo.get_by_name("Acme Books"), "client_secret") == CLIENT_SECRET


def test_env_key_rotation_is_refused_unless_the_new_key_is_printed(
    sqlite_engine: sa.Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ZBSN_MASTER_KEY", encode_key(generate_key()))
    vault = open_vault(sqlite_engine)
    _store_two_connections(sqlite_engine, vault)
    before = _raw_secrets(sqlite_engine)
    with pytest.raises(VaultRotationRefused, match="--print-new-key"):
        vault.rotate(sqlite_engine)
    assert _raw_secrets(sqlite_engine) == before

    result = vault.rotate(sqlite_engine, allow_env_key_output=True)
    assert result.new_key_for_operator is not None
    with pytest.raises(VaultKeyMismatch):
        open_vault(sqlite_engine)  # the old env key no longer fits
    monkeypatch.setenv("ZBSN_MASTER_KEY", result.new_key_for_operator)
    assert open_vault(sqlite_engine).key_id == result.new_key_id
    assert not key_file_path().exists()


def test_connection_row_repr_after_storing_secrets_shows_no_ciphertext(sqlite_engine: sa.Engine) -> None:
    repo = _store_two_connections(sqlite_engine, open_vault(sqlite_engine))
    row = repo.get_by_name("Acme Books")
    assert isinstance(row, Connection)
    assert row.refresh_token_enc is not None
    assert row.refresh_token_enc not in repr(row)
    assert "Acme Books" in repr(row)
