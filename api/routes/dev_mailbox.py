"""`GET /dev/mailbox`: what the development SMTP sink captured (development only). Scripts and the
walkthroughs read the newest mail to an address, or just its link, waiting for it to arrive:
`/dev/mailbox/latest?to=…&wait=10`, `/dev/mailbox/latest/link?to=…&subject=…`."""

from __future__ import annotations

import asyncio
import mailbox
import re
from datetime import UTC
from datetime import datetime
from email.header import decode_header
from email.header import make_header
from email.message import Message
from typing import Annotated

from fastapi import APIRouter
from fastapi import Query
from fastapi.responses import PlainTextResponse
from pydantic import BaseModel

from api.deps import SettingsDep
from api.errors import ApiError
from core.settings import Settings
from models.errors import ApiProblem

# Mounted in development only, and never in the OpenAPI schema (it lists every mailed link).
router = APIRouter(prefix="/dev", tags=["development"], include_in_schema=False)


LINK = re.compile(r"https?://\S+")
To = Annotated[str | None, Query(max_length=320, description="part of the recipient's address")]
Subject = Annotated[str | None, Query(max_length=200, description="part of the subject")]
Wait = Annotated[float, Query(ge=0, le=30, description="seconds to wait for such a mail")]


class CapturedMail(BaseModel):
    to: str
    subject: str
    text: str
    html: str
    message_id: str
    received_at: datetime
    links: list[str]  # the links in its text, in order


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
        links=LINK.findall(_part(message, "text/plain")),
    )


def _mails(settings: Settings, to: str | None, subject: str | None) -> list[CapturedMail]:
    """The captured mails to `to` whose subject holds `subject`, newest first."""
    if not (settings.mailbox_dir / "new").is_dir():
        return []
    box = mailbox.Maildir(settings.mailbox_dir, create=False)
    mails = [_captured(message) for message in box]
    if to:
        mails = [mail for mail in mails if to.lower() in mail.to.lower()]
    if subject:
        mails = [mail for mail in mails if subject.lower() in mail.subject.lower()]
    mails.sort(key=lambda mail: mail.received_at, reverse=True)
    return mails


@router.get("/mailbox")
def dev_mailbox(
    settings: SettingsDep,
    to: To = None,
    subject: Subject = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
) -> list[CapturedMail]:
    """Captured messages, newest first; `to` and `subject` filter them."""
    return _mails(settings, to, subject)[:limit]


@router.get("/mailbox/latest")
async def newest_mail(
    settings: SettingsDep, to: To = None, subject: Subject = None, wait: Wait = 10
) -> CapturedMail:
    """The newest such mail, waiting up to `wait` seconds for one to arrive (404 if none)."""
    deadline = asyncio.get_running_loop().time() + wait
    while not (found := _mails(settings, to, subject)):
        if asyncio.get_running_loop().time() >= deadline:
            raise ApiError(ApiProblem.NOT_FOUND, "no such mail arrived")
        await asyncio.sleep(0.1)
    return found[0]


@router.get("/mailbox/latest/link", response_class=PlainTextResponse)
async def newest_link(
    settings: SettingsDep, to: To = None, subject: Subject = None, wait: Wait = 10
) -> str:
    """The first link of the newest such mail, as plain text (for a shell variable)."""
    mail = await newest_mail(settings, to, subject, wait)
    if not mail.links:
        raise ApiError(ApiProblem.NOT_FOUND, "that mail carries no link")
    return mail.links[0]
