"""Seed the instance's master data from the demo Company (entries with exists_in_servicenow=False are left
out, so the demo has references to fix and replay)."""

from __future__ import annotations

from zbsn.sandbox.company import Company

from .config import DEMO_USER
from .exceptions import seed_definitions
from .state import Database

ERP_SOURCE_NAME = "Zoho Books"
DEFAULT_PAYMENT_TERM = "Net 30"  # [I] the seeded suppliers' payment term for the legal entity
CURRENCY_NAMES = {
    "GBP": "Pound Sterling",
    "EUR": "Euro",
    "USD": "US Dollar",
    "INR": "Indian Rupee",
    "AUD": "Australian Dollar",
    "CAD": "Canadian Dollar",
    "JPY": "Yen",
    "CHF": "Swiss Franc",
}


def seed_company(db: Database, company: Company) -> None:
    """Create users, currencies, ERP source, legal entity, locations, cost centers, GL accounts, suppliers
    with their legal-entity mapping (`sn_fin_supplier_detail`, no holds), and the exception definitions."""
    db.insert(
        "sys_user",
        {"user_name": DEMO_USER, "name": "zbsn Integration", "email": "zbsn@example.com", "active": "true"},
    )
    codes = list(
        dict.fromkeys(
            [*company.currencies, company.organization.currency_code, company.legal_entity.currency_code]
        )
    )
    currency_ids = {
        code: db.insert("fx_currency", {"code": code, "name": CURRENCY_NAMES.get(code, code)})["sys_id"]
        for code in codes
    }
    erp_source = db.insert(
        "sn_fin_erp_source",
        {
            "name": ERP_SOURCE_NAME,
            "description": f"Zoho Books organization {company.organization.organization_id}",
            "active": "true",
        },
    )["sys_id"]
    entity = company.legal_entity
    legal_entity = db.insert(
        "sn_fin_legal_entity",
        {
            "name": entity.name,
            "legal_name": entity.name,
            "erp_company_code": entity.company_code,
            "local_currency": currency_ids.get(entity.currency_code, ""),
            "reporting_currency": currency_ids.get(entity.currency_code, ""),
            "region": "EMEA",
            "erp_source": erp_source,
        },
    )["sys_id"]
    locations = {
        office.location_id: db.insert(
            "cmn_location", {"name": office.name, "city": office.city, "country": office.country}
        )["sys_id"]
        for office in company.offices
    }
    for center in company.cost_centers:
        if center.exists_in_servicenow:
            db.insert(
                "cmn_cost_center",
                {
                    "name": center.name,
                    "account_number": center.account_number,
                    "code": center.account_number,
                    "location": locations.get(center.office_location_id, ""),
                    "erp_source": erp_source,
                    "legal_entity": legal_entity,
                    "active": "true",
                },
            )
    for account in company.accounts:
        if account.exists_in_servicenow and account.code:
            db.insert(
                "sn_fin_gl_account",
                {
                    "number": account.code,
                    "name": account.name,
                    "currency": currency_ids.get(entity.currency_code, ""),
                    "type": account.account_type,
                    "legal_entity": legal_entity,
                    "erp_source": erp_source,
                    "active": "true",
                },
            )
    suppliers: list[str] = []  # the mapped ones
    for vendor in company.vendors:
        if vendor.exists_in_servicenow:
            supplier = db.insert(
                "sn_fin_supplier",
                {
                    "name": vendor.name,
                    "legal_name": vendor.name,
                    "erp_supplier_code": vendor.supplier_code,
                    "erp_company_code": entity.company_code,
                    "erp_source": erp_source,
                    "tax_id": vendor.tax_id,
                    "email": vendor.email,
                    "city": vendor.city,
                    "country": vendor.country,
                    "active": "true",
                },
            )
            if vendor.mapped_in_servicenow:
                suppliers.append(supplier["sys_id"])
    # after everything the seed held before, so the earlier records keep their sys_ids
    for supplier_sys_id in suppliers:
        db.insert(
            "sn_fin_supplier_detail",
            {
                "supplier": supplier_sys_id,
                "legal_entity": legal_entity,
                "payment_term": DEFAULT_PAYMENT_TERM,
                "hold_payment": "false",
                "hold_posting": "false",
            },
        )
    seed_definitions(db)
    for user in company.users:  # last, so the records above keep their sys_ids
        db.insert(
            "sys_user",
            {
                "user_name": user.user_name,
                "name": user.name,
                "email": user.email,
                "active": "true" if user.active else "false",
            },
        )
