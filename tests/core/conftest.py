"""Fixtures for the runtime tests: a profile row to hang webhooks and schedules on, and a test cipher."""

from __future__ import annotations

import base64
import hashlib
import secrets

import pytest
import sqlalchemy as sa

from zbsn.core.db.engine import session_scope
from zbsn.core.db.models import Connection, SyncProfile
from zbsn.core.domain import ConnectionKind
from zbsn.core.servicenow.requester import RetryPolicy

# ServiceNow's retry policy with its attempts but no waits between them: a test of an unreachable instance
# sees every retry happen, in milliseconds instead of the default backoff's ~28 s.
NO_WAIT_RETRY = RetryPolicy(wait_initial_s=0.0, wait_max_s=0.0, wait_jitter_s=0.0)


class XorCipher:
    """A reversible stand-in for the vault in unit tests: ciphertext never contains the plaintext."""

    def __init__(self) -> None:
        self.key = secrets.token_bytes(32)

    def _stream(self, nonce: bytes, length: int) -> bytes:
        out = b""
        counter = 0
        while len(out) < length:
            out += hashlib.sha256(self.key + nonce + counter.to_bytes(4, "big")).digest()
            counter += 1
        return out[:length]

    def encrypt(self, plaintext: str) -> str:
        data = plaintext.encode()
        nonce = secrets.token_bytes(12)
        body = bytes(a ^ b for a, b in zip(data, self._stream(nonce, len(data)), strict=True))
        return base64.urlsafe_b64encode(nonce + body).decode()

    def decrypt(self, ciphertext: str) -> str:
        raw = base64.urlsafe_b64decode(ciphertext.encode())
        nonce, body = raw[:12], raw[12:]
        return bytes(a ^ b for a, b in zip(body, self._stream(nonce, len(body)), strict=True)).decode()


@pytest.fixture
def cipher() -> XorCipher:
    return XorCipher()


def make_profile(db_engine: sa.Engine, name: str = "demo") -> int:
    """A Zoho connection, a ServiceNow connection and a profile pairing them; returns the profile id."""
    with session_scope(db_engine) as session:
        zoho = Connection(kind=ConnectionKind.ZOHO, name=f"{name}-zoho")
        now = Connection(kind=ConnectionKind.SERVICENOW, name=f"{name}-sn")
        session.add(zoho)
        session.add(now)
        session.flush()
        assert zoho.id is not None
        assert now.id is not None
        profile = SyncProfile(name=name, zoho_connection_id=zoho.id, servicenow_connection_id=now.id)
        session.add(profile)
        session.flush()
        assert profile.id is not None
        return profile.id


@pytest.fixture
def profile_id(engine: sa.Engine) -> int:
    return make_profile(engine)
