"""Table definitions of the simulated instance: columns, labels, references, display fields.

Column names follow the fact sheet (sn-ref §7). Where the sheet only gives a
form label, the column name is ServiceNow's usual snake_case of that label and marked [I] below.

(Over 400 lines: declarative table definitions, one block per table.)
"""

from __future__ import annotations

from dataclasses import dataclass, field

SYS_FIELDS: tuple[str, ...] = (
    "sys_id",
    "sys_created_on",
    "sys_updated_on",
    "sys_mod_count",
    "sys_created_by",
    "sys_updated_by",
)


@dataclass(frozen=True, slots=True)
class Column:
    """One column: `reference` names the table a reference field points at."""

    name: str
    label: str
    reference: str | None = None


@dataclass(slots=True)
class TableSchema:
    """A table: its columns (sys fields are implied), display field and auto-number prefix."""

    name: str
    label: str
    columns: list[Column]
    display_field: str = "name"
    number_prefix: str | None = None
    by_name: dict[str, Column] = field(init=False)

    def __post_init__(self) -> None:
        self.by_name = {c.name: c for c in self.columns}
        for sys_name in SYS_FIELDS:
            self.by_name.setdefault(sys_name, Column(sys_name, sys_name.replace("_", " ").title()))

    @property
    def field_names(self) -> list[str]:
        """All column names, sys fields included, in a stable order."""
        return list(self.by_name)

    def reference_of(self, name: str) -> str | None:
        """The referenced table of column `name`, if it is a reference."""
        column = self.by_name.get(name)
        return column.reference if column else None


def _cols(*specs: tuple[str, str] | tuple[str, str, str]) -> list[Column]:
    return [Column(*spec) for spec in specs]


def _staging(name: str, label: str, *specs: tuple[str, str]) -> TableSchema:
    """A staging (import set row) table: its `u_` columns plus the import-set-row bookkeeping columns."""
    return TableSchema(name, label, _cols(*specs, *IMPORT_ROW_COLUMNS), display_field="sys_id")


IMPORT_ROW_COLUMNS: tuple[tuple[str, str] | tuple[str, str, str], ...] = (
    ("sys_import_set", "Set", "sys_import_set"),
    ("sys_import_row", "Row"),
    ("sys_import_state", "State"),
    ("sys_import_state_comment", "Comment"),
    # a reference to the row's error record; its display value is the readable reason (issue 15 [C per the
    # issue]; the error record's column names are [I], see `sys_import_set_row_error` below)
    ("sys_row_error", "Row error", "sys_import_set_row_error"),
    ("sys_target_table", "Target table"),
    ("sys_target_sys_id", "Target record"),
    ("sys_transform_map", "Transform map"),
    ("sys_class_name", "Class"),
)

# --- staging tables: (column name, column label). Labels key insertMultiple records by default. ---------

INVOICE_STAGING = _staging(
    "sn_spend_intg_imp_invoice",
    "Invoice import staging",
    ("u_external_invoice_number", "External invoice number"),
    ("u_external_invoice_source", "External invoice source"),  # [I] column name; label is documented
    ("u_erp_source", "ERP source"),  # [I] column name; label is documented
    ("u_supplier_invoice_number", "Supplier invoice number"),
    ("u_supplier", "Supplier"),
    ("u_invoice_date", "Invoice date"),
    ("u_due_date", "Due date"),  # [I]
    ("u_currency", "Currency"),
    ("u_subtotal", "Subtotal"),
    ("u_shipping_amount", "Shipping amount"),
    ("u_other_charges", "Other charges"),
    ("u_discounts", "Discounts"),
    ("u_tax_amount", "Tax amount"),
    ("u_amount_invoiced", "Amount invoiced"),
    ("u_purchase_order", "Purchase order"),
    ("u_legal_entity", "Legal entity"),
    ("u_invoice_type", "Invoice type"),
    ("u_original_invoice", "Original invoice"),  # for credit memos (sn-ref §7.4)
    ("u_business_owner", "Business owner"),
    ("u_erp_number", "ERP number"),
    ("u_invoice_line_count", "Invoice line count"),
    ("u_supplier_tax_id", "Supplier tax id"),
    ("u_payment_terms", "Payment terms"),  # [I] column name
    ("u_short_description", "Short description"),  # [I]
    ("u_invoice_state", "Invoice state"),  # [I] sandbox convention: "canceled" cancels the invoice
    ("u_third_party_import_id", "Third party import ID"),  # [I]
)

