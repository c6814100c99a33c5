"""Rendering and sending email: Jinja2 templates (HTML + text, `en`/`zh-TW`), aiosmtplib, and a
sent-message record so a retried activity does not send the same message twice."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import format_datetime, parseaddr
from pathlib import Path
from typing import Any

import aiosmtplib
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.exceptions import ApplicationError

from activities.smtp_pool import SmtpPool
from core.settings import Settings
from models.records import SentMessage

SUPPORTED_LOCALES = ("en", "zh-TW")
TEMPLATES = Path(__file__).parent / "templates"
# A refusal of the recipient or message (550-554) will not change on retry: fail for good.
# Other errors (4xx, a misconfigured or broken server) are retried: an operator can fix them.
EMAIL_REJECTED = "email_rejected"
PERMANENT_SMTP_CODES = range(550, 555)


@dataclass
class RenderedEmail:
    subject: str
    text: str
    html: str


def format_utc(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


class MailSender:
    def __init__(self, settings: Settings, session_factory: async_sessionmaker[AsyncSession]):
        self._settings = settings
        self._sessions = session_factory
        self._domain = parseaddr(settings.mail_from)[1].rpartition("@")[2] or "localhost"
        self._templates = Environment(
            loader=FileSystemLoader(TEMPLATES),
            autoescape=select_autoescape(["html"]),
            undefined=StrictUndefined,
            enable_async=False,
        )
        self._templates.filters["utc"] = format_utc
        self._smtp = SmtpPool(settings)

    def message_id(self, idempotency_key: str) -> str:
        """Stable per idempotency key, so even a duplicate delivery is one message to the client."""
        digest = hashlib.sha256(idempotency_key.encode()).hexdigest()[:40]
        return f"<{digest}@{self._domain}>"

    def render(self, template: str, locale: str, context: dict[str, Any]) -> RenderedEmail:
        locale = locale if locale in SUPPORTED_LOCALES else "en"

        def part(suffix: str) -> str:
            return self._templates.get_template(f"{locale}/{template}.{suffix}").render(context)

        return RenderedEmail(part("subject.txt").strip(), part("txt"), part("html"))

    async def find_sent(self, idempotency_key: str) -> SentMessage | None:
        async with self._sessions() as session:
            return await session.get(SentMessage, idempotency_key)

    async def send(
        self,
        *,
        idempotency_key: str,
        template: str,
        locale: str,
        to: str,
        context: dict[str, Any],
        secret_hash: str | None = None,
    ) -> str:
        """Render, hand to SMTP, then record the send. Returns the Message-ID."""
        rendered = self.render(template, locale, context)
        message = EmailMessage()
        message["From"] = self._settings.mail_from
        message["To"] = to
        message["Subject"] = rendered.subject
        message["Message-ID"] = self.message_id(idempotency_key)
        message["Date"] = format_datetime(datetime.now(UTC))
        message["Auto-Submitted"] = "auto-generated"
        message.set_content(rendered.text)
        message.add_alternative(rendered.html, subtype="html")
        await self._deliver(message)
        async with self._sessions.begin() as session:
            await self._record(
                session, idempotency_key, message["Message-ID"], template, to, secret_hash
            )
        return str(message["Message-ID"])

    async def _deliver(self, message: EmailMessage) -> None:
        try:
            await self._smtp.send(message)
        except aiosmtplib.SMTPRecipientsRefused as err:
            if all(refusal.code in PERMANENT_SMTP_CODES for refusal in err.recipients):
                raise ApplicationError(
                    "the mail server refused the recipient",
                    type=EMAIL_REJECTED,
                    non_retryable=True,
                ) from err
            raise
        except aiosmtplib.SMTPResponseException as err:
            if err.code in PERMANENT_SMTP_CODES:
                raise ApplicationError(
                    f"the mail server refused the message ({err.code})",
                    type=EMAIL_REJECTED,
                    non_retryable=True,
                ) from err
            raise

    @staticmethod
    async def _record(
        session: AsyncSession,
        key: str,
        message_id: str,
        template: str,
        to: str,
        secret_hash: str | None,
    ) -> None:
        # merge: a concurrent duplicate attempt that got here first leaves one row, not an error.
        await session.merge(
            SentMessage(
                idempotency_key=key,
                message_id=message_id,
                template=template,
                recipient=to,
                secret_hash=secret_hash,
                sent_at=datetime.now(UTC),
            )
        )
