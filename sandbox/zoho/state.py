"""The Books data the sandbox serves: the generated `Company` plus indexes, balances and admin mutations.

All access goes through `lock` (the server thread and the Python API both touch it). `version` moves on
every mutation, so list queries can be cached per (query, version).
"""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Callable
from decimal import Decimal, InvalidOperation
from typing import Any
from zoneinfo import ZoneInfo

from zbsn.sandbox.company import Bill, BillLine, Company, PaymentAllocation, VendorPayment
from zbsn.sandbox.company_generator import bill_total
from zbsn.sandbox.zoho.clock import SandboxClock

AWAITING_APPROVAL = ("draft", "pending_approval")  # a bill's states before approval (zoho-ref §4.2)
NEW_ID_PREFIX = "460237001"  # ids minted by the sandbox at run time (the generator uses 46023700000...)
ALLOCATION_ID_PREFIX = "460237002"


class NotFound(Exception):
    """An entity id that does not exist (rendered as code 1002)."""

    def __init__(self, entity: str) -> None:
        super().__init__(f"{entity} does not exist.")
        self.entity = entity


class InvalidRequest(Exception):
    """A write the sandbox refuses (rendered as HTTP 400 with `code`)."""

    def __init__(self, message: str, code: int = 4) -> None:
        super().__init__(message)
        self.code = code


def _decimal(value: Any, name: str) -> Decimal:
    try:
        return Decimal(str(value))
    except (InvalidOperation, ValueError) as exc:
        raise InvalidRequest(f"Invalid value passed for {name}", 2) from exc


def _date(value: Any, name: str) -> dt.date:
    try:
        return dt.date.fromisoformat(str(value))
    except ValueError as exc:
        raise InvalidRequest(f"Invalid value passed for {name}", 2) from exc