INVOICE_LINE_STAGING = _staging(
    "sn_spend_intg_imp_invoice_line",
    "Invoice line import staging",
    ("u_external_invoice_number", "External invoice number"),
    ("u_erp_source", "ERP source"),  # [I]
    ("u_erp_line_number", "ERP line number"),  # [I] column name; label is documented
    ("u_line_description", "Line description"),
    ("u_line_quantity", "Line quantity"),
    ("u_line_unit_price", "Line unit price"),
    ("u_line_amount_invoiced", "Line amount invoiced"),
    ("u_subtotal", "Subtotal"),
    ("u_tax_amount", "Tax amount"),  # [I]
    ("u_cost_center", "Cost center"),
    ("u_gl_account", "GL account"),
    ("u_tax_code", "Tax code"),
    ("u_purchase_order_line", "Purchase order line"),
    ("u_supplier_part_number", "Supplier part number"),
    ("u_uom", "Unit"),
    ("u_currency", "Currency"),
)

INVOICE_TAX_LINE_STAGING = _staging(
    "sn_spend_intg_imp_invoice_tax_line",
    "Invoice tax line import staging",
    ("u_external_invoice_number", "External invoice number"),  # [I] header link, as on lines
    ("u_erp_source", "ERP source"),  # [I]
    ("u_erp_line_number", "ERP line number"),  # [I] optional: ties the tax to one invoice line
    ("u_tax_type", "Tax type"),
    ("u_tax_amount", "Tax amount"),
    ("u_taxable_amount", "Taxable amount"),  # [I]
    ("u_supplier_tax_rate", "Supplier tax rate"),
    ("u_currency", "Currency"),  # [I]
)

PAYMENT_DETAIL_STAGING = _staging(
    "sn_spend_intg_imp_invoice_payment_detail",
    "Invoice payment detail import staging",
    ("u_erp_invoice_number", "ERP invoice number"),  # [I] column names for all; labels are documented
    ("u_erp_supplier_code", "ERP supplier code"),
    ("u_erp_source", "ERP source"),
    ("u_currency", "Currency"),
    ("u_payment_amount", "Payment amount"),
    ("u_payment_date", "Payment date"),
    ("u_payment_method", "Payment method"),
    ("u_payment_reference_id", "Payment reference ID"),
    ("u_scheduled_payment_date", "Scheduled payment date"),
    ("u_remit_to_street", "Remit-to street"),
    ("u_remit_to_city", "Remit-to city"),
    ("u_remit_to_state_or_province", "Remit-to state or province"),
    ("u_remit_to_zip_or_postal_code", "Remit-to zip or postal code"),
    ("u_remit_to_country", "Remit-to country"),
    ("u_third_party_import_id", "Third party import ID"),
)

SUPPLIER_STAGING = _staging(
    "sn_fcms_intg_imp_supplier",
    "Supplier inbound staging",
    ("u_erp_supplier_code", "ERP supplier code"),  # [I] column names; labels are documented
    ("u_name", "Name"),
    ("u_legal_name", "Legal name"),
    ("u_erp_company_code", "ERP company code"),
    ("u_erp_source", "ERP source"),
    ("u_tax_id", "Tax id"),
    ("u_payment_term", "Payment term"),
    ("u_email", "Email"),
    ("u_street", "Street"),
    ("u_city", "City"),
    ("u_state", "State"),
    ("u_zip", "Zip"),
    ("u_country", "Country"),
    ("u_website", "Website"),
    ("u_phone", "Primary phone"),
    ("u_status", "Status"),  # "inactive" deactivates the supplier [I]
)

