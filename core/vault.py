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
import hashlib
import logging
import os
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any

import keyring
import keyring.errors
import sqlalchemy as sa
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from sqlmodel import Session, select

from zbsn.core.db.engine import session_scope
from zbsn.core.db.models import Connection, VaultMeta
from zbsn.core.paths import config_dir
from zbsn.core.redaction import register_secret

logger = logging.getLogger(__name__)

TOKEN_VERSION = "v1"  # noqa: S105 (a format tag, not a secret)
KEY_BYTES = 32
NONCE_BYTES = 12
MASTER_KEY_ENV = "ZBSN_MASTER_KEY"
KEYRING_USERNAME = "data-key"
PENDING_KEYRING_USERNAME = "data-key.pending"
KEY_FILE_NAME = "master.key"
PENDING_KEY_FILE_NAME = "master.key.pending"
CHECK_PLAINTEXT = "zbsn vault check value"
META_ROW_ID = 1
SECRET_COLUMNS: tuple[str, ...] = tuple(name for name in Connection.model_fields if name.endswith("_enc"))


class KeySource(StrEnum):
    """Where the data key was found."""

    ENV = "env"
    KEYRING = "keyring"
    FILE = "file"


class VaultError(Exception):
    """Base class for every vault failure."""


class VaultKeyMismatch(VaultError):
    """The available key is not the one the database's secrets were encrypted under."""


class VaultKeyMissing(VaultKeyMismatch):
    """No key was found, but the database already holds secrets encrypted under one."""


class MasterKeyInvalid(VaultError):
    """A key source holds something that is not a 32-byte urlsafe-base64 key."""


class VaultTokenInvalid(VaultError):
    """A ciphertext is malformed or fails authentication."""


class VaultRotationRefused(VaultError):
    """Rotation cannot store the new key where the current one comes from."""


# --- keys ------------------------------------------------------------------------------------------------


def generate_key() -> bytes:
    """A fresh random 256-bit data key."""
    return AESGCM.generate_key(bit_length=256)


def encode_key(key: bytes) -> str:
    """The text form of a key (as in ZBSN_MASTER_KEY, the keyring and the key file)."""
    return base64.urlsafe_b64encode(key).decode("ascii")


def decode_key(text: str, origin: str) -> bytes:
    """Parse a key's text form; `origin` names where it came from for the error message."""
    try:
        key = base64.urlsafe_b64decode(text.strip().encode("ascii"))
    except (binascii.Error, UnicodeEncodeError, ValueError) as exc:
        raise MasterKeyInvalid(f"{origin} is not urlsafe base64") from exc
    if len(key) != KEY_BYTES:
        raise MasterKeyInvalid(f"{origin} must decode to {KEY_BYTES} bytes, not {len(key)}")
    return key


def key_fingerprint(key: bytes) -> str:
    """A short, non-reversible identifier of a key."""
    return hashlib.sha256(b"zbsn-vault-key-id\x00" + key).hexdigest()[:16]


def key_file_path() -> Path:
    """The fallback key file."""
    return config_dir() / KEY_FILE_NAME


def _pending_key_file_path() -> Path:
    return config_dir() / PENDING_KEY_FILE_NAME


def keyring_backend_name() -> str:
    """Dotted name of the keyring backend in use (e.g. `keyring.backends.fail.Keyring`)."""
    backend = keyring.get_keyring()
    return f"{type(backend).__module__}.{type(backend).__qualname__}"


def keyring_usable() -> bool:
    """True when a real keyring backend exists (not the fail/null backend, not an empty chainer)."""
    from keyring.backends import chainer, fail

    backend = keyring.get_keyring()
    if isinstance(backend, fail.Keyring) or type(backend).__module__ == "keyring.backends.null":
        return False
    if isinstance(backend, chainer.ChainerBackend):
        return bool(backend.backends)
    return True


def _write_owner_only(path: Path, text: str, *, exclusive: bool) -> None:
    flags = os.O_WRONLY | os.O_CREAT | (os.O_EXCL if exclusive else os.O_TRUNC)
    fd = os.open(path, flags, 0o600)
    try:
        os.fchmod(fd, 0o600)
        os.write(fd, text.encode("ascii"))
        os.fsync(fd)
    finally:
        os.close(fd)


