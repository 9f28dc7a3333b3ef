"""The Books v3 API on each DC's API domain: auth, organization_id, scopes, limits, faults, then the handler.

Pipeline per request (zoho-ref §2.7, §3, §5, §6):
1. `Authorization: Zoho-oauthtoken <t>` missing/garbled → 401 code 14; dead, expired, revoked, or minted in
   another DC → 401 code 57;
2. `organization_id` missing → HTTP 400 code 2 ([INF] choice; `default_org_fallback` emulates the fallback
   Airbyte's evidence suggests); unknown → 401 code 57 ("org not reachable by this user");
3. missing OAuth scope → 401 code 57;
4. rate limits (429 codes 45/44/1070) and `X-Rate-Limit-*` headers from here on;
5. latency, then at most one injected fault, then the handler. Unknown ids → code 1002.

(Over 400 lines: every Zoho Books endpoint the sandbox serves, each a short handler behind the one gate
above; records are rendered in `render.py`.)
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route
from starlette.types import Receive, Scope, Send

from zbsn.sandbox.company import Bill, VendorPayment
from zbsn.sandbox.documents import pdf_bytes
from zbsn.sandbox.zoho import render
from zbsn.sandbox.zoho.oauth import has_scope
from zbsn.sandbox.zoho.state import InvalidRequest, NotFound
from zbsn.sandbox.zoho.vendor_credits import VendorCreditsApi

if TYPE_CHECKING:
    from zbsn.sandbox.zoho.app import ZohoSandbox

NOT_FOUND_STATUS = 404  # [INF] reference open question 5: 404 or 400 for code 1002
MAX_PER_PAGE = 200  # [INF] larger per_page values are clamped to 200 (chart of accounts: 5000)
CODE_14 = (
    "The request could not be authenticated as the authentication value you entered is invalid. "
    "Enter a valid authentication value and try again."
)
CODE_57 = "You are not authorized to perform this operation"
BILL_SORTS = ("vendor_name", "bill_number", "date", "due_date", "total", "balance", "created_time")
STATUS_FILTERS = {
    "Status.All": None,
    "Status.Open": "open",
    "Status.Paid": "paid",
    "Status.Overdue": "overdue",
    "Status.Void": "void",
    "Status.PartiallyPaid": "partially_paid",
    "Status.Draft": "draft",
    "Status.PendingApproval": "pending_approval",  # [INF] filter name
}


class ApiError(Exception):
    """A Zoho error envelope: HTTP `status`, body `{"code": code, "message": message}`."""

    def __init__(self, status: int, code: int, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


def zoho_json(body: dict[str, Any], status: int = 200, headers: dict[str, str] | None = None) -> JSONResponse:
    """A JSON response with Zoho's content type."""
    response = JSONResponse(body, status_code=status, headers=headers)
    response.headers["content-type"] = "application/json;charset=UTF-8"
    return response


def error(status: int, code: int, message: str, headers: dict[str, str] | None = None) -> JSONResponse:
    """Zoho's flat error envelope."""
    return zoho_json({"code": code, "message": message}, status, headers)


@dataclass(slots=True)
class Call:
    """What a handler gets: the request, its DC, the drawn fault (if any)."""

    request: Request
    dc: str
    fault: str | None

    def param(self, name: str, default: str = "") -> str:
        return self.request.query_params.get(name, default)


def _page_args(call: Call, default_per_page: int = 200, maximum: int = MAX_PER_PAGE) -> tuple[int, int]:
    try:
        page = max(1, int(call.param("page", "1")))
        per_page = int(call.param("per_page", str(default_per_page)))
    except ValueError as exc:
        raise ApiError(400, 2, "Invalid value passed for page") from exc
    return page, min(max(per_page, 1), maximum)


def _page_number(request: Request) -> int:
    """The list page a request asks for (1 when it names none, or not a number)."""
    try:
        return int(request.query_params.get("page", "1"))
    except ValueError:
        return 1


