"""Stored connections (Zoho Books organizations, ServiceNow instances): the one way to reach a connection row.

Every read and write of a `connection` row goes through `ConnectionRepository`: the workspace's services,
the token store and the vault's callers alike. Secrets go through the vault on the way in and out, so a
`*_enc` column never holds plain text. Listing needs no vault, so the console can show connections before
the key is unlocked; `ConnectionView` is what screens list, never a secret.
"""

from __future__ import annotations

import builtins
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Literal, get_args

import sqlalchemy as sa
from sqlmodel import Session, col, select

from zbsn.core.clock import utcnow
from zbsn.core.db.engine import session_scope
from zbsn.core.db.models import Connection
from zbsn.core.domain import ConnectionKind
from zbsn.core.redaction import redact
from zbsn.core.vault import SECRET_COLUMNS, Vault, VaultError
from zbsn.core.workspace_errors import WorkspaceError

SecretField = Literal["client_secret", "refresh_token", "access_token"]
SECRET_FIELDS: tuple[str, ...] = get_args(SecretField)
_PLAIN_COLUMNS = frozenset(Connection.model_fields) - set(SECRET_COLUMNS) - {"id", "kind", "name"}


class ConnectionNotFound(WorkspaceError, LookupError):
    """No connection with that id or name (an operator-facing `WorkspaceError`, and a `LookupError`)."""


@dataclass(frozen=True, slots=True)
class ConnectionView:
    """A connection as screens list it: never a secret."""

    id: int
    kind: str
    name: str
    state: str
    dc: str | None
    accounts_server: str | None
    api_domain: str | None
    organization_id: str | None
    organization_name: str | None
    time_zone: str | None
    currency_code: str | None
    instance_url: str | None
    client_id: str | None
    has_refresh_token: bool
    last_error: str | None


def connection_view(row: Connection) -> ConnectionView:
    """The secret-free view of a row (its last error redacted)."""
    assert row.id is not None
    return ConnectionView(
        id=row.id,
        kind=row.kind,
        name=row.name,
        state=row.state,
        dc=row.dc,
        accounts_server=row.accounts_server,
        api_domain=row.api_domain,
        organization_id=row.organization_id,
        organization_name=row.organization_name,
        time_zone=row.time_zone,
        currency_code=row.currency_code,
        instance_url=row.instance_url,
        client_id=row.client_id,
        has_refresh_token=row.refresh_token_enc is not None,
        last_error=redact(row.last_error) if row.last_error else None,
    )


def _secret_column(secret_field: str) -> str:
    if secret_field not in SECRET_FIELDS:
        raise ValueError(f"unknown secret field {secret_field!r}; expected one of {', '.join(SECRET_FIELDS)}")
    column = f"{secret_field}_enc"
    assert column in SECRET_COLUMNS
    return column


def _not_found(connection_id: int | None) -> ConnectionNotFound:
    return ConnectionNotFound(f"There is no connection {connection_id}.")


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

    def list(self, kind: ConnectionKind | None = None, *, order_by_id: bool = False) -> list[Connection]:
        """Every connection (optionally of one kind): Zoho first, then by name; or in creation order."""
        statement = select(Connection)
        if kind is not None:
            statement = statement.where(Connection.kind == kind)
        if order_by_id:
            statement = statement.order_by(col(Connection.id))
        else:
            statement = statement.order_by(col(Connection.kind).desc(), col(Connection.name))
        with Session(self.engine, expire_on_commit=False) as session:
            return list(session.exec(statement).all())

    def views(self, kind: ConnectionKind | None = None) -> builtins.list[ConnectionView]:
        """Every connection (optionally of one kind) in creation order, as screens list them."""
        return [connection_view(row) for row in self.list(kind, order_by_id=True)]

    def find(self, connection_id: int, *, session: Session | None = None) -> Connection | None:
        """The connection with this id, or None (inside the caller's `session` when given)."""
        if session is not None:
            return session.get(Connection, connection_id)
        with Session(self.engine, expire_on_commit=False) as own:
            return own.get(Connection, connection_id)

    def get(self, connection_id: int, *, session: Session | None = None) -> Connection:
        """The connection with this id; ConnectionNotFound otherwise."""
        row = self.find(connection_id, session=session)
        if row is None:
            raise _not_found(connection_id)
        return row

    def get_by_name(self, name: str) -> Connection:
        """The connection with this name; ConnectionNotFound otherwise."""
        with Session(self.engine, expire_on_commit=False) as session:
            row = session.exec(select(Connection).where(Connection.name == name)).first()
        if row is None:
            raise ConnectionNotFound(f"There is no connection named {name!r}.")
        return row

    def find_instance(self, instance_url: str) -> Connection | None:
        """The ServiceNow connection of this instance URL, if one is stored."""
        statement = (
            select(Connection)
            .where(Connection.kind == ConnectionKind.SERVICENOW)
            .where(Connection.instance_url == instance_url)
        )
        with Session(self.engine, expire_on_commit=False) as session:
            return session.exec(statement).first()

    def free_name(self, base: str) -> str:
        """`base`, or `base (2)`, `base (3)`, … whichever no connection has yet."""
        with Session(self.engine) as session:
            taken = set(session.exec(select(Connection.name)).all())
        if base not in taken:
            return base
        counter = 2
        while f"{base} ({counter})" in taken:
            counter += 1
        return f"{base} ({counter})"

    @contextmanager
    def edit(self, connection_id: int, *, lock: bool = False) -> Iterator[Connection]:
        """The row inside a transaction that commits what the block changed (row-locked when `lock`)."""
        with session_scope(self.engine) as session:
            row = session.get(Connection, connection_id, with_for_update=lock)
            if row is None:
                raise _not_found(connection_id)
            yield row
            session.add(row)

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
        with self.edit(connection.id, lock=True) as row:
            setattr(row, column, ciphertext)
            row.updated_at = utcnow()
        setattr(connection, column, ciphertext)
        connection.updated_at = row.updated_at

    def get_secret(self, connection: Connection, secret_field: SecretField) -> str | None:
        """The decrypted secret as stored now (None when unset); it is registered for log redaction."""
        column = _secret_column(secret_field)
        current = self.get(connection.id) if connection.id is not None else connection
        ciphertext: str | None = getattr(current, column)
        return None if ciphertext is None else self._require_vault().decrypt(ciphertext)