@dataclass(frozen=True)
class LocatedKey:
    """A data key and where it was found."""

    key: bytes = field(repr=False)
    source: KeySource
    location: str  # human description: the env var, keyring service/user, or file path


class _KeyStore:
    """Reads and writes one storable key source (keyring or file), including the pending slot."""

    def __init__(self, source: KeySource, service: str) -> None:
        self.source = source
        self.service = service

    @property
    def location(self) -> str:
        if self.source is KeySource.KEYRING:
            return f"keyring {self.service}/{KEYRING_USERNAME}"
        return str(key_file_path())

    def load(self, *, pending: bool = False) -> bytes | None:
        if self.source is KeySource.KEYRING:
            username = PENDING_KEYRING_USERNAME if pending else KEYRING_USERNAME
            text = keyring.get_password(self.service, username)
            return None if text is None else decode_key(text, f"keyring {self.service}/{username}")
        path = _pending_key_file_path() if pending else key_file_path()
        if not path.is_file():
            return None
        return decode_key(path.read_text(encoding="ascii"), str(path))

    def create(self, key: bytes) -> None:
        if self.source is KeySource.KEYRING:
            keyring.set_password(self.service, KEYRING_USERNAME, encode_key(key))
        else:
            _write_owner_only(key_file_path(), encode_key(key) + "\n", exclusive=True)

    def save_pending(self, key: bytes) -> None:
        if self.source is KeySource.KEYRING:
            keyring.set_password(self.service, PENDING_KEYRING_USERNAME, encode_key(key))
        else:
            _write_owner_only(_pending_key_file_path(), encode_key(key) + "\n", exclusive=False)

    def promote_pending(self) -> None:
        if self.source is KeySource.KEYRING:
            text = keyring.get_password(self.service, PENDING_KEYRING_USERNAME)
            if text is None:
                raise VaultError(f"pending key vanished from keyring {self.service}")
            keyring.set_password(self.service, KEYRING_USERNAME, text)
        else:
            os.replace(_pending_key_file_path(), key_file_path())
        self.discard_pending()

    def discard_pending(self) -> None:
        if self.source is KeySource.KEYRING:
            try:
                keyring.delete_password(self.service, PENDING_KEYRING_USERNAME)
            except keyring.errors.PasswordDeleteError:
                pass
        else:
            _pending_key_file_path().unlink(missing_ok=True)


def locate_key(keyring_service: str = "zbsn") -> LocatedKey | None:
    """The existing data key, looked up env → keyring → key file; None when there is none yet."""
    env_value = os.environ.get(MASTER_KEY_ENV)
    if env_value:
        return LocatedKey(decode_key(env_value, MASTER_KEY_ENV), KeySource.ENV, MASTER_KEY_ENV)
    if keyring_usable():
        store = _KeyStore(KeySource.KEYRING, keyring_service)
        key = store.load()
        if key is not None:
            return LocatedKey(key, KeySource.KEYRING, store.location)
    file_store = _KeyStore(KeySource.FILE, keyring_service)
    key = file_store.load()
    if key is not None:
        return LocatedKey(key, KeySource.FILE, file_store.location)
    return None


def planned_key_source(keyring_service: str = "zbsn") -> KeySource:
    """The source an existing key comes from, or where a new key would be created."""
    located = locate_key(keyring_service)
    if located is not None:
        return located.source
    return KeySource.KEYRING if keyring_usable() else KeySource.FILE


def _create_key(keyring_service: str) -> LocatedKey:
    source = KeySource.KEYRING if keyring_usable() else KeySource.FILE
    store = _KeyStore(source, keyring_service)
    key = generate_key()
    try:
        store.create(key)
    except FileExistsError:
        # Another process created the key file a moment ago: use that one.
        located = locate_key(keyring_service)
        if located is None:
            raise
        return located
    if source is KeySource.FILE:
        logger.warning(
            "no OS keyring backend (%s): created the data key file %s (mode 0600); "
            "back it up, losing it loses every stored secret",
            keyring_backend_name(),
            store.location,
        )
    else:
        logger.info("created a new data key in %s", store.location)
    return LocatedKey(key, source, store.location)


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