COST_CENTER_STAGING = _staging(
    "sn_fcms_intg_imp_cost_center",
    "Cost center inbound staging",
    ("u_account_number", "Account number"),  # [I] column names; labels are documented
    ("u_name", "Name"),
    ("u_code", "Code"),
    ("u_cost_center_type", "Cost center type"),
    ("u_controlling_area", "Controlling area"),
    ("u_erp_source", "ERP source"),
    ("u_legal_entity", "Legal entity"),
    ("u_manager", "Manager"),
    ("u_profit_center", "Profit center"),
    ("u_valid_from", "Valid from"),
    ("u_valid_to", "Valid to"),
    ("u_available_for_user", "Available for user"),
)

GL_ACCOUNT_STAGING = _staging(
    "sn_fcms_intg_gl_account_stage",
    "GL account inbound staging",
    ("u_number", "Number"),  # [I] column names; labels are documented
    ("u_account_name", "Account name"),
    ("u_account_currency", "Account currency"),
    ("u_alternate_currency", "Alternate currency"),
    ("u_category", "Category"),
    ("u_entity", "Entity"),
    ("u_erp_source", "ERP source"),
    ("u_gl_account", "GL Account"),
    ("u_inactive", "Inactive"),
    ("u_ledger_type", "Ledger type"),
    ("u_local_currency", "Local currency"),
    ("u_short_description", "Short description"),
    ("u_sub_ledger_account", "Sub-ledger account"),
    ("u_type", "Type"),
)

# slo-legal-entity-inbound-table.md [C]: Legal entity and Supplier (strings, mandatory) ->
# sn_fin_supplier_detail; column names [I]; Payment term [I] (a field of the target,
# supplier-legal-entity-mapping.md [C]).
SUPPLIER_LEGAL_ENTITY_STAGING = _staging(
    "sn_fcms_intg_supplier_legal_entity_inbound",
    "Supplier legal entity mapping inbound",
    ("u_supplier", "Supplier"),  # the ERP supplier code (or name) [I]
    ("u_legal_entity", "Legal entity"),  # the ERP company code (or legal name) [I]
    ("u_payment_term", "Payment term"),
)

# spo-fx-rate-inbound-table.md [C]: the fields and which are mandatory; column names [I].
FX_RATE_STAGING = _staging(
    "sn_fcms_intg_fx_rate_stage",
    "FX Rate Stage inbound",
    ("u_conversion_date", "Conversion date"),
    ("u_erp_source", "ERP source"),
    ("u_exchange_rate", "Exchange rate"),
    ("u_from_currency", "From currency"),
    ("u_rate_type", "Rate type"),
    ("u_span_end", "Span end"),
    ("u_span_start", "Span start"),
    ("u_to_currency", "To currency"),
)

STAGING_TABLES: dict[str, TableSchema] = {
    t.name: t
    for t in (
        INVOICE_STAGING,
        INVOICE_LINE_STAGING,
        INVOICE_TAX_LINE_STAGING,
        PAYMENT_DETAIL_STAGING,
        SUPPLIER_STAGING,
        COST_CENTER_STAGING,
        GL_ACCOUNT_STAGING,
        SUPPLIER_LEGAL_ENTITY_STAGING,
        FX_RATE_STAGING,
    )
}

# --- target and system tables -----------------------------------------------------------------------

