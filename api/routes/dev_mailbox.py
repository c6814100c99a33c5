"""`GET /dev/mailbox`: what the development SMTP sink captured (development only)."""

from __future__ import annotations

import mailbox
from datetime import UTC
from datetime import datetime
from email.header import decode_header
from email.header import make_header
from email.message import Message
from typing import Annotated

from fastapi import APIRouter
from fastapi import Query
from pydantic import BaseModel

from api.deps import SettingsDep

# Mounted in development only, and never in the OpenAPI schema (it lists every mailed link).
router = APIRouter(prefix="/dev", tags=["development"], include_in_schema=False)


class CapturedMail(BaseModel):
    to: str
    subject: str
    text: str
    html: str
    message_id: str
    received_at: datetime


def _part(message: Message, content_type: str) -> str:
    for part in message.walk():
        if part.get_content_type() == content_type:
            payload = part.get_payload(decode=True)
            if isinstance(payload, bytes):
                return payload.decode(part.get_content_charset() or "utf-8", "replace")
    return ""


def _header(message: Message, name: str) -> str:
    return str(make_header(decode_header(message.get(name, ""))))


def _captured(message: mailbox.MaildirMessage) -> CapturedMail:
    return CapturedMail(
        to=_header(message, "To"),
        subject=_header(message, "Subject"),
        text=_part(message, "text/plain"),
        html=_part(message, "text/html"),
        message_id=str(message.get("Message-ID", "")),
        received_at=datetime.fromtimestamp(message.get_date(), UTC),
    )


@router.get("/mailbox")
def dev_mailbox(
    settings: SettingsDep,
    to: Annotated[str | None, Query(max_length=320)] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
) -> list[CapturedMail]:
    """Captured messages, newest first; `to` filters by recipient."""
    if not (settings.mailbox_dir / "new").is_dir():
        return []
    box = mailbox.Maildir(settings.mailbox_dir, create=False)
    mails = [_captured(message) for message in box]
    if to:
        mails = [mail for mail in mails if to.lower() in mail.to.lower()]
    mails.sort(key=lambda mail: mail.received_at, reverse=True)
    return mails[:limit]
