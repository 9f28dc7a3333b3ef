"""A loopback ServiceNow Source-to-Pay instance: OAuth, Table API, Import Set API, S2P transforms, limits.

Facts come from docs/reference/servicenow.md; choices the sheet tags [I] are marked [I] in code.

Python API
----------
    from zbsn.sandbox.servicenow import create_servicenow_sandbox, ServiceNowSandboxConfig, RateLimitRule
    sandbox = create_servicenow_sandbox(company)          # seeded from a sandbox.company.Company
    sandbox.start(); sandbox.url                          # "http://127.0.0.1:<port>"; .stop() at the end
    sandbox.reset()                                       # reseed; forget tokens, counters, rate counts
    sandbox.advance_clock(1800)                           # tokens expire, rate windows roll
    sandbox.create_cost_center("CC-X", "Name")            # also create_gl_account(number, name),
                                                          # create_supplier(erp_supplier_code, name)
    sandbox.set_client_credentials(False)                 # grant switched off -> 401 server_error
    sandbox.set_oauth_client(id, secret); sandbox.set_user(name, pw); sandbox.set_token_lifespan(60)
    sandbox.set_faults(FaultConfig(fault_rate=.2, kinds=("503", "drop"), hibernating=False, seed=1))
    sandbox.set_rate_limits([RateLimitRule(limit=100, api="table")])
    sandbox.set_import_mode("sn_spend_intg_imp_invoice", mode="sync", column_mapping="name")
    sandbox.set_acl("sn_fin_supplier", {"create"})        # Table API operations refused with 403
    sandbox.counters_snapshot(); sandbox.table("sn_shop_invoice")
    # after staging (lifecycle.py, jobs.py): what the AP team and the instance's scheduled jobs do
    sandbox.run_job("invoice_processing")                 # the 30-minute job, now; "import_set_deleter"
    sandbox.validate_invoice(sys_id); sandbox.approve_invoice(sys_id); sandbox.send_to_erp(sys_id)
    sandbox.resolve_exception("sn_ap_apm_exception", sys_id, bypass_reason="")
    sandbox.set_supplier_detail("SUP-1", hold_payment=True)   # or remove=True: "Invalid or blocked supplier"
    sandbox.set_lifecycle(auto_approve=True, import_set_retention_days=7, ...)
    # metadata (metadata.py): what a pre-flight reads
    sandbox.remove_column(staging_table, "u_..."); sandbox.remove_transform_map(staging_table)
    sandbox.set_coalesce(staging_table, ()); sandbox.set_roles(DEMO_USER, {"import_transformer"})
The same controls exist as plain JSON under `/_admin/...` (see `admin.py`).

Demo credentials: client `zbsn-demo-client` / `zbsn-demo-secret`; user `zbsn.integration` /
`zbsn-demo-password` (also the client-credentials application user; that grant starts ON here, OFF on
real instances). Token: `POST /oauth_token.do` form-encoded; expires_in = lifespan - 1 (1799).

Seeded data: `sn_fin_erp_source` "Zoho Books"; `sn_fin_legal_entity` (erp_company_code = Company legal
entity code); `fx_currency` (code); `cmn_location`; `cmn_cost_center` (name, account_number, code,
location, ...); `sn_fin_gl_account` (number = ledger code, name, currency); `sn_fin_supplier` (name,
legal_name, erp_supplier_code, tax_id, ...). Entries with exists_in_servicenow=False are not seeded.
Table API create on `sn_fin_gl_account` is refused (403, ACL) as on a real instance.

Staging tables (column name -> label; insertMultiple keys by LABEL unless column_mapping="name"; the
single-row POST /api/now/import/{t} keys by column NAME)
----------------------------------------------------------------------------------------------------
sn_spend_intg_imp_invoice -> sn_shop_invoice ("Invoice import"); coalesce u_external_invoice_number +
  u_erp_source [I] (config.invoice_coalesce):
  u_external_invoice_number "External invoice number", u_external_invoice_source "External invoice source",
  u_erp_source "ERP source" (= "Zoho Books"), u_supplier_invoice_number "Supplier invoice number",
  u_supplier "Supplier" (ERP supplier code), u_invoice_date "Invoice date", u_due_date "Due date",
  u_currency "Currency" (ISO; a foreign currency's rate comes from sn_fin_fx_rate, see FX rates below),
  u_subtotal "Subtotal", u_shipping_amount "Shipping amount",
  u_other_charges "Other charges", u_discounts "Discounts", u_tax_amount "Tax amount",
  u_amount_invoiced "Amount invoiced", u_purchase_order "Purchase order", u_legal_entity "Legal entity"
  (ERP company code), u_invoice_type "Invoice type", u_business_owner "Business owner",
  u_erp_number "ERP number", u_invoice_line_count "Invoice line count", u_supplier_tax_id "Supplier tax id",
  u_payment_terms "Payment terms", u_short_description "Short description",
  u_invoice_state "Invoice state" ([I] "canceled" moves the invoice to state canceled),
  u_third_party_import_id "Third party import ID".
  New invoices land in state `draft` [I], channel `integration`.
sn_spend_intg_imp_invoice_line -> sn_shop_invoice_line ("Invoice line import"); coalesce header +
  u_erp_line_number: u_external_invoice_number "External invoice number" (header must exist, else error),
  u_erp_source "ERP source", u_erp_line_number "ERP line number", u_line_description "Line description",
  u_line_quantity "Line quantity", u_line_unit_price "Line unit price", u_line_amount_invoiced
  "Line amount invoiced", u_subtotal "Subtotal", u_tax_amount "Tax amount", u_cost_center "Cost center"
  (cmn_cost_center.account_number), u_gl_account "GL account" (sn_fin_gl_account.number), u_tax_code
  "Tax code", u_purchase_order_line "Purchase order line", u_supplier_part_number "Supplier part number",
  u_uom "Unit", u_currency "Currency".
sn_spend_intg_imp_invoice_tax_line -> sn_shop_invoice_tax_line; coalesce header + u_erp_line_number +
  u_tax_type: u_external_invoice_number "External invoice number", u_erp_source "ERP source",
  u_erp_line_number "ERP line number" (optional), u_tax_type "Tax type", u_tax_amount "Tax amount",
  u_taxable_amount "Taxable amount", u_supplier_tax_rate "Supplier tax rate", u_currency "Currency".
sn_spend_intg_imp_invoice_payment_detail -> sn_shop_invoice_payment_detail ("Invoice payment detail
  import"); coalesce u_payment_reference_id + u_erp_invoice_number: u_erp_invoice_number "ERP invoice
  number" (matches invoice erp_number, else external_invoice_number [I]), u_erp_supplier_code "ERP supplier
  code", u_erp_source "ERP source", u_currency "Currency", u_payment_amount "Payment amount",
  u_payment_date "Payment date", u_payment_method "Payment method" (bank_transfer, cash_payment, cheque,
  credit_card, debit_card, wire_transfer), u_payment_reference_id "Payment reference ID",
  u_scheduled_payment_date "Scheduled payment date", u_remit_to_street/_city/_state_or_province/
  _zip_or_postal_code/_country "Remit-to ...", u_third_party_import_id. Payments summing to the invoice's
  invoice_amount move it to `paid` (amount_paid rolls up). The ERP invoice number matches the invoice's
  ERP number (and ERP source), strictly.
References (supplier, cost center, GL account) resolve by number AND the row's ERP source.
sn_fcms_intg_imp_supplier -> sn_fin_supplier ("Master data supplier"); coalesce u_erp_supplier_code
  "ERP supplier code": u_name "Name", u_legal_name "Legal name", u_erp_company_code "ERP company code",
  u_erp_source "ERP source", u_tax_id "Tax id", u_payment_term "Payment term", u_email "Email", u_street
  "Street", u_city "City", u_state "State", u_zip "Zip", u_country "Country", u_website "Website",
  u_phone "Primary phone", u_status "Status" (active|inactive).
sn_fcms_intg_imp_cost_center -> cmn_cost_center ("Master data cost center"); coalesce u_account_number
  "Account number": u_name "Name", u_code "Code", u_cost_center_type "Cost center type", u_controlling_area
  "Controlling area", u_erp_source "ERP source", u_legal_entity "Legal entity", u_manager "Manager",
  u_profit_center "Profit center", u_valid_from "Valid from", u_valid_to "Valid to".
sn_fcms_intg_gl_account_stage -> sn_fin_gl_account ("GL account load data"); coalesce u_number "Number":
  u_account_name "Account name", u_account_currency "Account currency", u_category "Category", u_entity
  "Entity", u_erp_source "ERP source", u_gl_account "GL Account", u_inactive "Inactive", u_type "Type", ...
(The authoritative list is `schema.py`.)

Outcomes
--------
Statuses inserted | updated | ignored ("No field values changed") | skipped (a coalesce column empty) |
error (error_message, e.g. "Cost center 'CC-X' not found") - all inside HTTP 201. insertMultiple (async)
answers {import_set_id, multi_import_set_id}; read the rows with
  GET /api/now/table/sys_import_set_row?sysparm_query=sys_import_set=<import_set_id>^ORDERBYsys_import_row
fields: sys_import_row (0-based index of the record in `records`), sys_import_state (pending ->
inserted/updated/ignored/skipped/error), sys_import_state_comment (status or error text), sys_row_error
(a reference to `sys_import_set_row_error`: its display value is the reason), sys_target_table,
sys_target_sys_id, sys_transform_map, sys_class_name (the staging table). Errors of the invoice staging tables
are also written to `sn_spend_intg_import_error` (with the invoice they belong to [I]).
`sys_import_set/<id>` has state loading -> processed. Sync mode also returns result[] in record order.
A Table API POST into a staging table is transformed too and answers the staging row (sys_target_sys_id).
For skipped/error results `table`/`sys_id` name the staging row (there is no target) [I].

After staging (lifecycle.py, exceptions.py, jobs.py, deleter.py)
----------------------------------------------------------------
Invoices land in `draft`. Every 30 minutes of the sandbox clock (and on demand) a job runs the exception
engine on draft and exceptions_found invoices: "Missing required information", "Invalid or blocked supplier"
(no `sn_fin_supplier_detail` for supplier + legal entity, or a hold), "Invoice isn't balanced" (header) and
"Valid coding required" (line) go to `sn_ap_apm_exception` / `sn_ap_apm_line_exception` ("Missing or invalid
business owner" too once `set_exception_active` turns its definition on: u_business_owner resolves to a
sys_user by user name or email, and a missing, unknown or inactive one meets it); the invoice goes to
`exceptions_found`, else `pending_approval` (or `approved` with `auto_approve`). Approval creates
`sn_spend_intg_outbound_invoice` (integration_status `new`); a Table API PATCH to `processed` (ERP number
required) moves the invoice to `pending_payment`, `error` keeps it approved. The Import Set Deleter removes
import sets, their rows and row errors older than 7 days at each midnight of the sandbox clock.
FX Currency fields read back as `<field>.amount`, `.currency`, `.reference_amount`, `.reference_currency`.
FX rates: `sn_fcms_intg_fx_rate_stage` ("FX rate stage": u_from_currency, u_to_currency, u_conversion_date,
u_exchange_rate, u_erp_source; coalesce on all four but the rate [I]) -> `sn_fin_fx_rate`; an invoice in a
currency other than its legal entity's local currency with no rate for its date meets "Missing required
information" [I]. Supplier legal entity mappings: `sn_fcms_intg_supplier_legal_entity_inbound` (u_supplier =
ERP supplier code, u_legal_entity = ERP company code, u_payment_term; coalesce supplier + legal entity) ->
`sn_fin_supplier_detail`.
The Batch API (`POST /api/now/v1/batch`) runs several requests in one. The metadata tables `sys_dictionary`,
`sys_transform_map`, `sys_transform_entry`, `sys_rest_insert_multiple`, `sys_user_role` and
`sys_user_has_role` (with the `userDYNAMIC<Me>` filter) are computed from the schema and the config.
"""

from .app import ServiceNowSandbox, create_servicenow_sandbox
from .config import (
    DEMO_CLIENT_ID,
    DEMO_CLIENT_SECRET,
    DEMO_PASSWORD,
    DEMO_USER,
    FaultConfig,
    ImportSettings,
    RateLimitRule,
    ServiceNowSandboxConfig,
)

__all__ = [
    "DEMO_CLIENT_ID",
    "DEMO_CLIENT_SECRET",
    "DEMO_PASSWORD",
    "DEMO_USER",
    "FaultConfig",
    "ImportSettings",
    "RateLimitRule",
    "ServiceNowSandbox",
    "ServiceNowSandboxConfig",
    "create_servicenow_sandbox",
]