TARGET_TABLES: list[TableSchema] = [
    TableSchema(
        "sys_user",
        "User",
        _cols(("user_name", "User ID"), ("name", "Name"), ("email", "Email"), ("active", "Active")),
        display_field="name",
    ),
    TableSchema(
        "cmn_location", "Location", _cols(("name", "Name"), ("city", "City"), ("country", "Country"))
    ),
    TableSchema(
        "fx_currency",
        "Currency",
        _cols(("code", "Code"), ("name", "Name"), ("symbol", "Symbol")),
        display_field="code",
    ),
    TableSchema(
        "sn_fin_erp_source",
        "ERP source",
        _cols(("name", "Name"), ("description", "Description"), ("active", "Active")),
    ),
    TableSchema(
        "sn_fin_legal_entity",
        "Legal entity",
        _cols(
            ("name", "Name"),
            ("legal_name", "Legal name"),
            ("erp_company_code", "ERP company code"),  # [I] column name
            ("local_currency", "Local currency", "fx_currency"),
            ("reporting_currency", "Reporting currency", "fx_currency"),
            ("region", "Region"),
            ("erp_source", "ERP source", "sn_fin_erp_source"),
        ),
    ),
    TableSchema(
        "cmn_cost_center",
        "Cost Center",
        _cols(
            ("name", "Name"),
            ("account_number", "Account Number"),
            ("code", "Code"),
            ("location", "Location", "cmn_location"),
            ("valid_from", "Valid from"),
            ("valid_to", "Valid to"),
            ("manager", "Manager", "sys_user"),
            ("parent", "Parent", "cmn_cost_center"),
            ("erp_source", "ERP source", "sn_fin_erp_source"),
            ("legal_entity", "Legal entity", "sn_fin_legal_entity"),  # [I]
            ("active", "Active"),
        ),
    ),
    TableSchema(
        "sn_fin_gl_account",
        "Ledger account",
        _cols(
            ("number", "Ledger account"),  # the account code, e.g. 160020 [I] column name
            ("name", "Account name"),
            ("currency", "Currency", "fx_currency"),
            ("category", "Category"),
            ("type", "Type"),
            ("legal_entity", "Entity", "sn_fin_legal_entity"),
            ("erp_source", "ERP source", "sn_fin_erp_source"),
            ("short_description", "Short description"),
            ("active", "Active"),
        ),
        display_field="number",
    ),
    TableSchema(
        "sn_fin_supplier",
        "Supplier",
        _cols(
            ("name", "Name"),
            ("legal_name", "Legal name"),
            ("erp_supplier_code", "ERP supplier code"),  # [I] column names from documented labels
            ("erp_company_code", "ERP company code"),
            ("erp_source", "ERP source", "sn_fin_erp_source"),
            ("tax_id", "Tax ID"),
            ("payment_term", "Payment term"),
            ("email", "Email"),
            ("street", "Street"),
            ("city", "City"),
            ("state", "State"),
            ("zip", "Zip"),
            ("country", "Country"),
            ("website", "Website"),
            ("phone", "Primary phone"),
            ("active", "Active"),
        ),
    ),
    TableSchema(
        "sn_shop_invoice",
        "Invoice",
        _cols(
            ("number", "Number"),
            ("state", "Status"),
            ("type", "Type"),
            ("channel", "Channel"),
            ("external_invoice_number", "External invoice number"),
            ("external_invoice_source", "External invoice source"),  # [I]
            ("erp_source", "ERP source", "sn_fin_erp_source"),
            ("erp_number", "ERP number"),
            ("supplier_invoice_number", "Supplier invoice number"),
            ("supplier", "Supplier", "sn_fin_supplier"),
            ("supplier_tax_id", "Supplier tax id"),
            ("legal_entity", "Legal entity", "sn_fin_legal_entity"),
            ("purchase_order", "Purchase order"),
            ("invoice_date", "Invoice date"),
            ("due_date", "Due date"),
            ("payment_date", "Payment date"),
            ("payment_terms", "Payment terms"),
            ("currency", "Currency", "fx_currency"),  # [I] the currency representation is unconfirmed
            ("subtotal", "Subtotal"),
            ("tax_amount", "Tax amount"),
            ("shipping", "Shipping"),
            ("other_charges", "Other charges"),
            ("discounts", "Discounts"),
            ("invoice_amount", "Amount invoiced"),
            ("amount_paid", "Amount paid"),  # [I] sandbox roll-up of payment details
            ("business_owner", "Business owner", "sys_user"),  # [I] a reference to the user
            ("short_description", "Short description"),
            # [I] a credit memo's original invoice; the staging column is documented (sn-ref §7.4), the target
            # field's name and type are not: the sandbox keeps the ERP number the credit memo names, as text
            ("original_invoice", "Original invoice"),
            ("erp_posting_date", "ERP posting date"),  # [S] column name; the form label is documented
            # [S] column name; the invoice case shows "ERP integration status = Failed" after an outbound
            # error (integration-errors-during-erp-posting); values in_progress|processed|failed are [I]
            ("erp_integration_status", "ERP integration status"),
        ),
        display_field="number",
        number_prefix="INV",
    ),
    TableSchema(
        "sn_shop_invoice_line",
        "Invoice line",
        _cols(
            ("number", "Number"),
            ("invoice", "Invoice", "sn_shop_invoice"),
            ("state", "Status"),
            ("erp_line_number", "ERP line number"),
            ("line_description", "Line description"),
            ("invoiced_quantity", "Invoice line quantity"),
            ("line_unit_price", "Line unit price"),
            ("sub_total", "Subtotal"),
            ("tax_amount", "Tax amount"),
            ("line_amount", "Line amount invoiced"),
            ("cost_center", "Cost center", "cmn_cost_center"),
            ("ledger_account", "Ledger account", "sn_fin_gl_account"),
            ("tax_code", "Tax code"),
            ("order_line", "Purchase order line"),
            ("supplier_part_number", "Supplier part number"),
            ("uom", "Unit"),
            ("currency", "Currency", "fx_currency"),
        ),
        display_field="number",
        number_prefix="INVL",
    ),
    TableSchema(
        "sn_shop_invoice_tax_line",
        "Invoice tax line",
        _cols(
            ("invoice", "Invoice", "sn_shop_invoice"),
            ("invoice_line", "Invoice line", "sn_shop_invoice_line"),
            ("tax_type", "Tax Type"),
            ("taxable_amount", "Taxable Amount"),
            ("tax_amount", "Supplier Tax"),
            ("supplier_tax_rate", "Supplier Tax Rate"),
            ("currency", "Currency", "fx_currency"),
        ),
        display_field="tax_type",
    ),
    TableSchema(
        "sn_shop_invoice_payment_detail",
        "Invoice payment detail",
        _cols(
            ("invoice", "Invoice", "sn_shop_invoice"),
            ("supplier", "Supplier", "sn_fin_supplier"),
            ("erp_source", "ERP source", "sn_fin_erp_source"),
            ("erp_invoice_number", "ERP invoice number"),
            ("payment_reference_id", "Payment reference ID"),
            ("payment_amount", "Payment amount"),
            ("currency", "Currency", "fx_currency"),
            ("payment_date", "Payment date"),
            ("payment_method", "Payment method"),
            ("scheduled_payment_date", "Scheduled payment date"),
            ("remit_to_street", "Remit-to street"),
            ("remit_to_city", "Remit-to city"),
            ("remit_to_state_or_province", "Remit-to state or province"),
            ("remit_to_zip_or_postal_code", "Remit-to zip or postal code"),
            ("remit_to_country", "Remit-to country"),
        ),
        display_field="payment_reference_id",
    ),
    # --- Accounts Payable Invoice Processing (sn_ap_apm): exception-form-fields.md gives the header
    # exception's labels [C]; column names are their snake_case [I]; the line table's columns mirror the
    # header's plus the invoice line [I]. Stored states open|resolved|bypassed are [I].
    TableSchema(
        "sn_ap_apm_exception_definition",
        "Exception definition",
        _cols(
            ("name", "Name"),
            ("level", "Level"),  # [I] header | line
            ("short_description", "Short description"),
            ("active", "Active"),
        ),
    ),
    TableSchema(
        "sn_ap_apm_exception",
        "Exception",
        _cols(
            ("number", "Number"),
            ("state", "Status"),
            ("exception_definition", "Exception definition", "sn_ap_apm_exception_definition"),
            ("invoice", "Invoice", "sn_shop_invoice"),
            ("bypass_reason", "Bypass reason"),
            ("short_description", "Short description"),
            ("description", "Description"),
        ),
        display_field="number",
        number_prefix="APEX",
    ),
    TableSchema(
        "sn_ap_apm_line_exception",
        "Line exception",
        _cols(
            ("number", "Number"),
            ("state", "Status"),
            ("exception_definition", "Exception definition", "sn_ap_apm_exception_definition"),
            ("invoice", "Invoice", "sn_shop_invoice"),
            ("invoice_line", "Invoice line", "sn_shop_invoice_line"),
            ("bypass_reason", "Bypass reason"),
            ("short_description", "Short description"),
            ("description", "Description"),
        ),
        display_field="number",
        number_prefix="APLEX",  # [I]
    ),
    # supplier-legal-entity-mapping.md, work-with-invoice-exceptions.md [C]: without a row for the invoice's
    # supplier and legal entity, or with Hold Payment / Hold Posting set, the invoice gets "Invalid or blocked
    # supplier". Column names are [I].
    TableSchema(
        "sn_fin_supplier_detail",
        "Supplier legal entity mapping",
        _cols(
            ("supplier", "Supplier", "sn_fin_supplier"),
            ("legal_entity", "Legal entity", "sn_fin_legal_entity"),
            ("payment_term", "Payment term"),
            ("hold_payment", "Hold payment"),
            ("hold_posting", "Hold posting"),
        ),
        display_field="payment_term",
    ),
    # sn_fin_fx_rate (Finance Common Architecture, sn-ref §7.1 [C]): the rates FX Rate Stage loads; the
    # column names mirror the staging labels [I]. A rate converts 1 unit of from_currency into to_currency.
    TableSchema(
        "sn_fin_fx_rate",
        "FX rate",
        _cols(
            ("from_currency", "From currency", "fx_currency"),
            ("to_currency", "To currency", "fx_currency"),
            ("conversion_date", "Conversion date"),
            ("rate", "Exchange rate"),
            ("rate_type", "Rate type"),
            ("span_start", "Span start"),
            ("span_end", "Span end"),
            ("erp_source", "ERP source", "sn_fin_erp_source"),
        ),
        display_field="conversion_date",
    ),
    # outbound-invoice-tables-for-apo.md [C] lists the labels; column names are their snake_case [I]. The page
    # lists no Invoice reference on the header (the line table has one): the sandbox adds `invoice` so a
    # client can follow its invoice [I]; `number` copies the invoice number [I]. Integration status values
    # new|in_progress|processed|error are [I] (labels New, In progress, Processed, error are documented in
    # working-with-outbound-invoice.md and integration-errors-in-staging-tables.md).
    TableSchema(
        "sn_spend_intg_outbound_invoice",
        "Outbound invoice",
        _cols(
            ("number", "Number"),
            ("invoice", "Invoice", "sn_shop_invoice"),
            ("invoice_status", "Invoice status"),
            ("integration_status", "Integration status"),
            ("processing_message", "Processing message"),
            ("erp_number", "ERP number"),
            ("erp_posting_date", "ERP posting date"),
            ("erp_source", "ERP source"),  # a String on this table (the documented data type)
            ("invoice_type", "Invoice type"),
            ("supplier", "Supplier", "sn_fin_supplier"),
            ("supplier_invoice_number", "Supplier invoice number"),
            ("legal_entity", "Legal entity", "sn_fin_legal_entity"),
            ("invoice_date", "Invoice date"),
            ("payment_terms", "Payment terms"),  # a reference to sn_shop_payment_term on real instances
            ("currency", "Currency"),
            ("subtotal", "Subtotal"),
            ("tax_amount", "Tax amount"),
            ("shipping_amount", "Shipping amount"),
            ("other_charges", "Other charges"),
            ("discounts", "Discounts"),
            ("amount_invoiced", "Amount invoiced"),
        ),
        display_field="number",
    ),
    # import-error-staging-table.md and invoice-error.md [C]: Error message, Outbound status (a reference;
    # to what is not documented, a string here [I]), Supplier invoice number, Supplier invoice line number,
    # Sales order number, Sales order line number. The sandbox adds what ties an error to its row and invoice:
    # invoice, source_table, source_row, import_set [I].
    TableSchema(
        "sn_spend_intg_import_error",
        "Import error",
        _cols(
            ("error_message", "Error message"),
            ("outbound_status", "Outbound status"),
            ("supplier_invoice_number", "Supplier invoice number"),
            ("supplier_invoice_line_number", "Supplier invoice line number"),
            ("sales_order_number", "Sales order number"),
            ("sales_order_line_number", "Sales order line number"),
            ("invoice", "Invoice", "sn_shop_invoice"),
            ("source_table", "Source table"),
            ("source_row", "Source row"),
            ("import_set", "Import set", "sys_import_set"),
        ),
        display_field="error_message",
    ),
    # What an import set row's `sys_row_error` references. The Import Set Deleter cleans this table too
    # (ImportSetCleaner in public instance code [S]); its column names are [I].
    TableSchema(
        "sys_import_set_row_error",
        "Import Set Row Error",
        _cols(
            ("error_message", "Error message"),
            ("row", "Row"),  # the staging row's sys_id [I]
            ("import_set", "Import set", "sys_import_set"),
        ),
        display_field="error_message",
    ),
    TableSchema(
        "sys_import_set",
        "Import Set",
        _cols(
            ("number", "Set"),
            ("table_name", "Table name"),
            ("state", "State"),  # loading | processed
            ("mode", "Mode"),  # synchronous | asynchronous
            ("multi_import_set", "Multi import set"),  # [I] plain sys_id of the insertMultiple batch
            ("short_description", "Short description"),
        ),
        display_field="number",
        number_prefix="ISET",
    ),
]

