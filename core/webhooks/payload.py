"""Reading a Zoho webhook delivery: which event it is, which entity it carries, and the entity itself."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

ENTITY_KEYS = ("bill", "vendorpayment", "vendor_payment", "contact")
EVENT_HEADERS = ("x-zoho-event", "x-zbsn-event")
EVENT_PARAMS = ("event_type", "event")


def parse_json_object(body: bytes | str) -> dict[str, Any] | None:
    """The body as a JSON object, or None when it is not one."""
    try:
        value = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        return None
    return value if isinstance(value, dict) else None


def entity_of(document: Mapping[str, Any]) -> tuple[str | None, dict[str, Any] | None]:
    """The entity name and object of a Default Payload (`{"bill": {...}}`), or a bare bill object."""
    for key in ENTITY_KEYS:
        value = document.get(key)
        if isinstance(value, dict):
            return ("vendorpayment" if key == "vendor_payment" else key), value
    if "bill_id" in document:
        return "bill", dict(document)
    if "payment_id" in document:
        return "vendorpayment", dict(document)
    return None, None


def entity_id_of(
    entity: str | None, obj: Mapping[str, Any] | None, document: Mapping[str, Any]
) -> str | None:
    """The Zoho id of the entity (delete rules may send only the id at the top level)."""
    keys = {"bill": "bill_id", "vendorpayment": "payment_id", "contact": "contact_id"}
    for source in (obj or {}, document):
        for key in ([keys[entity]] if entity in keys else []) + ["bill_id", "payment_id", "entity_id", "id"]:
            value = source.get(key)
            if value not in (None, ""):
                return str(value)
    return None


def event_type_of(
    headers: Mapping[str, str], params: Mapping[str, str], document: Mapping[str, Any] | None
) -> str:
    """The event type from a header, a query parameter, the body, or (last) the entity name."""
    for name in EVENT_HEADERS:
        if headers.get(name):
            return headers[name].strip()
    for name in EVENT_PARAMS:
        if params.get(name):
            return params[name].strip()
    if document is not None:
        for name in EVENT_PARAMS:
            value = document.get(name)
            if isinstance(value, str) and value:
                return value.strip()
        entity, _ = entity_of(document)
        if entity is not None:
            return f"{entity}.edited"
    return "unknown"
