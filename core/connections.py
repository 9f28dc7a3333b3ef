"""Stored connections (Zoho Books organizations, ServiceNow instances): create, list, get, and their secrets.

Secrets go through the vault on the way in and out, so a `*_enc` column never holds plain text. Listing
needs no vault, so the console can show connections before the key is unlocked.
"""

from __future__ import annotations

from typing import Any, Literal, get_args

import sqlalchemy as sa
from sqlmodel import Session, select

from zbsn.core.clock import utcnow
from zbsn.core.db.engine import session_scope
from zbsn.core.db.models import Connection
from zbsn.core.domain import ConnectionKind
from zbsn.core.vault import SECRET_COLUMNS, Vault, VaultError

SecretField = Literal["client_secret", "refresh_token", "access_token"]
SECRET_FIELDS: tuple[str, ...] = get_args(SecretField)
_PLAIN_COLUMNS = frozenset(Connection.model_fields) - set(SECRET_COLUMNS) - {"id", "kind", "name"}


class ConnectionNotFound(LookupError):
    """No connection with that id or name."""


def _secret_column(secret_field: str) -> str:
    if secret_field not in SECRET_FIELDS:
        raise ValueError(f"unknown secret field {secret_field!r}; expected one of {', '.join(SECRET_FIELDS)}")
    column = f"{secret_field}_enc"
    assert column in SECRET_COLUMNS
    return column


class ConnectionRepository:
    """Connection rows of one database; secrets need the `vault`."""

    def __init__(self, engine: sa.Engine, vault: Vault | None = None) -> None:
        self.engine = engine
        self.vault = vault

    def create(self, kind: ConnectionKind | str, name: str, **attributes: Any) -> Connection:
        """Store a new connection. `attributes` are plain columns (dc, instance_url, …), never secrets."""
        kind = ConnectionKind(kind)
        unknown = set(attributes) - _PLAIN_COLUMNS
        if unknown:
            raise ValueError(f"not plain connection columns: {', '.join(sorted(unknown))} (use set_secret)")
        with session_scope(self.engine) as session:
            row = Connection(kind=kind.value, name=name, **attributes)
            session.add(row)
            session.flush()
            session.refresh(row)
            return row

    def list(self) -> list[Connection]:
        """Every connection, Zoho first, then by name."""
        with Session(self.engine, expire_on_commit=False) as session:
            statement = select(Connection).order_by(Connection.kind.desc(), Connection.name)  # type: ignore[attr-defined]
            return list(session.exec(statement).all())

    def get(self, connection_id: int) -> Connection:
        """The connection with this id; ConnectionNotFound otherwise."""
        with Session(self.engine, expire_on_commit=False) as session:
            row = session.get(Connection, connection_id)
        if row is None:
            raise ConnectionNotFound(f"no connection with id {connection_id}")
        return row

    def get_by_name(self, name: str) -> Connection:
        """The connection with this name; ConnectionNotFound otherwise."""
        with Session(self.engine, expire_on_commit=False) as session:
            row = session.exec(select(Connection).where(Connection.name == name)).first()
        if row is None:
            raise ConnectionNotFound(f"no connection named {name!r}")
        return row

    def _require_vault(self) -> Vault:
        if self.vault is None:
            raise VaultError("this repository was opened without a vault; secrets are unavailable")
        return self.vault

    def set_secret(self, connection: Connection, secret_field: SecretField, value: str | None) -> None:
        """Encrypt and store one secret (None clears it); `connection` is updated to match."""
        column = _secret_column(secret_field)
        ciphertext = None if value is None else self._require_vault().encrypt(value)
        if connection.id is None:
            raise ConnectionNotFound("the connection has not been stored yet")
        with session_scope(self.engine) as session:
            row = session.get(Connection, connection.id, with_for_update=True)
            if row is None:
                raise ConnectionNotFound(f"no connection with id {connection.id}")
            setattr(row, column, ciphertext)
            row.updated_at = utcnow()
            session.add(row)
        setattr(connection, column, ciphertext)
        connection.updated_at = row.updated_at

    def get_secret(self, connection: Connection, secret_field: SecretField) -> str | None:
        """The decrypted secret as stored now (None when unset); it is registered for log redaction."""
        column = _secret_column(secret_field)
        current = self.get(connection.id) if connection.id is not None else connection
        ciphertext: str | None = getattr(current, column)
        return None if ciphertext is None else self._require_vault().decrypt(ciphertext)