def parse_zoho_time(value: str, tz: dt.tzinfo) -> dt.datetime:
    """`2026-06-09T13:17:42-0400` (colon optional; `+` may arrive as a space; no offset = org time zone)."""
    text = value.strip().replace(" ", "+")
    if len(text) >= 5 and text[-5] in "+-" and text[-4:].isdigit():
        text = text[:-2] + ":" + text[-2:]
    try:
        moment = dt.datetime.fromisoformat(text)
    except ValueError as exc:
        raise ApiError(400, 2, "Invalid value passed for last_modified_time") from exc
    return moment if moment.tzinfo else moment.replace(tzinfo=tz)


def _date_arg(call: Call, name: str) -> dt.date | None:
    value = call.param(name)
    if not value:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError as exc:
        raise ApiError(400, 2, f"Invalid value passed for {name}") from exc


def _page_context(
    page: int, per_page: int, more: bool, report: str, applied: str, sort: str, order: str
) -> dict[str, Any]:
    return {
        "page": page,
        "per_page": per_page,
        "has_more_page": more,
        "report_name": report,
        "applied_filter": applied,
        "custom_fields": [],
        "sort_column": sort,
        "sort_order": order,
        "search_criteria": [],
    }


class BooksApi:
    """Route handlers bound to one sandbox."""

    def __init__(self, sandbox: ZohoSandbox) -> None:
        self.sandbox = sandbox
        self.state = sandbox.state

    # ------------------------------------------------------------------------------------------- pipeline
    def route(
        self,
        path: str,
        handler: Callable[[Call], Awaitable[Response] | Response],
        scope: str,
        *,
        methods: tuple[str, ...] = ("GET",),
        needs_org: bool = True,
        faults: frozenset[str] = frozenset(),
    ) -> Route:
        """Wrap `handler` in the auth/org/scope/limit/fault pipeline."""
        label = f"{'/'.join(methods)} {path}"

        async def endpoint(request: Request) -> Response:
            response = await self._guarded(request, handler, scope, needs_org, faults, label)
            self.sandbox.limiter.record(label, response.status_code)
            return response

        return Route("/books/v3" + path, endpoint, methods=list(methods))

    async def _guarded(
        self,
        request: Request,
        handler: Callable[[Call], Awaitable[Response] | Response],
        scope: str,
        needs_org: bool,
        faults: frozenset[str],
        label: str = "",
    ) -> Response:
        sandbox = self.sandbox
        dc: str = request.scope["zoho_dc"]
        scheme, _, token = request.headers.get("authorization", "").strip().partition(" ")
        accepted = ("zoho-oauthtoken", "bearer") if sandbox.config.accept_bearer else ("zoho-oauthtoken",)
        if scheme.lower() not in accepted or not token.strip():
            return error(401, 14, CODE_14)
        access = sandbox.oauth.check(dc, token.strip())
        if access is None:
            return error(401, 57, CODE_57)
        org_id = request.query_params.get("organization_id") or request.headers.get(
            "x-com-zoho-books-organizationid"
        )
        if needs_org:
            if not org_id and not sandbox.config.default_org_fallback:
                return error(400, 2, "Invalid value passed for organization_id")
            if org_id and org_id != self.state.company.organization.organization_id:
                return error(401, 57, CODE_57)
        if sandbox.config.enforce_scopes and not has_scope(access.scopes, scope):
            return error(401, 57, CODE_57)
        limiter = sandbox.limiter
        refused, message = limiter.acquire()
        if refused is not None:
            return error(429, refused, message, limiter.headers())
        try:
            latency = sandbox.faults.config.latency_ms
            if latency > 0:
                await asyncio.sleep(latency / 1000)
            fault = sandbox.faults.draw(faults, label, _page_number(request))
            if fault == "error_5xx":
                return error(500, 1000, "Internal error", limiter.headers())
            if fault == "revoke_token":
                sandbox.oauth.revoke_behind(token.strip())
                return error(401, 57, CODE_57)
            try:
                result = handler(Call(request, dc, fault))
                response = await result if isinstance(result, Awaitable) else result
            except ApiError as exc:
                response = error(exc.status, exc.code, exc.message)
            except NotFound as exc:
                response = error(NOT_FOUND_STATUS, 1002, str(exc))
            except InvalidRequest as exc:
                response = error(400, exc.code, str(exc))
            response.headers.update(limiter.headers())
            if fault == "drop":
                return DroppedResponse(response)
            if fault == "slow":
                return _slow(response, sandbox.faults.config.slow_ms)
            return response
        finally:
            limiter.release()

    # ------------------------------------------------------------------------------------------- routes
    def routes(self) -> list[Route]:
        """All Books routes."""
        r = self.route
        read_bills, settings = "ZohoBooks.bills.READ", "ZohoBooks.settings.READ"
        return [
            r("/organizations", self.organizations, settings, needs_org=False),
            r("/organizations/{organization_id}", self.organization, settings, needs_org=False),
            r("/bills", self.list_bills, read_bills, faults=frozenset({"duplicate_page", "malformed"})),
            r("/bills", self.create_bill, "ZohoBooks.bills.CREATE", methods=("POST",)),
            r(
                "/bills/{bill_id}",
                self.get_bill,
                read_bills,
                faults=frozenset({"deleted_account", "malformed"}),
            ),
            r("/bills/{bill_id}/attachment", self.get_bill_attachment, read_bills),
            r("/bills/{bill_id}", self.update_bill, "ZohoBooks.bills.UPDATE", methods=("PUT",)),
            r("/bills/{bill_id}", self.delete_bill, "ZohoBooks.bills.DELETE", methods=("DELETE",)),
            # [INF] the scope of submit/approve is not in the reference; CREATE is the likeliest
            r("/bills/{bill_id}/submit", self.submit_bill, "ZohoBooks.bills.CREATE", methods=("POST",)),
            r("/bills/{bill_id}/approve", self.approve_bill, "ZohoBooks.bills.CREATE", methods=("POST",)),
            r("/contacts", self.list_contacts, "ZohoBooks.contacts.READ"),
            r("/contacts/{contact_id}", self.get_contact, "ZohoBooks.contacts.READ"),
            r("/vendorpayments", self.list_payments, "ZohoBooks.vendorpayments.READ"),
            r(
                "/vendorpayments/{payment_id}",
                self.get_payment,
                "ZohoBooks.vendorpayments.READ",
                faults=frozenset({"malformed"}),
            ),
            r(
                "/vendorpayments/{payment_id}",
                self.delete_payment,
                "ZohoBooks.vendorpayments.DELETE",
                methods=("DELETE",),
            ),
            r("/chartofaccounts", self.list_accounts, "ZohoBooks.accountants.READ"),
            r("/chartofaccounts/{account_id}", self.get_account, "ZohoBooks.accountants.READ"),
            r("/reportingtags", self.list_tags, settings),
            r("/reportingtags/{tag_id}", self.get_tag, settings),
            r("/reportingtags/{tag_id}/options", self.tag_options, settings),
            r("/settings/tags", self.list_tags, settings),
            r("/settings/tags/{tag_id}", self.get_tag_legacy, settings),
            r("/locations", self.list_locations, settings),
            *VendorCreditsApi(self).routes(r),
        ]

    # ------------------------------------------------------------------------------------------- handlers
    def organizations(self, call: Call) -> Response:
        with self.state.lock:
            return zoho_json(
                {"code": 0, "message": "success", "organizations": [render.organization(self.state)]}
            )

    def organization(self, call: Call) -> Response:
        with self.state.lock:
            if call.request.path_params["organization_id"] != self.state.company.organization.organization_id:
                raise ApiError(401, 57, CODE_57)
            return zoho_json(
                {"code": 0, "message": "success", "organization": render.organization(self.state)}
            )

    def _bill_ids(self, call: Call) -> tuple[list[str], str, str, str]:
        state = self.state
        filter_by = call.param("filter_by", "Status.All")
        if filter_by not in STATUS_FILTERS:
            raise ApiError(400, 2, "Invalid value passed for filter_by")
        status = call.param("status") or STATUS_FILTERS[filter_by]
        sort = call.param("sort_column", "created_time")
        order = call.param("sort_order", "D")
        if sort not in BILL_SORTS:
            raise ApiError(400, 2, "Invalid value passed for sort_column")
        if order not in ("A", "D"):
            raise ApiError(400, 2, "Invalid value passed for sort_order")
        modified = call.param("last_modified_time")
        since = parse_zoho_time(modified, state.tz).replace(microsecond=0) if modified else None
        vendor = call.param("vendor_id")
        start = _date_arg(call, "date_start") or _date_arg(call, "date_after")
        end = _date_arg(call, "date_end") or _date_arg(call, "date_before")
        exact = _date_arg(call, "date")
        number = call.param("bill_number")
        key = ("bills", status, sort, order, since, vendor, start, end, exact, number)

        def compute() -> list[str]:
            def keep(bill: Bill) -> bool:
                return (
                    (status is None or bill.status == status)
                    and (since is None or bill.last_modified_time >= since)
                    and (not vendor or bill.vendor_id == vendor)
                    and (start is None or bill.date >= start)
                    and (end is None or bill.date <= end)
                    and (exact is None or bill.date == exact)
                    and (not number or bill.bill_number == number)
                )

            chosen = [b for b in state.bills.values() if keep(b)]
            sort_key: Callable[[Bill], Any] = {
                "vendor_name": lambda b: (
                    state.vendors[b.vendor_id].name.lower() if b.vendor_id in state.vendors else ""
                ),
                "bill_number": lambda b: b.bill_number,
                "date": lambda b: b.date,
                "due_date": lambda b: b.due_date,
                "total": lambda b: state.totals[b.bill_id],
                "balance": lambda b: state.balance(b.bill_id),
                "created_time": lambda b: b.created_time,
            }[sort]
            chosen.sort(key=lambda b: (sort_key(b), b.bill_id), reverse=order == "D")
            return [b.bill_id for b in chosen]

        ids: list[str] = state.cached(key, compute)
        return ids, filter_by, sort, order

    def list_bills(self, call: Call) -> Response:
        state = self.state
        page, per_page = _page_args(call)
        with state.lock:
            ids, applied, sort, order = self._bill_ids(call)
            offset = (page - 1) * per_page
            if call.fault == "duplicate_page" and page > 1:
                offset -= 1  # the previous page's last bill shows up again at the top of this page
            window = ids[offset : offset + per_page + 1]
            more = len(window) > per_page
            bills = [render.bill_summary(state, state.bills[i]) for i in window[:per_page]]
        if call.fault == "malformed" and bills:
            bills[len(bills) // 2]["total"] = f"#ERR{bills[len(bills) // 2]['total']}"
        return zoho_json(
            {
                "code": 0,
                "message": "success",
                "bills": bills,
                "page_context": _page_context(page, per_page, more, "Bills", applied, sort, order),
            }
        )

    def get_bill(self, call: Call) -> Response:
        with self.state.lock:
            bill = self.state.get_bill(call.request.path_params["bill_id"])
            body = render.bill_detail(
                self.state,
                bill,
                malformed=call.fault == "malformed",
                broken_account_line=0 if call.fault == "deleted_account" else None,
            )
        return zoho_json({"code": 0, "message": "success", "bill": body})

    def get_bill_attachment(self, call: Call) -> Response:
        """`GET /bills/{id}/attachment`: the bill's (first) document as its bytes (zoho-ref §4.2). [I] A bill
        without one answers as an unknown record does (the reference records no error code for it)."""
        with self.state.lock:
            bill = self.state.get_bill(call.request.path_params["bill_id"])
            if not bill.documents:
                raise NotFound("attachment")
            document = bill.documents[0]
            content = pdf_bytes(bill, document)
        return Response(
            content,
            media_type="application/pdf",
            headers={"Content-Disposition": f'attachment; filename="{document.file_name}"'},
        )

    async def _write_body(self, call: Call) -> dict[str, Any]:
        raw: str
        content_type = call.request.headers.get("content-type", "")
        if "application/x-www-form-urlencoded" in content_type or "multipart/form-data" in content_type:
            form = await call.request.form()
            raw = str(form.get("JSONString", ""))
        else:
            raw = (await call.request.body()).decode("utf-8", "replace")
        try:
            data = json.loads(raw)
        except json.JSONDecodeError as exc:
            raise ApiError(400, 1038, "JSON is not well formed") from exc
        if not isinstance(data, dict):
            raise ApiError(400, 1038, "JSON is not well formed")
        return data

    async def create_bill(self, call: Call) -> Response:
        bill = self.sandbox.add_bill(await self._write_body(call))
        with self.state.lock:
            body = render.bill_detail(self.state, bill)
        return zoho_json({"code": 0, "message": "The bill has been created.", "bill": body}, 201)

    async def update_bill(self, call: Call) -> Response:
        bill = self.sandbox.edit_bill(call.request.path_params["bill_id"], await self._write_body(call))
        with self.state.lock:
            body = render.bill_detail(self.state, bill)
        return zoho_json({"code": 0, "message": "Bill information has been updated.", "bill": body})

    def submit_bill(self, call: Call) -> Response:
        self.sandbox.submit_bill(call.request.path_params["bill_id"])
        return zoho_json({"code": 0, "message": "The bill has been submitted for approval."})

    def approve_bill(self, call: Call) -> Response:
        self.sandbox.approve_bill(call.request.path_params["bill_id"])
        return zoho_json({"code": 0, "message": "The bill has been approved."})

    def delete_bill(self, call: Call) -> Response:
        self.sandbox.delete_bill(call.request.path_params["bill_id"])
        return zoho_json({"code": 0, "message": "The bill has been deleted."})

    def list_contacts(self, call: Call) -> Response:
        # `last_modified_time` is not a documented filter on /contacts: ignored (zoho-ref §4.3).
        state = self.state
        page, per_page = _page_args(call)
        sort = call.param("sort_column", "contact_name")
        order = call.param("sort_order", "A")
        with state.lock:
            vendors = list(state.vendors.values()) if call.param("contact_type", "vendor") == "vendor" else []
            keys: dict[str, Callable[[Any], Any]] = {
                "contact_name": lambda v: v.name.lower(),
                "created_time": lambda v: v.contact_id,
                "last_modified_time": lambda v: v.contact_id,
            }
            vendors.sort(
                key=lambda v: (keys.get(sort, keys["contact_name"])(v), v.contact_id), reverse=order == "D"
            )
            window = vendors[(page - 1) * per_page : page * per_page + 1]
            contacts = [render.contact_summary(state, v) for v in window[:per_page]]
        return zoho_json(
            {
                "code": 0,
                "message": "success",
                "contacts": contacts,
                "page_context": _page_context(
                    page,
                    per_page,
                    len(window) > per_page,
                    "Contacts",
                    call.param("filter_by", "Status.All"),
                    sort,
                    order,
                ),
            }
        )

    def get_contact(self, call: Call) -> Response:
        with self.state.lock:
            vendor = self.state.vendors.get(call.request.path_params["contact_id"])
            if vendor is None:
                raise NotFound("Contact")
            return zoho_json(
                {"code": 0, "message": "success", "contact": render.contact_detail(self.state, vendor)}
            )

    def list_payments(self, call: Call) -> Response:
        state = self.state
        page, per_page = _page_args(call)
        sort = call.param("sort_column", "date")
        order = call.param("sort_order", "D")
        if sort not in ("vendor_name", "date", "reference_number", "amount", "balance", "payment_number"):
            raise ApiError(400, 2, "Invalid value passed for sort_column")
        modified = call.param("last_modified_time")
        since = parse_zoho_time(modified, state.tz).replace(microsecond=0) if modified else None
        vendor, bill_id = call.param("vendor_id"), call.param("bill_id")
        start = _date_arg(call, "date_start") or _date_arg(call, "date_after")
        end = _date_arg(call, "date_end") or _date_arg(call, "date_before")
        mode = call.param("filter_by", "PaymentMode.All")
        wanted_mode = {
            "PaymentMode.Check": "Check",
            "PaymentMode.Cash": "Cash",
            "PaymentMode.BankTransfer": "Bank Transfer",
        }.get(mode)

        def compute() -> list[str]:
            def keep(p: VendorPayment) -> bool:
                return (
                    (since is None or p.last_modified_time >= since)
                    and (not vendor or p.vendor_id == vendor)
                    and (not bill_id or any(a.bill_id == bill_id for a in p.allocations))
                    and (start is None or p.date >= start)
                    and (end is None or p.date <= end)
                    and (mode == "PaymentMode.All" or p.payment_mode == wanted_mode)
                )

            def sort_key(p: VendorPayment) -> Any:
                if sort == "vendor_name":
                    vendor_row = state.vendors.get(p.vendor_id)
                    return vendor_row.name.lower() if vendor_row else ""
                if sort in ("amount", "balance"):
                    return p.amount
                if sort == "payment_number":
                    return int(p.payment_number) if p.payment_number.isdigit() else 0
                return getattr(p, sort)

            chosen = [p for p in state.payments.values() if keep(p)]
            chosen.sort(key=lambda p: (sort_key(p), p.payment_id), reverse=order == "D")
            return [p.payment_id for p in chosen]

        with state.lock:
            ids: list[str] = state.cached(
                ("payments", since, vendor, bill_id, start, end, mode, sort, order), compute
            )
            window = ids[(page - 1) * per_page : page * per_page + 1]
            rows = [render.payment_summary(state, state.payments[i]) for i in window[:per_page]]
        return zoho_json(
            {
                "code": 0,
                "message": "success",
                "vendorpayments": rows,
                "page_context": _page_context(
                    page, per_page, len(window) > per_page, "Payments Made", mode, sort, order
                ),
            }
        )

    def delete_payment(self, call: Call) -> Response:
        self.sandbox.delete_payment(call.request.path_params["payment_id"])
        return zoho_json({"code": 0, "message": "The payment has been deleted."})

    def get_payment(self, call: Call) -> Response:
        with self.state.lock:
            payment = self.state.get_payment(call.request.path_params["payment_id"])
            body = render.payment_detail(self.state, payment, malformed=call.fault == "malformed")
        return zoho_json({"code": 0, "message": "success", "vendorpayment": body})

    def list_accounts(self, call: Call) -> Response:
        state = self.state
        page, per_page = _page_args(call, 5000, 5000)  # recorded default per_page 5000 [REC]
        applied = call.param("filter_by", "AccountType.Active")
        groups = {
            "AccountType.Asset": ("bank", "cash", "other_current_asset", "fixed_asset", "other_asset"),
            "AccountType.Liability": (
                "accounts_payable",
                "other_current_liability",
                "credit_card",
                "long_term_liability",
                "other_liability",
            ),
            "AccountType.Equity": ("equity",),
            "AccountType.Income": ("income", "other_income"),
            "AccountType.Expense": ("expense", "cost_of_goods_sold", "other_expense"),
        }
        if applied not in (*groups, "AccountType.All", "AccountType.Active", "AccountType.Inactive"):
            raise ApiError(400, 2, "Invalid value passed for filter_by")
        with state.lock:
            accounts = [
                a
                for a in state.accounts.values()
                if applied in ("AccountType.All", "AccountType.Active")
                or a.account_type in groups.get(applied, ())
            ]
            window = accounts[(page - 1) * per_page : page * per_page + 1]
            rows = [render.account(state, a) for a in window[:per_page]]
        return zoho_json(
            {
                "code": 0,
                "message": "success",
                "chartofaccounts": rows,
                "page_context": _page_context(
                    page, per_page, len(window) > per_page, "Chart of Accounts", applied, "account_name", "A"
                ),
            }
        )

    def get_account(self, call: Call) -> Response:
        with self.state.lock:
            entry = self.state.accounts.get(call.request.path_params["account_id"])
            if entry is None:
                raise NotFound("Account")
            return zoho_json(
                {"code": 0, "message": "success", "chart_of_account": render.account(self.state, entry)}
            )

    def _tag(self, call: Call) -> None:
        if call.request.path_params["tag_id"] != self.state.company.cost_center_tag_id:
            raise NotFound("Reporting tag")

    def list_tags(self, call: Call) -> Response:
        # [INF] response key `reporting_tags`; options come from /reportingtags/{id} or /{id}/options.
        with self.state.lock:
            tags = [render.reporting_tag(self.state, with_options=False)]
        return zoho_json(
            {
                "code": 0,
                "message": "success",
                "reporting_tags": tags,
                "page_context": _page_context(1, 200, False, "Reporting Tags", "Status.All", "tag_name", "A"),
            }
        )

    def get_tag(self, call: Call) -> Response:
        with self.state.lock:
            self._tag(call)
            tag = render.reporting_tag(self.state, with_options=True)
        return zoho_json({"code": 0, "message": "success", "reporting_tag": tag})

    def tag_options(self, call: Call) -> Response:
        with self.state.lock:
            self._tag(call)
            options = [render.tag_option(o) for o in self.state.cost_centers.values()]
        return zoho_json({"code": 0, "message": "success", "tag_options": options})

    def get_tag_legacy(self, call: Call) -> Response:
        with self.state.lock:
            self._tag(call)
            tag = render.reporting_tag(self.state, with_options=True)
        return zoho_json({"code": 0, "message": "success", "tag": tag})

    def list_locations(self, call: Call) -> Response:
        with self.state.lock:
            rows = [render.location(self.state, o, i == 0) for i, o in enumerate(self.state.offices.values())]
        return zoho_json(
            {
                "code": 0,
                "message": "success",
                "locations": rows,
                "page_context": _page_context(1, 200, False, "Locations", "Status.All", "location_name", "A"),
            }
        )


class DroppedResponse(Response):
    """Fault "drop": send the headers and half the body, then stop; the server closes the connection."""

    def __init__(self, inner: Response) -> None:
        super().__init__(inner.body, inner.status_code, dict(inner.headers))
        self.inner = inner

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await send({"type": "http.response.start", "status": self.status_code, "headers": self.raw_headers})
        await send(
            {"type": "http.response.body", "body": self.body[: len(self.body) // 2], "more_body": True}
        )
        # Returning with the body incomplete makes uvicorn close the connection (it logs one line about it).


def _slow(response: Response, slow_ms: float) -> Response:
    """Fault "slow": the body trickles out in 10 chunks over `slow_ms`."""
    body = bytes(response.body)
    headers = {k: v for k, v in response.headers.items() if k.lower() != "content-length"}

    async def trickle() -> AsyncIterator[bytes]:
        step = max(1, len(body) // 10 + 1)
        for start in range(0, len(body), step):
            await asyncio.sleep(slow_ms / 1000 / 10)
            yield body[start : start + step]

    return StreamingResponse(trickle(), status_code=response.status_code, headers=headers)
