"""Secrets at rest: AES-256-GCM under one data key, with a check value that proves the key is the right one.

Ciphertext format: `v1:<key_id>:<urlsafe-b64(nonce || ciphertext+tag)>`; `v1:<key_id>` is authenticated as
associated data. `key_id` is a fingerprint of the key, never the key.

Where the data key comes from, first match wins:
1. `ZBSN_MASTER_KEY` (urlsafe base64 of 32 bytes), source "env";
2. the OS keyring (service from settings, user "data-key") when a real backend exists, source "keyring";
3. the key file `config_dir()/master.key` (mode 0600), source "file": the explicit fallback.
A new key is generated only when none exists AND the database holds no secrets; it goes to the keyring when
one is usable, otherwise to the key file (and that is logged). A key that does not match the database's
check value raises `VaultKeyMismatch` and changes nothing.

Rotation re-encrypts every secret in one transaction. The new key is first saved as *pending* next to the
old one, promoted only after the commit, and discarded if anything fails before; if promotion itself fails,
`open_vault` finds the pending key that matches the database and finishes the job.
"""

from __future__ import annotations

import base64
import binascii
import logging
import os
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from sqlmodel import Session, select

from zbsn.core.db.engine import session_scope
from zbsn.core.db.models import Connection, VaultMeta
from zbsn.core.redaction import register_secret
from zbsn.core.vault_keys import (
    KEY_BYTES,
    KEYRING_USERNAME,
    MASTER_KEY_ENV,
    PENDING_KEYRING_USERNAME,
    KeySource,
    LocatedKey,
    MasterKeyInvalid,
    VaultError,
    _create_key,
    _KeyStore,
    decode_key,
    encode_key,
    generate_key,
    key_file_path,
    key_fingerprint,
    keyring_backend_name,
    keyring_usable,
    locate_key,
    planned_key_source,
)

# The key's storage lives in vault_keys; these names stay importable from here, where callers look first.
__all__ = [
    "KEYRING_USERNAME",
    "MASTER_KEY_ENV",
    "PENDING_KEYRING_USERNAME",
    "SECRET_COLUMNS",
    "KeySource",
    "LocatedKey",
    "MasterKeyInvalid",
    "RotationResult",
    "Vault",
    "VaultError",
    "VaultHealth",
    "VaultKeyMismatch",
    "VaultKeyMissing",
    "VaultRotationRefused",
    "VaultTokenInvalid",
    "check_vault",
    "decode_key",
    "encode_key",
    "generate_key",
    "key_file_path",
    "keyring_backend_name",
    "keyring_usable",
    "locate_key",
    "open_vault",
    "planned_key_source",
]

logger = logging.getLogger(__name__)

TOKEN_VERSION = "v1"  # noqa: S105 (a format tag, not a secret)
NONCE_BYTES = 12
CHECK_PLAINTEXT = "zbsn vault check value"
META_ROW_ID = 1
SECRET_COLUMNS: tuple[str, ...] = tuple(name for name in Connection.model_fields if name.endswith("_enc"))


class VaultKeyMismatch(VaultError):
    """The available key is not the one the database's secrets were encrypted under."""


class VaultKeyMissing(VaultKeyMismatch):
    """No key was found, but the database already holds secrets encrypted under one."""


class VaultTokenInvalid(VaultError):
    """A ciphertext is malformed or fails authentication."""


class VaultRotationRefused(VaultError):
    """Rotation cannot store the new key where the current one comes from."""


# --- the vault -------------------------------------------------------------------------------------------