# sys_import_set_row is the parent of every staging table; the sandbox answers it as a union view.
IMPORT_SET_ROW = TableSchema(
    "sys_import_set_row", "Import Set Row", _cols(*IMPORT_ROW_COLUMNS), display_field="sys_id"
)

# --- metadata: answered from the schema and the live config (metadata.py), never stored -----------------
# Column names of sys_dictionary, sys_transform_map, sys_transform_entry, sys_user_role and
# sys_user_has_role are the platform's usual ones, seen in public instance code [S];
# sys_rest_insert_multiple's labels come from c_ImportSetAPI.md ("source table", transformation synchronous,
# "Column mapping" Label | Column name) [C], its column names are [I].
METADATA_TABLES: list[TableSchema] = [
    TableSchema(
        "sys_dictionary",
        "Dictionary Entry",
        _cols(
            ("name", "Table"),
            ("element", "Column name"),
            ("column_label", "Column label"),
            ("internal_type", "Type"),
            ("reference", "Reference"),
            ("mandatory", "Mandatory"),
            ("max_length", "Max length"),
            ("active", "Active"),
        ),
        display_field="element",
    ),
    TableSchema(
        "sys_transform_map",
        "Table Transform Map",
        _cols(
            ("name", "Name"),
            ("source_table", "Source table"),
            ("target_table", "Target table"),
            ("active", "Active"),
        ),
    ),
    TableSchema(
        "sys_transform_entry",
        "Field Map",
        _cols(
            ("map", "Map", "sys_transform_map"),
            ("source_table", "Source table"),
            ("source_field", "Source field"),
            ("target_table", "Target table"),
            ("target_field", "Target field"),
            ("coalesce", "Coalesce"),
        ),
        display_field="target_field",
    ),
    TableSchema(
        "sys_rest_insert_multiple",
        "REST Insert Multiple",
        _cols(
            ("source_table", "Source table"),
            ("transformation", "Transformation"),  # [I] synchronous | asynchronous
            ("column_mapping", "Column mapping"),  # [I] label | column_name
            ("use_data_source_format", "Use data source format"),
        ),
        display_field="source_table",
    ),
    TableSchema("sys_user_role", "Role", _cols(("name", "Name"), ("description", "Description"))),
    TableSchema(
        "sys_user_has_role",
        "User Role",
        _cols(
            ("user", "User", "sys_user"),
            ("role", "Role", "sys_user_role"),
            ("inherited", "Inherited"),
            ("state", "State"),
        ),
        display_field="role",
    ),
]
VIRTUAL_TABLES: frozenset[str] = frozenset({IMPORT_SET_ROW.name, *(t.name for t in METADATA_TABLES)})

