"""ServiceNow references resolved within the profile's legal entity and ERP source (issue 16, item 2).

An instance that serves several legal entities (or several ERPs) holds cost centers and GL accounts of each:
`cmn_cost_center` and `sn_fin_gl_account` carry a Legal entity and an ERP source (spo-cost-center-inbound-
table.md, spo-gl-account-inbound-table.md [C]). A Zoho cost center named like another entity's must not be
matched to it: the invoice would be coded to a cost center its legal entity cannot post to. So, before
matching, the masters keep only the records of the profile's legal entity and of that entity's ERP source
(one ERP source per legal entity, sn-ref §7.1), and those that name none (shared records, or an instance
whose tables lack the columns). A profile whose legal entity is not in ServiceNow is not scoped: its bills
fail MISSING_LEGAL_ENTITY anyway.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Protocol, TypeVar

from zbsn.core.engine.normalize import normalize_code
from zbsn.core.servicenow.models import SNLegalEntity


class _Scoped(Protocol):
    @property
    def legal_entity(self) -> str | None: ...
    @property
    def erp_source(self) -> str | None: ...


T = TypeVar("T", bound=_Scoped)


def profile_entity(legal_entities: Iterable[SNLegalEntity], company_code: str | None) -> SNLegalEntity | None:
    """The profile's legal entity (by ERP company code), None when it has none or ServiceNow lacks it."""
    if not company_code:
        return None
    wanted = normalize_code(company_code)
    return next((e for e in legal_entities if normalize_code(e.company_code or "") == wanted), None)


def in_scope(records: Iterable[T], entity: SNLegalEntity | None) -> list[T]:
    """The records a profile of `entity` may reference: its own, its ERP source's, and unscoped ones."""
    if entity is None:
        return list(records)
    return [
        r
        for r in records
        if (not r.legal_entity or r.legal_entity == entity.sys_id)
        and (not r.erp_source or not entity.erp_source or r.erp_source == entity.erp_source)
    ]