class Vault:
    """Encrypts and decrypts secrets under one data key; `open_vault` gives one checked against the DB."""

    def __init__(self, key: bytes, key_source: KeySource, keyring_service: str = "zbsn") -> None:
        if len(key) != KEY_BYTES:
            raise MasterKeyInvalid(f"a data key is {KEY_BYTES} bytes, not {len(key)}")
        self._aead = AESGCM(key)
        self.key_id = key_fingerprint(key)
        self.key_source = key_source
        self.keyring_service = keyring_service

    def __repr__(self) -> str:
        return f"Vault(key_id={self.key_id!r}, key_source={self.key_source.value!r})"

    def _header(self) -> str:
        return f"{TOKEN_VERSION}:{self.key_id}"

    def encrypt(self, plaintext: str) -> str:
        """Ciphertext of `plaintext` under this vault's key (a fresh random nonce every time)."""
        nonce = os.urandom(NONCE_BYTES)
        header = self._header()
        sealed = self._aead.encrypt(nonce, plaintext.encode("utf-8"), header.encode("ascii"))
        return f"{header}:{base64.urlsafe_b64encode(nonce + sealed).decode('ascii')}"

    def decrypt(self, token: str) -> str:
        """The plaintext of `token`; the value is registered for log redaction.

        Raises VaultKeyMismatch when `token` was made under another key, VaultTokenInvalid when it is
        malformed or tampered with.
        """
        version, key_id, body = _split_token(token)
        if key_id != self.key_id:
            raise VaultKeyMismatch(
                f"this secret was encrypted under key {key_id}, but the current key is {self.key_id} "
                f"(from {self.key_source.value}); nothing was changed"
            )
        try:
            raw = base64.urlsafe_b64decode(body.encode("ascii"))
            plaintext = self._aead.decrypt(
                raw[:NONCE_BYTES], raw[NONCE_BYTES:], f"{version}:{key_id}".encode("ascii")
            ).decode("utf-8")
        except (binascii.Error, ValueError, InvalidTag) as exc:
            raise VaultTokenInvalid(f"a secret under key {key_id} fails authentication") from exc
        register_secret(plaintext)
        return plaintext

    def rotate(self, engine: sa.Engine, *, allow_env_key_output: bool = False) -> RotationResult:
        """Re-encrypt every secret and the check value under a new key, in one transaction.

        On success this vault switches to the new key, which is stored where the old one was (keyring or
        file). A key from ZBSN_MASTER_KEY cannot be stored by zbsn: rotation is refused unless
        `allow_env_key_output`, in which case the result carries the new key for the operator to set.
        If anything fails, the old key and the old ciphertexts stay as they were.
        """
        if self.key_source is KeySource.ENV and not allow_env_key_output:
            raise VaultRotationRefused(
                f"the key comes from {MASTER_KEY_ENV}, where zbsn cannot store a new one; rerun with "
                "--print-new-key and set the printed key before the next start"
            )
        new_key = generate_key()
        successor = Vault(new_key, self.key_source, self.keyring_service)
        store = None if self.key_source is KeySource.ENV else _KeyStore(self.key_source, self.keyring_service)
        if store is not None:
            store.save_pending(new_key)
        try:
            with session_scope(engine) as session:
                count = _reencrypt_all(session, self, successor)
        except BaseException:
            if store is not None:
                store.discard_pending()
            raise
        if store is not None:
            store.promote_pending()
        old_key_id = self.key_id
        self._aead, self.key_id = successor._aead, successor.key_id
        logger.info("rotated the data key %s -> %s (%d secrets)", old_key_id, self.key_id, count)
        return RotationResult(
            old_key_id=old_key_id,
            new_key_id=self.key_id,
            key_source=self.key_source,
            secrets_reencrypted=count,
            new_key_for_operator=encode_key(new_key) if store is None else None,
        )


@dataclass(frozen=True)
class RotationResult:
    """What `Vault.rotate` did."""

    old_key_id: str
    new_key_id: str
    key_source: KeySource
    secrets_reencrypted: int
    new_key_for_operator: str | None = field(default=None, repr=False)


def _split_token(token: str) -> tuple[str, str, str]:
    parts = token.split(":", 2)
    if len(parts) != 3 or parts[0] != TOKEN_VERSION:
        raise VaultTokenInvalid(f"not a {TOKEN_VERSION} vault ciphertext")
    return parts[0], parts[1], parts[2]


def token_key_id(token: str) -> str:
    """The key id a ciphertext was made under."""
    return _split_token(token)[1]


def _reencrypt_all(session: Session, old: Vault, new: Vault) -> int:
    count = 0
    rows = session.exec(select(Connection).order_by(Connection.id).with_for_update()).all()  # type: ignore[arg-type]
    for row in rows:
        for column in SECRET_COLUMNS:
            value = getattr(row, column)
            if value is not None:
                setattr(row, column, new.encrypt(old.decrypt(value)))
                count += 1
        session.add(row)
    meta = session.get(VaultMeta, META_ROW_ID, with_for_update=True)
    if meta is None:
        meta = VaultMeta(id=META_ROW_ID, key_id=new.key_id, check_value="")
    meta.key_id = new.key_id
    meta.check_value = new.encrypt(CHECK_PLAINTEXT)
    session.add(meta)
    session.flush()
    return count


# --- opening against a database --------------------------------------------------------------------------


def _read_meta(engine: sa.Engine) -> VaultMeta | None:
    with Session(engine, expire_on_commit=False) as session:
        return session.get(VaultMeta, META_ROW_ID)


