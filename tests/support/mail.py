"""A real SMTP server on loopback for the tests (faults on demand), and reading what it received."""

from __future__ import annotations

import asyncio
import mailbox
from email.message import Message
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.handlers import Mailbox

from tests.support.net import free_port


class FaultyMailbox(Mailbox):
    """The sink's Maildir handler with faults on demand: refuse every recipient for a while
    (451), or keep a message and answer only after the client has given up (a lost "250")."""

    def __init__(self, maildir: Path) -> None:
        super().__init__(maildir)
        self.refusing = False
        self.late_replies = 0
        self.late_by = 0.0

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, options: Any
    ) -> str:
        if self.refusing:
            return "451 4.3.0 try again later"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.handle_message(self.prepare_message(session, envelope))  # kept
        if self.late_replies > 0:
            self.late_replies -= 1
            await asyncio.sleep(self.late_by)
        return "250 OK"


class MailSink:
    """A real SMTP server on a free loopback port, keeping messages in a Maildir."""

    def __init__(self, maildir: Path) -> None:
        self.maildir = maildir
        self.port = free_port()
        self.handler = FaultyMailbox(maildir)
        self._controller = self._start()

    def _start(self) -> Controller:
        controller = Controller(self.handler, hostname="127.0.0.1", port=self.port)
        controller.start()
        return controller

    def stop(self) -> None:
        self._controller.stop()

    def restart(self) -> None:
        """Drop every connection and listen again on the same port."""
        self._controller.stop()
        self._controller = self._start()

    def lose_replies(self, count: int, late_by: float) -> None:
        """Keep the next `count` messages but answer each only after `late_by` seconds."""
        self.handler.late_by = late_by
        self.handler.late_replies = count

    def messages(self, to: str | None = None) -> list[Message]:
        box = mailbox.Maildir(self.maildir, create=False)
        found = sorted(box, key=lambda m: m.get_date())
        return [m for m in found if to is None or to.lower() in str(m["To"]).lower()]

    async def wait_for(
        self, count: int, to: str | None = None, timeout: float = 15
    ) -> list[Message]:
        """Mail delivery is asynchronous; poll the folder until `count` messages are there."""
        deadline = asyncio.get_running_loop().time() + timeout
        while len(found := self.messages(to)) < count:
            if asyncio.get_running_loop().time() > deadline:
                raise AssertionError(f"expected {count} messages to {to}, got {len(found)}")
            await asyncio.sleep(0.02)
        return found


def text_of(message: Message) -> str:
    for part in message.walk():
        if part.get_content_type() == "text/plain":
            payload = part.get_payload(decode=True)
            assert isinstance(payload, bytes)
            return payload.decode(part.get_content_charset() or "utf-8")
    raise AssertionError("no text part")


def html_of(message: Message) -> str:
    for part in message.walk():
        if part.get_content_type() == "text/html":
            payload = part.get_payload(decode=True)
            assert isinstance(payload, bytes)
            return payload.decode(part.get_content_charset() or "utf-8")
    raise AssertionError("no HTML part")


def without_trace_headers(message: Message) -> bytes:
    """A received message as it was sent: without the headers the sink adds itself."""
    for header in ("X-Peer", "X-MailFrom", "X-RcptTo"):
        del message[header]
    return message.as_bytes()


def token_in(message: Message) -> str:
    body = text_of(message)
    start = body.index("token=") + len("token=")
    return body[start:].split()[0]


def code_in(message: Message) -> str:
    """The activation code in an Activation Link email."""
    body = text_of(message)
    start = body.index("/activate/") + len("/activate/")
    return body[start:].split()[0]