class BooksState:
    """Indexes over one `Company` and the mutations the admin API offers."""

    def __init__(self, company: Company, clock: SandboxClock) -> None:
        self.lock = threading.RLock()
        self.clock = clock
        self._counter = 0
        self.load(company)

    # ----------------------------------------------------------------------------------------------- loading
    def load(self, company: Company) -> None:
        """Replace all data with `company` (used by reset)."""
        with self.lock:
            self.company = company
            self.tz = ZoneInfo(company.organization.time_zone)
            self.bills: dict[str, Bill] = {b.bill_id: b for b in company.bills}
            self.vendors = {v.contact_id: v for v in company.vendors}
            self.accounts = {a.account_id: a for a in company.accounts}
            self.cost_centers = {c.tag_option_id: c for c in company.cost_centers}
            self.offices = {o.location_id: o for o in company.offices}
            self.payments: dict[str, VendorPayment] = {p.payment_id: p for p in company.payments}
            self.vendor_credits = {c.vendor_credit_id: c for c in company.vendor_credits}
            self.totals: dict[str, Decimal] = {b.bill_id: bill_total(b) for b in company.bills}
            self.paid: dict[str, Decimal] = {}
            self.payments_by_bill: dict[str, list[tuple[VendorPayment, PaymentAllocation]]] = {}
            self.allocation_ids: dict[tuple[str, str], str] = {}
            self.deleted_bill_ids: list[str] = []
            self.deleted_payment_ids: list[str] = []
            for payment in company.payments:
                self._index_payment(payment)
            self.version = 0
            self._cache: dict[Any, Any] = {}

    def _index_payment(self, payment: VendorPayment) -> None:
        for allocation in payment.allocations:
            self.paid[allocation.bill_id] = (
                self.paid.get(allocation.bill_id, Decimal(0)) + allocation.amount_applied
            )
            self.payments_by_bill.setdefault(allocation.bill_id, []).append((payment, allocation))
            self.allocation_ids[(payment.payment_id, allocation.bill_id)] = self._mint(ALLOCATION_ID_PREFIX)

    def _mint(self, prefix: str = NEW_ID_PREFIX) -> str:
        self._counter += 1
        return f"{prefix}{self._counter:09d}"

    def _touch(self) -> dt.datetime:
        self.version += 1
        self._cache.clear()
        return self.clock.now().astimezone(self.tz).replace(microsecond=0)

    # ------------------------------------------------------------------------------------------------ reading
    def balance(self, bill_id: str) -> Decimal:
        """What is still owed on a bill (0 for void bills)."""
        if self.bills[bill_id].status == "void":
            return Decimal(0)
        return self.totals[bill_id] - self.paid.get(bill_id, Decimal(0))

    def cached(self, key: Any, compute: Callable[[], Any]) -> Any:
        """Memoise `compute()` under `key` until the next mutation."""
        with self.lock:
            if key not in self._cache:
                self._cache[key] = compute()
            return self._cache[key]

    def vendor_outstanding(self) -> dict[str, Decimal]:
        """Outstanding payable amount per vendor id (cached per version)."""

        def compute() -> dict[str, Decimal]:
            owed: dict[str, Decimal] = {}
            for bill in self.bills.values():
                if bill.status != "void":
                    owed[bill.vendor_id] = owed.get(bill.vendor_id, Decimal(0)) + self.balance(bill.bill_id)
            return owed

        result: dict[str, Decimal] = self.cached("vendor_outstanding", compute)
        return result

    # ---------------------------------------------------------------------------------------------- mutating
    def _lines(
        self, items: list[dict[str, Any]], default_location: str | None, keep: set[str] | None = None
    ) -> list[BillLine]:
        """Lines from request items; an item naming one of the bill's line ids (`keep`) keeps it, as Zoho
        does on an edit (an item without one is a new line)."""
        if not items:
            raise InvalidRequest("A bill needs at least one line item", 4)
        lines = []
        for item in items:
            option = item.get("cost_center_option_id")
            for tag in item.get("tags") or []:
                if str(tag.get("tag_id")) == self.company.cost_center_tag_id:
                    option = str(tag.get("tag_option_id"))
            lines.append(
                BillLine(
                    line_item_id=(
                        str(item["line_item_id"])
                        if keep and str(item.get("line_item_id") or "") in keep
                        else self._mint()
                    ),
                    account_id=str(item.get("account_id", "")),
                    description=str(item.get("description", "")),
                    quantity=_decimal(item.get("quantity", 1), "quantity"),
                    rate=_decimal(item.get("rate", 0), "rate"),
                    cost_center_option_id=option,
                    location_id=item.get("location_id") or default_location,
                    tax_id=item.get("tax_id"),
                    tax_name=item.get("tax_name"),
                    tax_percentage=_decimal(item.get("tax_percentage", 0), "tax_percentage"),
                )
            )
        return lines

    def add_bill(self, data: dict[str, Any]) -> Bill:
        """Create a bill from a Zoho-shaped request body (vendor_id, date, line_items[...], ...)."""
        with self.lock:
            vendor_id = str(data.get("vendor_id", ""))
            if vendor_id not in self.vendors:
                raise InvalidRequest("Invalid value passed for vendor_id", 2)
            vendor = self.vendors[vendor_id]
            now = self._touch()
            day = _date(data.get("date", now.date().isoformat()), "date")
            location = data.get("location_id") or next(iter(self.offices))
            # [INF] a sandbox convenience: `status` "draft" (Zoho's "Save as Draft") or "pending_approval"
            # (saved and submitted) creates the bill before approval; anything else creates it open
            status = str(data.get("status") or "open")
            status = status if status in AWAITING_APPROVAL else "open"
            bill = Bill(
                bill_id=self._mint(),
                bill_number=str(data.get("bill_number") or f"BILL-S{self._counter:06d}"),
                vendor_id=vendor_id,
                date=day,
                due_date=_date(data.get("due_date", (day + dt.timedelta(days=30)).isoformat()), "due_date"),
                currency_code=str(data.get("currency_code", vendor.currency_code)),
                exchange_rate=_decimal(data.get("exchange_rate", 1), "exchange_rate"),
                status=status,
                location_id=location,
                reference_number=str(data.get("reference_number", "")),
                lines=self._lines(list(data.get("line_items") or []), location),
                created_time=now,
                last_modified_time=now,
                adjustment=_decimal(data.get("adjustment", 0), "adjustment"),
                adjustment_description=str(data.get("adjustment_description", "")),
                discount=_decimal(data.get("discount", 0), "discount"),
                payment_terms=int(data.get("payment_terms", vendor.payment_terms)),
                payment_terms_label=str(data.get("payment_terms_label", vendor.payment_terms_label)),
            )
            self.bills[bill.bill_id] = bill
            self.company.bills.append(bill)  # keep the Company in step with what the API serves
            self.totals[bill.bill_id] = bill_total(bill)
            return bill

    def get_bill(self, bill_id: str) -> Bill:
        """The bill, or NotFound."""
        bill = self.bills.get(bill_id)
        if bill is None:
            raise NotFound("Bill")
        return bill

    def edit_bill(self, bill_id: str, changes: dict[str, Any]) -> Bill:
        """Apply Zoho-shaped changes (reference_number, dates, exchange_rate, line_items); bump the time."""
        with self.lock:
            bill = self.get_bill(bill_id)
            if bill.status == "void":
                raise InvalidRequest("A voided bill cannot be edited", 4)
            now = self._touch()
            if "reference_number" in changes:
                bill.reference_number = str(changes["reference_number"])
            if "bill_number" in changes:
                bill.bill_number = str(changes["bill_number"])
            if "date" in changes:
                bill.date = _date(changes["date"], "date")
            if "due_date" in changes:
                bill.due_date = _date(changes["due_date"], "due_date")
            if "exchange_rate" in changes:
                bill.exchange_rate = _decimal(changes["exchange_rate"], "exchange_rate")
            if "adjustment" in changes:
                bill.adjustment = _decimal(changes["adjustment"], "adjustment")
                bill.adjustment_description = str(changes.get("adjustment_description", ""))
            if "discount" in changes:
                bill.discount = _decimal(changes["discount"], "discount")
            if "payment_terms_label" in changes:
                bill.payment_terms_label = str(changes["payment_terms_label"])
                days = changes.get("payment_terms", bill.payment_terms)
                bill.payment_terms = None if days in (None, "") else int(days)
            if "line_items" in changes:
                kept = {line.line_item_id for line in bill.lines}
                bill.lines = self._lines(list(changes["line_items"]), bill.location_id, kept)
            if {"line_items", "adjustment", "discount"} & set(changes):
                self.totals[bill_id] = bill_total(bill)
                self._restatus(bill)
            bill.last_modified_time = now
            return bill

    def void_bill(self, bill_id: str) -> Bill:
        """Mark a bill void (it stays listable)."""
        with self.lock:
            bill = self.get_bill(bill_id)
            if self.paid.get(bill_id):
                raise InvalidRequest("Bills with payments applied cannot be voided", 4)
            bill.status = "void"
            bill.last_modified_time = self._touch()
            return bill

    def delete_bill(self, bill_id: str) -> None:
        """Delete a bill; bills with payments applied cannot be deleted [REC/DOC]."""
        with self.lock:
            self.get_bill(bill_id)
            if self.paid.get(bill_id):
                raise InvalidRequest("Bills with payments applied cannot be deleted", 4)
            self._touch()
            self.company.bills.remove(self.bills.pop(bill_id))
            self.totals.pop(bill_id, None)
            self.deleted_bill_ids.append(bill_id)

    def submit_bill(self, bill_id: str) -> Bill:
        """`POST /bills/{id}/submit`: a draft goes for approval (pending_approval)."""
        with self.lock:
            bill = self.get_bill(bill_id)
            if bill.status != "draft":
                raise InvalidRequest("Only a draft bill can be submitted for approval", 4)
            bill.status = "pending_approval"
            bill.last_modified_time = self._touch()
            return bill

    def approve_bill(self, bill_id: str) -> Bill:
        """`POST /bills/{id}/approve`: a draft or pending bill becomes open (or overdue); [INF] the approval
        moves `last_modified_time`, as every status change does."""
        with self.lock:
            bill = self.get_bill(bill_id)
            if bill.status not in AWAITING_APPROVAL:
                raise InvalidRequest("The bill is not waiting for approval", 4)
            bill.status = "open"
            self._restatus(bill)
            bill.last_modified_time = self._touch()
            return bill

    def return_to_draft(self, bill_id: str, status: str = "draft") -> Bill:
        """An approved bill sent back to `draft` (or `pending_approval`) before it is paid.

        [INF] Zoho Books documents no "convert to draft" call for bills; the sandbox offers it so tests can
        play an approver who withdraws an approval (or a rejected re-approval). A bill with payments applied
        or a void one refuses, as Zoho refuses to delete or void a paid bill (zoho-ref §4.2)."""
        with self.lock:
            bill = self.get_bill(bill_id)
            if status not in AWAITING_APPROVAL:
                raise InvalidRequest(f"Invalid value passed for status: {status}", 2)
            if bill.status == "void" or bill.status in AWAITING_APPROVAL:
                raise InvalidRequest("Only an approved bill can be sent back for approval", 4)
            if self.paid.get(bill_id):
                raise InvalidRequest("Bills with payments applied cannot be sent back to draft", 4)
            bill.status = status
            bill.last_modified_time = self._touch()
            return bill

    def _restatus(self, bill: Bill) -> None:
        if bill.status == "void" or bill.status in AWAITING_APPROVAL:
            return
        paid = self.paid.get(bill.bill_id, Decimal(0))
        if paid >= self.totals[bill.bill_id] and paid > 0:
            bill.status = "paid"
        elif paid > 0:
            bill.status = "partially_paid"
        else:
            today = self.clock.now().astimezone(self.tz).date()
            bill.status = "overdue" if bill.due_date < today else "open"

    def add_payment(self, data: dict[str, Any]) -> VendorPayment:
        """Record a vendor payment: {vendor_id, bills: [{bill_id, amount_applied}], date?, payment_mode?}."""
        with self.lock:
            allocations = [
                PaymentAllocation(str(a["bill_id"]), _decimal(a["amount_applied"], "amount_applied"))
                for a in data.get("bills") or []
            ]
            if not allocations:
                raise InvalidRequest("A payment needs at least one bill", 4)
            vendor_id = str(data.get("vendor_id") or self.get_bill(allocations[0].bill_id).vendor_id)
            for allocation in allocations:
                bill = self.get_bill(allocation.bill_id)
                if bill.vendor_id != vendor_id or bill.status == "void":
                    raise InvalidRequest("Invalid value passed for bill_id", 2)
                if bill.status in AWAITING_APPROVAL:
                    raise InvalidRequest("A bill awaiting approval cannot be paid", 4)
                if allocation.amount_applied <= 0 or allocation.amount_applied > self.balance(bill.bill_id):
                    raise InvalidRequest("Amount applied exceeds the bill balance", 4)
            now = self._touch()
            vendor = self.vendors.get(vendor_id)
            payment = VendorPayment(
                payment_id=self._mint(),
                payment_number=str(len(self.payments) + 1),
                vendor_id=vendor_id,
                date=_date(data.get("date", now.date().isoformat()), "date"),
                amount=_decimal(data.get("amount", sum(a.amount_applied for a in allocations)), "amount"),
                currency_code=vendor.currency_code if vendor else self.company.organization.currency_code,
                payment_mode=str(data.get("payment_mode", "Bank Transfer")),
                reference_number=str(data.get("reference_number", "")),
                paid_through_account_id=next(
                    a.account_id for a in self.accounts.values() if a.account_type == "bank"
                ),
                allocations=allocations,
                created_time=now,
                last_modified_time=now,
            )
            self.payments[payment.payment_id] = payment
            self.company.payments.append(payment)
            self._index_payment(payment)
            for allocation in allocations:
                bill = self.bills[allocation.bill_id]
                self._restatus(bill)
                # [INF] a payment changes the bill's status/balance, so its last_modified_time moves too
                # (but no bill "edited" webhook fires, per zoho-ref §7).
                bill.last_modified_time = now
            return payment

    def get_payment(self, payment_id: str) -> VendorPayment:
        """The vendor payment, or NotFound."""
        payment = self.payments.get(payment_id)
        if payment is None:
            raise NotFound("Vendor Payment")
        return payment

    def delete_payment(self, payment_id: str) -> VendorPayment:
        """Delete a vendor payment: its bills owe its amounts again (their status and `last_modified_time`
        move, [INF] as a payment's do) and it is no longer listed (zoho-ref §4.4)."""
        with self.lock:
            payment = self.get_payment(payment_id)
            now = self._touch()
            del self.payments[payment_id]
            self.company.payments.remove(payment)
            self.deleted_payment_ids.append(payment_id)
            for allocation in payment.allocations:
                self.paid[allocation.bill_id] = (
                    self.paid.get(allocation.bill_id, Decimal(0)) - allocation.amount_applied
                )
                others = self.payments_by_bill.get(allocation.bill_id, [])
                self.payments_by_bill[allocation.bill_id] = [p for p in others if p[0] is not payment]
                self.allocation_ids.pop((payment_id, allocation.bill_id), None)
                bill = self.bills.get(allocation.bill_id)
                if bill is not None:
                    self._restatus(bill)
                    bill.last_modified_time = now
            return payment
