"""DbTokenStore: tokens round-trip through the vault and the database never holds them in plain text."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from zbsn.core.db.engine import session_scope
from zbsn.core.db.models import Connection
from zbsn.core.domain import ConnectionKind, ConnectionState
from zbsn.core.token_store import ConnectionNotFoundError, DbTokenStore
from zbsn.core.tokens import TokenSet

from .conftest import XorCipher

ACCESS = "1000.aaaabbbbccccddddeeeeffff00001111.22223333444455556666777788889999"
REFRESH = "1000.99998888777766665555444433332222.1111000022223333444455556666ffff"
CLIENT_SECRET = "demo-client-secret-0123456789"


def _connection(db_engine: sa.Engine) -> int:
    with session_scope(db_engine) as session:
        row = Connection(kind=ConnectionKind.ZOHO, name="zoho-test")
        session.add(row)
        session.flush()
        assert row.id is not None
        return row.id


def _raw_rows(db_engine: sa.Engine) -> str:
    with db_engine.connect() as conn:
        rows = conn.execute(sa.text("SELECT * FROM connection")).all()
    return repr([tuple(row) for row in rows])


async def test_round_trip_keeps_no_plain_text(engine: sa.Engine, cipher: XorCipher) -> None:
    store = DbTokenStore(engine, cipher, _connection(engine))
    assert await store.load() is None
    expires = datetime(2030, 1, 1, 12, 0, tzinfo=UTC)
    tokens = TokenSet(
        access_token=ACCESS,
        expires_at=expires,
        refresh_token=REFRESH,
        api_domain="https://www.zohoapis.eu",
        accounts_server="https://accounts.zoho.eu",
        dc="eu",
    )
    await store.save(tokens)
    store.set_client_secret("1000.CLIENT", CLIENT_SECRET)

    loaded = await DbTokenStore(engine, cipher, store.connection_id).load()
    assert loaded == tokens
    assert store.client_secret() == CLIENT_SECRET

    raw = _raw_rows(engine)
    for secret in (ACCESS, REFRESH, CLIENT_SECRET):
        assert secret not in raw
    assert "https://www.zohoapis.eu" in raw  # the non-secret facts are plain columns
    with session_scope(engine) as session:
        row = session.get(Connection, store.connection_id)
        assert row is not None
        assert row.state == ConnectionState.CONNECTED
        assert row.last_refresh_at is not None
        assert row.dc == "eu"


async def test_refresh_keeps_the_refresh_token_and_moves_last_refresh(
    engine: sa.Engine, cipher: XorCipher
) -> None:
    store = DbTokenStore(engine, cipher, _connection(engine))
    first = TokenSet(access_token=ACCESS, expires_at=datetime.now(UTC), refresh_token=REFRESH, dc="us")
    await store.save(first)
    refreshed_at_first = store.expires_at()
    new_access = "1000.11111111111111111111111111111111.22222222222222222222222222222222"
    later = datetime.now(UTC) + timedelta(hours=1)
    # A client saving only a new access token (refresh responses carry no refresh token).
    await store.save(TokenSet(access_token=new_access, expires_at=later, dc="us"))
    loaded = await store.load()
    assert loaded is not None
    assert loaded.access_token == new_access
    assert loaded.refresh_token == REFRESH
    assert store.expires_at() == later != refreshed_at_first


async def test_state_and_clear(engine: sa.Engine, cipher: XorCipher) -> None:
    store = DbTokenStore(engine, cipher, _connection(engine))
    await store.save(TokenSet(access_token=ACCESS, refresh_token=REFRESH))
    store.set_state(ConnectionState.REAUTH, "refresh token revoked")
    store.clear_tokens()
    assert await store.load() is None
    with session_scope(engine) as session:
        row = session.get(Connection, store.connection_id)
        assert row is not None
        assert row.state == ConnectionState.REAUTH
        assert row.last_error == "refresh token revoked"


async def test_missing_connection_is_an_error(sqlite_engine: sa.Engine, cipher: XorCipher) -> None:
    with pytest.raises(ConnectionNotFoundError):
        await DbTokenStore(sqlite_engine, cipher, 999).load()


async def test_with_the_real_vault(engine: sa.Engine) -> None:
    from zbsn.core.vault import KeySource, Vault, generate_key

    vault = Vault(generate_key(), KeySource.FILE)
    store = DbTokenStore(engine, vault, _connection(engine))
    await store.save(TokenSet(access_token=ACCESS, refresh_token=REFRESH, dc="in"))
    store.set_client_secret("1000.CLIENT", CLIENT_SECRET)
    raw = _raw_rows(engine)
    assert ACCESS not in raw
    assert REFRESH not in raw
    assert CLIENT_SECRET not in raw
    assert vault.key_id in raw  # the columns hold vault tokens (header names the key)
    loaded = await store.load()
    assert loaded is not None
    assert (loaded.access_token, loaded.refresh_token, loaded.dc) == (ACCESS, REFRESH, "in")
