"""ServiceNow records zbsn reads (masters) and the outcome of each staged row.

Values arrive as strings (sn-ref §2); reference fields as `{link, value}`. The client
flattens references to their sys_id before building these models.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class SNModel(BaseModel):
    model_config = ConfigDict(extra="ignore", populate_by_name=True)


class SNCostCenter(SNModel):
    """`cmn_cost_center`: invoice lines reference it by `account_number`."""

    sys_id: str
    name: str
    account_number: str | None = None
    code: str | None = None
    legal_entity: str | None = None  # sys_id of its sn_fin_legal_entity (empty: any)
    erp_source: str | None = None  # sys_id of its sn_fin_erp_source (empty: any)


class SNGLAccount(SNModel):
    """`sn_fin_gl_account`: invoice lines reference it by its number (the ledger account code)."""

    sys_id: str
    number: str
    name: str | None = None
    legal_entity: str | None = None  # "Entity": sys_id of its sn_fin_legal_entity (empty: any)
    erp_source: str | None = None  # sys_id of its sn_fin_erp_source (empty: any)


class SNSupplier(SNModel):
    """`sn_fin_supplier`: invoices reference it by ERP supplier code."""

    sys_id: str
    name: str
    supplier_code: str | None = None
    tax_id: str | None = None


class SNLegalEntity(SNModel):
    """`sn_fin_legal_entity`: invoices reference it by ERP company code."""

    sys_id: str
    name: str
    company_code: str | None = None
    currency: str | None = None
    erp_source: str | None = None  # sys_id of its sn_fin_erp_source: one ERP source per legal entity


class StagingStatus(StrEnum):
    """Per-row Import Set outcome (sn-ref §4.2)."""

    INSERTED = "inserted"
    UPDATED = "updated"
    IGNORED = "ignored"
    SKIPPED = "skipped"
    ERROR = "error"

    @property
    def is_success(self) -> bool:
        """Inserted, updated and ignored all mean the target holds this row's values."""
        return self in (StagingStatus.INSERTED, StagingStatus.UPDATED, StagingStatus.IGNORED)


class StagingRow(BaseModel):
    """One row to stage: the staging table's columns (names, `u_…`) and a caller reference to map back."""

    table: str
    values: dict[str, str]
    source_ref: str  # the caller's key (e.g. the audit external key) to map the outcome back


class StagingOutcome(BaseModel):
    """What ServiceNow did with one staged row; never assumed, always read back."""

    source_ref: str
    status: StagingStatus
    target_table: str | None = None
    target_sys_id: str | None = None
    staging_sys_id: str | None = None
    import_set: str | None = None
    message: str | None = None  # status_message / error_message
    raw: dict[str, Any] = Field(default_factory=dict)