ALL_TABLES: dict[str, TableSchema] = {
    **{t.name: t for t in TARGET_TABLES},
    **STAGING_TABLES,
    IMPORT_SET_ROW.name: IMPORT_SET_ROW,
    **{t.name: t for t in METADATA_TABLES},
}

# FX Currency fields (stored here as the amount; the currency comes from the record): dot-walkable as
# `<field>.amount`, `.currency`, `.reference_amount`, `.reference_currency`
# (fx-currency-dot-walkable-fields.md, outbound-invoice-fields.md "Amount invoiced (Transaction
# currency).amount" [C]). What a real instance returns as the field's raw value is not documented [I]: the
# sandbox returns the amount.
FX_FIELDS: frozenset[tuple[str, str]] = frozenset(
    {
        *(
            ("sn_shop_invoice", name)
            for name in ("subtotal", "tax_amount", "shipping", "other_charges", "discounts", "invoice_amount")
        ),
        ("sn_shop_invoice", "amount_paid"),
        *(
            ("sn_shop_invoice_line", name)
            for name in ("line_unit_price", "sub_total", "tax_amount", "line_amount")
        ),
        ("sn_shop_invoice_tax_line", "taxable_amount"),
        ("sn_shop_invoice_tax_line", "tax_amount"),
        ("sn_shop_invoice_payment_detail", "payment_amount"),
    }
)
FX_PARTS: frozenset[str] = frozenset({"amount", "currency", "reference_amount", "reference_currency"})


