"""The Zoho Books v3 client: typed reads of the AP objects of one organisation (zoho-ref §3 to §5).

Calls go to the `api_domain` persisted with the tokens (+ `/books/v3`), always with `organization_id`,
through the org's shared `OrgBudget`. Error envelopes raise (`ZohoApiError`, `ZohoNotFound`); a record that
fails validation comes back as a `RecordError` and the walk goes on.

(Just over 400 lines: one method per Zoho Books endpoint zbsn reads, each a few lines over the shared
request path; the models live in `zoho.models`.)
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from datetime import date
from typing import Any, TypeVar
from urllib.parse import quote

import httpx
from pydantic import ValidationError

from zbsn.core.clock import Clock, SystemClock
from zbsn.core.tls import tls_context
from zbsn.core.zoho.auth import MAX_TOKEN_LIFETIME_S, ZohoTokenManager
from zbsn.core.zoho.budget import OrgBudget, budget_for
from zbsn.core.zoho.errors import ZohoApiError, ZohoNotFound, ZohoTokenThrottled
from zbsn.core.zoho.models import (
    RecordError,
    ZohoAccount,
    ZohoAttachmentFile,
    ZohoBill,
    ZohoBillSummary,
    ZohoLocation,
    ZohoModel,
    ZohoOrganization,
    ZohoReportingTag,
    ZohoVendor,
    ZohoVendorCredit,
    ZohoVendorCreditSummary,
    ZohoVendorPayment,
)
from zbsn.core.zoho.pagination import WalkStats, walk_pages
from zbsn.core.zoho.regions import books_base_url

M = TypeVar("M", bound=ZohoModel)
PER_PAGE = 200
REQUEST_TIMEOUT_S = 60.0
# [INF] the key of GET /reportingtags is not documented: code in the wild reads either (zoho-ref §4.6).
REPORTING_TAG_LIST_KEYS = ("reporting_tags", "reportingtags", "tags")
REPORTING_TAG_DETAIL_KEYS = ("reporting_tag", "reportingtag", "tag")
TAG_OPTION_KEYS = ("tag_options", "options")


def _check_envelope(response: httpx.Response) -> dict[str, Any]:
    """The JSON body of a successful response; raise on HTTP >= 400 or a non-zero `code`."""
    try:
        body = response.json()
    except ValueError:
        body = None
    if not isinstance(body, dict):
        raise ZohoApiError(None, "response is not a JSON object", response.status_code)
    code = body.get("code")
    message = str(body.get("message", ""))
    if response.status_code == 404 or code == 1002:
        raise ZohoNotFound(code if isinstance(code, int) else None, message, response.status_code)
    if response.status_code >= 400 or code not in (0, None):
        raise ZohoApiError(code if isinstance(code, int) else None, message, response.status_code)
    return body


def _usable_id(record_id: str) -> bool:
    """True when the id can stand as one URL path segment as it is (Zoho ids are long digit strings)."""
    return bool(record_id) and record_id not in (".", "..") and quote(record_id, safe="") == record_id


def _parse(model: type[M], entity: str, id_field: str, raw: Any) -> M | RecordError:
    if not isinstance(raw, dict):
        return RecordError(
            entity=entity, record_id=None, reason="record is not an object", raw={"value": raw}
        )
    record_id = raw.get(id_field)
    try:
        parsed = model.model_validate(raw)
    except (ValidationError, ValueError) as exc:
        reason = "; ".join(
            f"{'.'.join(str(p) for p in err['loc'])}: {err['msg']}"
            for err in (exc.errors() if isinstance(exc, ValidationError) else [])
        ) or str(exc)
        return RecordError(
            entity=entity,
            record_id=str(record_id) if record_id not in (None, "") else None,
            reason=reason,
            raw=raw,
        )
    if "last_modified_time_raw" in model.model_fields and raw.get("last_modified_time"):
        parsed.__dict__["last_modified_time_raw"] = str(raw["last_modified_time"])
    return parsed


class ZohoBooksClient:
    """Reads bills, vendors, vendor payments and reference data of one Zoho Books organisation."""

    def __init__(
        self,
        *,
        organization_id: str,
        tokens: ZohoTokenManager,
        budget: OrgBudget | None = None,
        api_domain: str | None = None,
        http: httpx.AsyncClient | None = None,
        clock: Clock | None = None,
        per_page: int = PER_PAGE,
    ) -> None:
        self.organization_id = organization_id
        self.tokens = tokens
        self.budget = budget or budget_for(organization_id)
        self._api_domain = api_domain
        self._owns_http = http is None
        self._http = http or httpx.AsyncClient(timeout=REQUEST_TIMEOUT_S, verify=tls_context())
        self._clock: Clock = clock or SystemClock()
        self.per_page = per_page
        self._auth = tokens.auth(before_retry=self._before_auth_retry)
        self._request_count = 0
        self.last_walk = WalkStats()

    @property
    def request_count(self) -> int:
        """HTTP requests this client sent to the Books API (retries included)."""
        return self._request_count

    async def aclose(self) -> None:
        """Close the HTTP client if this client created it."""
        if self._owns_http:
            await self._http.aclose()

    async def __aenter__(self) -> ZohoBooksClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    # -- transport ------------------------------------------------------------------------------------------
    async def base_url(self) -> str:
        """The Books base URL: the given api_domain, else the one persisted with the tokens."""
        domain = self._api_domain or await self.tokens.api_domain()
        return books_base_url(domain)

    async def _before_auth_retry(self) -> None:
        self._request_count += 1
        await self.budget.reserve_extra()

    async def _before_wait(self, seconds: float) -> None:
        wanted = seconds + self.tokens.refresh_margin_s
        if wanted >= MAX_TOKEN_LIFETIME_S:
            return  # a token minted now would not outlive the wait either; refresh when sending
        try:
            await self.tokens.ensure_valid(wanted)
        except ZohoTokenThrottled:
            return  # the send after the wait will report it if the token is dead by then

    async def _get(
        self, path: str, params: dict[str, Any] | None = None, *, org: bool = True
    ) -> dict[str, Any]:
        url = await self.base_url() + path
        query = {k: v for k, v in (params or {}).items() if v is not None}
        if org:
            query["organization_id"] = self.organization_id

        async def call() -> httpx.Response:
            self._request_count += 1
            return await self._http.get(url, params=query, auth=self._auth)

        response = await self.budget.send(call, before_wait=self._before_wait)
        return _check_envelope(response)

    async def _walk(
        self,
        path: str,
        params: dict[str, Any],
        keys: Sequence[str],
        model: type[M],
        entity: str,
        id_field: str,
    ) -> AsyncIterator[M | RecordError]:
        stats = WalkStats()
        self.last_walk = stats

        async def fetch(page: int) -> dict[str, Any]:
            return await self._get(path, {**params, "page": page, "per_page": self.per_page})

        async for raw in walk_pages(fetch, keys, id_field, stats):
            yield _parse(model, entity, id_field, raw)

    async def _detail(
        self, path: str, key: str, model: type[M], entity: str, id_field: str, record_id: str | None = None
    ) -> M | RecordError:
        if record_id is not None and not _usable_id(record_id):
            # an id no Zoho record can have ("", "a/b", "..") would reach another URL: fail the record instead
            return RecordError(
                entity=entity, record_id=record_id, reason=f"{id_field} {record_id!r} is not a Zoho id"
            )
        body = await self._get(path)
        return _parse(model, entity, id_field, body.get(key))

    # -- organisations --------------------------------------------------------------------------------------
    async def get_organizations(self) -> list[ZohoOrganization | RecordError]:
        """Every organisation the token's user can reach (no organization_id sent)."""
        body = await self._get("/organizations", org=False)
        rows = body.get("organizations")
        return [
            _parse(ZohoOrganization, "organization", "organization_id", raw)
            for raw in (rows if isinstance(rows, list) else [])
        ]

    async def get_organization(self) -> ZohoOrganization | RecordError:
        """This client's organisation."""
        path = f"/organizations/{self.organization_id}"
        return await self._detail(path, "organization", ZohoOrganization, "organization", "organization_id")

    # -- bills ----------------------------------------------------------------------------------------------
    def iter_bills(
        self,
        modified_since: str | None = None,
        date_start: date | None = None,
        date_end: date | None = None,
    ) -> AsyncIterator[ZohoBillSummary | RecordError]:
        """Bill summaries (no lines), oldest first; `modified_since` is Zoho's own timestamp string (≥)."""
        params: dict[str, Any] = {
            "sort_column": "created_time",
            "sort_order": "A",
            "last_modified_time": modified_since,
            "date_start": date_start.isoformat() if date_start else None,
            "date_end": date_end.isoformat() if date_end else None,
        }
        return self._walk("/bills", params, ("bills",), ZohoBillSummary, "bill", "bill_id")

    async def get_bill(self, bill_id: str) -> ZohoBill | RecordError:
        """One bill with its line items."""
        return await self._detail(f"/bills/{bill_id}", "bill", ZohoBill, "bill", "bill_id", bill_id)

    async def get_bill_attachment(self, bill_id: str) -> ZohoAttachmentFile | RecordError:
        """The file attached to a bill (`GET /bills/{id}/attachment`, zoho-ref §4.2): one request, through the
        org's budget like any other. An error envelope raises as `_get` does (ZohoNotFound: no such bill)."""
        if not _usable_id(bill_id):
            return RecordError(
                entity="attachment", record_id=bill_id, reason=f"bill_id {bill_id!r} is not a Zoho id"
            )
        url = await self.base_url() + f"/bills/{bill_id}/attachment"
        query = {"organization_id": self.organization_id}

        files: list[httpx.Response] = []

        async def call() -> httpx.Response:
            self._request_count += 1
            response = await self._http.get(url, params=query, auth=self._auth)
            if response.is_success and _media_type(response) != "application/json":
                # The budget takes a 2xx that is not JSON for a garbled answer and retries it: the file is
                # kept here and the budget sees a success envelope carrying the response's headers.
                files.append(response)
                return httpx.Response(
                    response.status_code,
                    headers={
                        k: v for k, v in response.headers.items() if not k.lower().startswith("content-")
                    },
                    json={"code": 0, "message": "file received"},
                    request=response.request,
                )
            return response

        response = await self.budget.send(call, before_wait=self._before_wait)
        if not files:
            _check_envelope(response)  # raises with Zoho's code and message
            return RecordError(entity="attachment", record_id=bill_id, reason="Zoho sent no file")
        received = files[-1]
        return ZohoAttachmentFile(
            bill_id=bill_id,
            file_name=_disposition_name(received.headers.get("content-disposition", "")),
            content_type=_media_type(received) or "application/octet-stream",
            content=received.content,
        )

    # -- vendors --------------------------------------------------------------------------------------------
    def iter_vendors(self) -> AsyncIterator[ZohoVendor | RecordError]:
        """Every vendor contact (full refresh: /contacts has no documented modified filter)."""
        params = {"contact_type": "vendor", "sort_column": "created_time", "sort_order": "A"}
        return self._walk("/contacts", params, ("contacts",), ZohoVendor, "vendor", "contact_id")

    async def get_vendor(self, contact_id: str) -> ZohoVendor | RecordError:
        """One vendor with addresses and tax ids."""
        return await self._detail(
            f"/contacts/{contact_id}", "contact", ZohoVendor, "vendor", "contact_id", contact_id
        )

    # -- vendor payments ------------------------------------------------------------------------------------
    def iter_vendor_payments(
        self, modified_since: str | None = None
    ) -> AsyncIterator[ZohoVendorPayment | RecordError]:
        """Vendor payments (no bill allocations); `modified_since` is Zoho's own timestamp string (≥)."""
        params = {"last_modified_time": modified_since, "sort_column": "date", "sort_order": "A"}
        return self._walk(
            "/vendorpayments", params, ("vendorpayments",), ZohoVendorPayment, "vendorpayment", "payment_id"
        )

    async def get_vendor_payment(self, payment_id: str) -> ZohoVendorPayment | RecordError:
        """One vendor payment with the bills it pays."""
        return await self._detail(
            f"/vendorpayments/{payment_id}",
            "vendorpayment",
            ZohoVendorPayment,
            "vendorpayment",
            "payment_id",
            payment_id,
        )

    # -- vendor credits (debit notes) -----------------------------------------------------------------------
    def iter_vendor_credits(
        self, modified_since: str | None = None
    ) -> AsyncIterator[ZohoVendorCreditSummary | RecordError]:
        """Vendor credits (no lines), oldest first; `modified_since` is Zoho's own timestamp string (≥).
        Scope `ZohoBooks.debitnotes.READ`. [I] `last_modified_time` filters this list as it does bills'."""
        params = {"last_modified_time": modified_since, "sort_column": "created_time", "sort_order": "A"}
        return self._walk(
            "/vendorcredits",
            params,
            ("vendorcredits",),
            ZohoVendorCreditSummary,
            "vendorcredit",
            "vendor_credit_id",
        )

    async def get_vendor_credit(self, vendor_credit_id: str) -> ZohoVendorCredit | RecordError:
        """One vendor credit with its lines and the bills it was applied to (`bills_credited`)."""
        return await self._detail(
            f"/vendorcredits/{vendor_credit_id}",
            "vendor_credit",
            ZohoVendorCredit,
            "vendorcredit",
            "vendor_credit_id",
            vendor_credit_id,
        )

    # -- reference data -------------------------------------------------------------------------------------
    async def list_accounts(self) -> list[ZohoAccount | RecordError]:
        """The whole chart of accounts, inactive accounts included."""
        params = {"filter_by": "AccountType.All"}
        walk = self._walk(
            "/chartofaccounts", params, ("chartofaccounts",), ZohoAccount, "account", "account_id"
        )
        return [record async for record in walk]

    async def list_locations(self) -> list[ZohoLocation | RecordError]:
        """Every location (formerly branch)."""
        walk = self._walk("/locations", {}, ("locations",), ZohoLocation, "location", "location_id")
        return [record async for record in walk]

    async def list_reporting_tags(self) -> list[ZohoReportingTag | RecordError]:
        """Every reporting tag with its options (fetched per tag when the list omits them)."""
        stats = WalkStats()
        self.last_walk = stats

        async def fetch(page: int) -> dict[str, Any]:
            return await self._get("/reportingtags", {"page": page, "per_page": self.per_page})

        tags: list[ZohoReportingTag | RecordError] = []
        async for raw in walk_pages(fetch, REPORTING_TAG_LIST_KEYS, "tag_id", stats):
            if isinstance(raw, dict) and not any(isinstance(raw.get(k), list) for k in TAG_OPTION_KEYS):
                raw = await self._reporting_tag_detail(raw)
            tags.append(_parse(ZohoReportingTag, "reporting_tag", "tag_id", _normalise_tag(raw)))
        return tags

    async def _reporting_tag_detail(self, summary: dict[str, Any]) -> dict[str, Any]:
        tag_id = summary.get("tag_id")
        if tag_id in (None, ""):
            return summary
        body = await self._get(f"/reportingtags/{tag_id}")
        for key in REPORTING_TAG_DETAIL_KEYS:
            detail = body.get(key)
            if isinstance(detail, dict):
                return {**summary, **detail}
        options = next((body[k] for k in TAG_OPTION_KEYS if isinstance(body.get(k), list)), None)
        return {**summary, "tag_options": options} if options is not None else summary


def _media_type(response: httpx.Response) -> str:
    value: str = response.headers.get("content-type", "")
    return value.split(";")[0].strip().lower()


def _disposition_name(header: str) -> str | None:
    """The file name of a `Content-Disposition` header (`filename="x.pdf"`), if any."""
    for part in header.split(";"):
        name, _, value = part.strip().partition("=")
        if name.lower() == "filename" and value.strip('"'):
            return value.strip('"')
    return None


def _normalise_tag(raw: Any) -> Any:
    """Accept `options` for `tag_options` and `option_id/option_name` for the option fields."""
    if not isinstance(raw, dict):
        return raw
    options: list[Any] = next((raw[k] for k in TAG_OPTION_KEYS if isinstance(raw.get(k), list)), [])
    normalised: list[Any] = []
    for option in options:
        if isinstance(option, dict):
            option = {
                **option,
                "tag_option_id": option.get("tag_option_id", option.get("option_id")),
                "tag_option_name": option.get("tag_option_name", option.get("option_name")),
            }
        normalised.append(option)
    return {**raw, "tag_options": normalised}
