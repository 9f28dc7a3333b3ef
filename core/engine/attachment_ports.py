"""What the clients must offer for the vendor's invoice document to be attached (beside `ports.py`, so a
client without attachments, e.g. an in-memory benchmark target, still runs everything else)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Protocol, runtime_checkable

from zbsn.core.servicenow.attachments import SNAttachment
from zbsn.core.zoho.models import RecordError, ZohoAttachmentFile


@runtime_checkable
class AttachmentSource(Protocol):
    """Zoho's side: a bill's attachment (ZohoBooksClient)."""

    async def get_bill_attachment(self, bill_id: str) -> ZohoAttachmentFile | RecordError: ...


@runtime_checkable
class AttachmentTarget(Protocol):
    """ServiceNow's side: the Attachment API (ServiceNowClient)."""

    async def attach_file(
        self, table: str, record_sys_id: str, file_name: str, content: bytes, content_type: str
    ) -> SNAttachment: ...

    async def list_attachments(self, table: str, record_sys_ids: Iterable[str]) -> list[SNAttachment]: ...
