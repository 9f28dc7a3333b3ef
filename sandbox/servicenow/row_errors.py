"""Where a transform error is written: the row's `sys_row_error` record, and for invoice staging the S2P
import error table.

- `sys_import_set_row_error`: one record per failed row; the row's `sys_row_error` references it, so the
  readable reason is that reference's display value (issue 15: "`sys_row_error` ... is a reference to
  `sys_import_set_row_error`, not text"). Column names are [I].
- `sn_spend_intg_import_error` (import-error-staging-table.md, invoice-error.md [C]): Error message, Supplier
  invoice number, Supplier invoice line number; plus what ties the error to its row and invoice (invoice,
  source_table, source_row, import_set [I]). Written for the `sn_spend_intg_imp_invoice*` tables only; the
  master-data staging tables (`sn_fcms_intg_*`) belong to another application.
"""

from __future__ import annotations

from .config import ServiceNowSandboxConfig
from .state import Database, Record
from .transforms import Lookups, TransformError

S2P_PREFIX = "sn_spend_intg_imp_invoice"


class RowErrors:
    """Writes the error records of failed staging rows (caller holds `db.lock`)."""

    def __init__(self, db: Database, config: ServiceNowSandboxConfig) -> None:
        self.db = db
        self.config = config
        self.lookups = Lookups(db, config)

    def record(self, staging_table: str, row: Record, message: str) -> str:
        """Write the error records of `row`; the sys_id its `sys_row_error` references."""
        error = self.db.insert(
            "sys_import_set_row_error",
            {"error_message": message, "row": row["sys_id"], "import_set": row.get("sys_import_set", "")},
        )
        if staging_table.startswith(S2P_PREFIX):
            invoice = self._invoice(staging_table, row)
            self.db.insert(
                "sn_spend_intg_import_error",
                {
                    "error_message": message,
                    "supplier_invoice_number": row.get("u_supplier_invoice_number", "")
                    or (invoice["supplier_invoice_number"] if invoice else ""),
                    "supplier_invoice_line_number": row.get("u_erp_line_number", ""),
                    "invoice": invoice["sys_id"] if invoice else "",
                    "source_table": staging_table,
                    "source_row": row["sys_id"],
                    "import_set": row.get("sys_import_set", ""),
                },
            )
        return error["sys_id"]

    def message(self, row: Record) -> str:
        """The readable reason of a failed row (the display value of its `sys_row_error`)."""
        return self.db.display_value("sys_import_set_row_error", row.get("sys_row_error", ""))

    def _invoice(self, staging_table: str, row: Record) -> Record | None:
        """The invoice a failed row belongs to, when it exists."""
        try:
            if staging_table.endswith("payment_detail"):
                erp_source = self.lookups.row_erp_source(row)
                return self.lookups.invoice_by_erp_number(row.get("u_erp_invoice_number", ""), erp_source)
            number = row.get("u_external_invoice_number", "")
            return self.lookups.invoice(number, row.get("u_erp_source", "")) if number else None
        except TransformError:
            return None