def display_choice(value: str) -> str:
    """Display label of a choice value, e.g. `pending_payment` -> `Pending payment` ([I] no sys_choice)."""
    return value.replace("_", " ").capitalize() if value else ""


CHOICE_FIELDS: frozenset[tuple[str, str]] = frozenset(
    {
        ("sn_shop_invoice", "state"),
        ("sn_shop_invoice", "erp_integration_status"),
        ("sn_shop_invoice_line", "state"),
        ("sys_import_set", "state"),
        ("sn_ap_apm_exception", "state"),
        ("sn_ap_apm_line_exception", "state"),
        ("sn_shop_invoice_payment_detail", "payment_method"),
        ("sn_spend_intg_outbound_invoice", "integration_status"),
        ("sn_spend_intg_outbound_invoice", "invoice_status"),
        ("sys_rest_insert_multiple", "transformation"),
        ("sys_rest_insert_multiple", "column_mapping"),
    }
)

# Documented mandatory fields of the inbound staging tables (inbound-invoice-import-staging-table.md,
# invoice-payment-detail-staging-table.md [C]); sys_dictionary says so, and the transforms enforce the ones
# zbsn does not send only when `ServiceNowSandboxConfig.enforce_documented_mandatory` is on.
MANDATORY_COLUMNS: dict[str, frozenset[str]] = {
    "sn_spend_intg_imp_invoice": frozenset(
        {
            "u_external_invoice_number",
            "u_external_invoice_source",
            "u_erp_source",
            "u_invoice_type",
            "u_supplier",
            "u_invoice_date",
            "u_currency",
            "u_subtotal",
            "u_shipping_amount",
            "u_other_charges",
        }
    ),
    # slo-legal-entity-inbound-table.md, spo-fx-rate-inbound-table.md [C]
    "sn_fcms_intg_supplier_legal_entity_inbound": frozenset({"u_supplier", "u_legal_entity"}),
    "sn_fcms_intg_fx_rate_stage": frozenset(
        {"u_erp_source", "u_exchange_rate", "u_from_currency", "u_to_currency"}
    ),
    "sn_spend_intg_imp_invoice_payment_detail": frozenset(
        {
            "u_currency",
            "u_erp_invoice_number",
            "u_erp_source",
            "u_erp_supplier_code",
            "u_payment_amount",
            "u_payment_date",
            "u_payment_method",
            "u_payment_reference_id",
            "u_remit_to_street",
            "u_remit_to_city",
            "u_remit_to_state_or_province",
            "u_remit_to_zip_or_postal_code",
            "u_remit_to_country",
            "u_scheduled_payment_date",
        }
    ),
}