def _ciphertext_key_ids(engine: sa.Engine) -> set[str]:
    key_ids: set[str] = set()
    with Session(engine) as session:
        for row in session.exec(select(Connection)).all():
            for column in SECRET_COLUMNS:
                value: Any = getattr(row, column)
                if value:
                    key_ids.add(token_key_id(value))
    return key_ids


def _mismatch_message(located: LocatedKey | None, expected_key_id: str, service: str) -> str:
    found = (
        f"the key from {located.location} has id {key_fingerprint(located.key)}"
        if located
        else "no data key was found"
    )
    return (
        f"{found}, but the database's secrets are encrypted under key {expected_key_id}. Nothing was "
        f"changed. Provide the matching key via {MASTER_KEY_ENV}, the keyring entry {service}/"
        f"{KEYRING_USERNAME}, or {key_file_path()}; never delete the database's secrets to get past this."
    )


def _recover_pending(service: str, expected_key_id: str) -> LocatedKey | None:
    """Finish a rotation whose commit succeeded but whose key promotion did not."""
    sources = [KeySource.KEYRING, KeySource.FILE] if keyring_usable() else [KeySource.FILE]
    for source in sources:
        store = _KeyStore(source, service)
        pending = store.load(pending=True)
        if pending is not None and key_fingerprint(pending) == expected_key_id:
            store.promote_pending()
            logger.warning(
                "finished an interrupted key rotation: promoted the pending key in %s", store.location
            )
            return LocatedKey(pending, source, store.location)
    return None


def open_vault(engine: sa.Engine, keyring_service: str = "zbsn") -> Vault:
    """The vault for this database, its key verified against the stored check value.

    Creates a key (and the check value) only for a database that holds no secrets yet. Raises
    VaultKeyMismatch / VaultKeyMissing when the key does not fit, without modifying anything.
    """
    meta = _read_meta(engine)
    located = locate_key(keyring_service)
    expected = meta.key_id if meta is not None else None
    if expected is None:
        foreign = _ciphertext_key_ids(engine) - ({key_fingerprint(located.key)} if located else set())
        if foreign:
            error = VaultKeyMismatch if located else VaultKeyMissing
            raise error(_mismatch_message(located, ", ".join(sorted(foreign)), keyring_service))
    elif located is None or key_fingerprint(located.key) != expected:
        from_env = located is not None and located.source is KeySource.ENV
        recovered = None if from_env else _recover_pending(keyring_service, expected)
        if recovered is None:
            error = VaultKeyMismatch if located else VaultKeyMissing
            raise error(_mismatch_message(located, expected, keyring_service))
        located = recovered
    if located is None:
        located = _create_key(keyring_service)
    vault = Vault(located.key, located.source, keyring_service)
    if meta is None:
        _store_check_value(engine, vault)
    elif vault.decrypt(meta.check_value) != CHECK_PLAINTEXT:
        raise VaultKeyMismatch(
            f"the check value under key {vault.key_id} does not match; nothing was changed"
        )
    return vault


def _store_check_value(engine: sa.Engine, vault: Vault) -> None:
    try:
        with session_scope(engine) as session:
            session.add(
                VaultMeta(id=META_ROW_ID, key_id=vault.key_id, check_value=vault.encrypt(CHECK_PLAINTEXT))
            )
    except sa.exc.IntegrityError:
        # Another process stored its check value first: ours must agree with it.
        meta = _read_meta(engine)
        if meta is None or meta.key_id != vault.key_id:
            raise VaultKeyMismatch(
                _mismatch_message(None, meta.key_id if meta else "?", vault.keyring_service)
            ) from None


@dataclass(frozen=True)
class VaultHealth:
    """The outcome of `check_vault`."""

    ok: bool
    detail: str


def check_vault(engine: sa.Engine, keyring_service: str = "zbsn") -> VaultHealth:
    """Read-only check for `zbsn doctor`: does the available key fit the database's secrets?"""
    try:
        meta = _read_meta(engine)
        located = locate_key(keyring_service)
    except (VaultError, sa.exc.SQLAlchemyError) as exc:
        return VaultHealth(False, str(exc))
    if meta is None:
        if located is None:
            return VaultHealth(True, "no secrets stored yet; a key is created on first use")
        return VaultHealth(True, f"key {key_fingerprint(located.key)} ready; no secrets stored yet")
    if located is None or key_fingerprint(located.key) != meta.key_id:
        return VaultHealth(False, _mismatch_message(located, meta.key_id, keyring_service))
    return VaultHealth(True, f"key {meta.key_id} matches the database")
