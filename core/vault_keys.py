"""The data key: where it lives (env, OS keyring, key file), how it is made, found, and replaced.

`zbsn.core.vault` encrypts with the key; this module only stores and locates it. A pending key (rotation)
sits next to the current one until the rotation's transaction commits.
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

import keyring
import keyring.errors
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from zbsn.core.paths import config_dir

# The vault's own logger name: operators filter on it, and key creation is part of opening the vault.
logger = logging.getLogger("zbsn.core.vault")

KEY_BYTES = 32
MASTER_KEY_ENV = "ZBSN_MASTER_KEY"
KEYRING_USERNAME = "data-key"
PENDING_KEYRING_USERNAME = "data-key.pending"
KEY_FILE_NAME = "master.key"
PENDING_KEY_FILE_NAME = "master.key.pending"


class KeySource(StrEnum):
    """Where the data key was found."""

    ENV = "env"
    KEYRING = "keyring"
    FILE = "file"


class VaultError(Exception):
    """Base class for every vault failure."""


class MasterKeyInvalid(VaultError):
    """A key source holds something that is not a 32-byte urlsafe-base64 key."""


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
