"""The development SMTP sink: a real SMTP server on loopback that keeps every message in a Maildir
(read by `GET /dev/mailbox`). Tests use it as their real mail server too."""

from __future__ import annotations

from pathlib import Path

from aiosmtpd.controller import Controller
from aiosmtpd.handlers import Mailbox


def start_smtp_sink(maildir: Path, host: str = "127.0.0.1", port: int = 1025) -> Controller:
    maildir.parent.mkdir(parents=True, exist_ok=True)  # Maildir makes cur/new/tmp itself
    controller = Controller(Mailbox(maildir), hostname=host, port=port)
    controller.start()
    return controller
