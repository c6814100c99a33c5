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
from fastapi import Request
from fastapi.responses import HTMLResponse
from fastapi.responses import PlainTextResponse
from fastapi.responses import Response
from pydantic import BaseModel

from api.deps import SettingsDep
from api.errors import ApiError
from api.pages import render
from core.settings import Settings
from models.errors import ApiProblem

# Mounted in development only, and never in the OpenAPI schema (it lists every mailed link).
router = APIRouter(prefix="/dev", tags=["development"], include_in_schema=False)


LINK = re.compile(r"https?://\S+")
To = Annotated[str | None, Query(max_length=320, description="part of the recipient's address")]
Subject = Annotated[str | None, Query(max_length=200, description="part of the subject")]
Wait = Annotated[float, Query(ge=0, le=30, description="seconds to wait for such a mail")]


class CapturedMail(BaseModel):
    id: str  # its key in the mailbox
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


def _captured(key: str, message: mailbox.MaildirMessage) -> CapturedMail:
    return CapturedMail(
        id=key,
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
    mails = [_captured(key, message) for key, message in box.items()]
    if to:
        mails = [mail for mail in mails if to.lower() in mail.to.lower()]
    if subject:
        mails = [mail for mail in mails if subject.lower() in mail.subject.lower()]
    mails.sort(key=lambda mail: mail.received_at, reverse=True)
    return mails


@router.get("/mailbox", response_model=list[CapturedMail])
def dev_mailbox(
    request: Request,
    settings: SettingsDep,
    to: To = None,
    subject: Subject = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
) -> Response | list[CapturedMail]:
    """Captured messages, newest first; `to` and `subject` filter them. A browser gets an inbox
    (each mail opens rendered); a script gets JSON."""
    mails = _mails(settings, to, subject)[:limit]
    if _wants_html(request):
        return render(request, settings, "mailbox", locale="en", mails=mails, mail=None)
    return mails


def _wants_html(request: Request) -> bool:
    return request.headers.get("accept", "").startswith("text/html")


def _one(settings: Settings, key: str) -> CapturedMail:
    found = [mail for mail in _mails(settings, None, None) if mail.id == key]
    if not found:
        raise ApiError(ApiProblem.NOT_FOUND, "no such mail")
    return found[0]


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


# After /mailbox/latest…: a mail's key is whatever else follows.
@router.get("/mailbox/{key}", response_class=HTMLResponse)
def one_mail(key: str, request: Request, settings: SettingsDep) -> Response:
    """One mail in the inbox: its HTML part rendered in a sandboxed frame, its text below."""
    response = render(request, settings, "mailbox", locale="en", mails=[], mail=_one(settings, key))
    csp = response.headers["Content-Security-Policy"]
    response.headers["Content-Security-Policy"] = f"{csp}; frame-src 'self'"
    return response


@router.get("/mailbox/{key}/html", response_class=HTMLResponse)
def mail_html(key: str, settings: SettingsDep) -> Response:
    """The mail's HTML part for the inbox's frame: no script runs, links open in a new tab."""
    html = _one(settings, key).html.replace("<head>", '<head><base target="_blank">', 1)
    return HTMLResponse(
        html,
        headers={
            "Content-Security-Policy": (
                "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:; "
                "frame-ancestors 'self'"
            ),
            "X-Frame-Options": "SAMEORIGIN",
            "Cache-Control": "no-store",
        },
    )
