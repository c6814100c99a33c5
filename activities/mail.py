"""Rendering and sending email through an outbox (docs/mail.md).

A mail is rendered once, with its link's token, and stored by its idempotency key before it is
handed to SMTP. A retry (a lost "250 OK", a worker killed between the server's acceptance and
the record) sends the stored bytes again: the same Message-ID, the same link, the same bytes, so
the first link a person receives always works. The stored body is sealed with a key the
database does not hold, so the link's token is not readable from the database, its log or its
dead rows; once the server accepts the mail, the row is marked sent and its body erased; a later
retry sends nothing.
"""

from __future__ import annotations

import asyncio
import dataclasses
import hashlib
from collections.abc import AsyncIterator
from collections.abc import Awaitable
from collections.abc import Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC
from datetime import datetime
from email.message import EmailMessage
from email.policy import SMTP as SMTP_POLICY
from email.utils import format_datetime
from email.utils import parseaddr
from pathlib import Path
from typing import Any

import aiosmtplib
from jinja2 import Environment
from jinja2 import FileSystemLoader
from jinja2 import StrictUndefined
from jinja2 import TemplateError
from jinja2 import select_autoescape
from markupsafe import Markup
from sqlalchemy import update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.ext.asyncio import async_sessionmaker
from temporalio import activity
from temporalio.exceptions import ApplicationError

from activities.metrics import count
from activities.smtp_pool import SmtpPool
from core import formats
from core import tracing
from core.metric_names import MAILS
from core.sealing import Sealer
from core.settings import Settings
from core.text import email_key
from core.text import unsafe_character
from core.tokens import hash_token
from core.tokens import mask_email
from core.tokens import new_token
from core.tokens import random_key
from core.words import html_text
from core.words import text
from models.catalog import load_catalog
from models.errors import MailProblem
from models.errors import refuse
from models.records.mail_limits import UNSOLICITED
from models.records.mail_limits import lock_address
from models.records.mail_limits import mails_sent_within
from models.records.mail_limits import retry_after
from models.records.outbox import OutboxMessage

SUPPORTED_LOCALES = ("en", "zh-TW")
TEMPLATES = Path(__file__).parent / "templates"
# A refusal of the recipient or message (550-554) will not change on retry: fail for good
# (`MailProblem.REJECTED`). Other errors (4xx, a misconfigured or broken server) are retried: an
# operator can fix them. A mail that cannot be built, or one over the address's hourly limit,
# is not sent either (`MailProblem`).
PERMANENT_SMTP_CODES = range(550, 555)
# How often a send that waits for its server heartbeats (the flows' mail steps allow 30 s).
HEARTBEAT_EVERY_SECONDS = 10.0


@dataclass
class RenderedEmail:
    subject: str
    text: str
    html: str


@dataclass(frozen=True)
class Mail:
    """One mail: its template, who it goes to and in which language, and what the template
    reads (each activity names the values its template shows)."""

    template: str
    to: str
    locale: str
    context: dict[str, Any]


@dataclass
class Link:
    """The link a mail carries: `url` holds `{token}` where the token goes. The token's public
    part is a random link id recorded with the flow's run, so a presented token routes to that
    run only (docs/mail.md)."""

    url: str
    flow_id: str
    run_id: str

    @classmethod
    def for_this_run(cls, url: str) -> Link:
        """A link to the run of the flow whose activity is sending it."""
        info = activity.info()
        return cls(url, info.workflow_id or "", info.workflow_run_id or "")


def mail_key(suffix: str) -> str:
    """The idempotency key of a mail of the current flow run: `<flow id>/<run id>/<suffix>`."""
    info = activity.info()
    return f"{info.workflow_id}/{info.workflow_run_id}/{suffix}"


def count_mail(template: str, outcome: str) -> None:
    """Mails by template and outcome (sent, mail_rate_limited, …): the worker's metrics
    (docs/operations.md). Template names and outcomes only: no address."""
    count(MAILS, "mails by template and outcome", {"template": template, "outcome": outcome})


@dataclass
class Sent:
    message_id: str
    secret_hash: str | None

    @property
    def link_hash(self) -> str:
        """The hash of the token in the mail's link (what the flow keeps to check it)."""
        if self.secret_hash is None:
            raise RuntimeError("this mail carries no link")
        return self.secret_hash


# Called inside the transaction that stores the mail, with the link's token hash: a record that
# must exist exactly when the link does (an Activation Link's code row).
OnStore = Callable[[AsyncSession, str], Awaitable[None]]


@asynccontextmanager
async def heartbeating(every: float = HEARTBEAT_EVERY_SECONDS) -> AsyncIterator[None]:
    """While waiting on another system, tell Temporal the worker is alive (a lost worker is then
    noticed within the step's heartbeat timeout, not its whole start-to-close timeout). The
    first beat comes after `every`, well within that timeout: a call that is over sooner, as
    most are, records none (each heartbeat is a billable Action on Temporal Cloud)."""
    if not activity.in_activity():
        yield
        return

    async def beat() -> None:
        while True:
            await asyncio.sleep(every)
            activity.heartbeat()

    beating = asyncio.create_task(beat())
    try:
        yield
    finally:
        beating.cancel()


def words_of(locale: str, *, markup: bool) -> Callable[..., str]:
    """`t(key, **values)` of a mail part: markup for HTML (values escaped), text for text."""

    def t(key: str, **values: Any) -> str:
        return html_text(locale, key, **values) if markup else text(locale, key, **values)

    return t


def button(href: str, label: str, color: str = "#1b1b1b") -> Markup:
    """The mail's one call to action: a large link that looks like a button in every client."""
    style = (
        f"display:inline-block;padding:12px 22px;background:{color};color:#ffffff;"
        "text-decoration:none;border-radius:4px;font-weight:bold"
    )
    return Markup('<p style="margin:24px 0"><a href="{}" style="{}">{}</a></p>').format(
        href, Markup(style), label
    )


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
        # Anyone's address but the recipient's own (docs/security.md, "Addresses shown").
        self._templates.filters["masked"] = mask_email
        self._catalog = load_catalog(settings.catalog_file)  # products and regions, by language
        base = settings.public_base_url.rstrip("/")
        self._logo_url = f"{base}/assets/logo" if settings.brand_logo_file else None
        self._smtp = SmtpPool(settings)
        self._sealer = Sealer(settings.payload_keys, "mail outbox")

    def message_id(self, idempotency_key: str) -> str:
        """Stable per idempotency key, so even a duplicate delivery is one message to the client."""
        digest = hashlib.sha256(idempotency_key.encode()).hexdigest()[:40]
        return f"<{digest}@{self._domain}>"

    def render(self, template: str, locale: str, context: dict[str, Any]) -> RenderedEmail:
        """The mail in its language: its own words inside the shared layout (the vendor's name
        and colour on top; why the mail came and whom to ask below), numbers and dates as the
        language writes them, the same words as the pages (core/words.py)."""
        locale = locale if locale in SUPPORTED_LOCALES else "en"
        shared = {
            "template": template,
            "locale": locale,
            "brand": self._settings.brand_name,
            "brand_color": self._settings.brand_color,
            "logo_url": self._logo_url,
            "support": self._settings.support_contact,
            "number": lambda value: formats.number(value, locale),
            "day": lambda value: formats.day(value, locale),
            "moment": lambda value: formats.moment(value, locale),
            "product": lambda code, name: self._product_name(code, name, locale),
            "product_list": lambda codes: formats.listing(
                [self._product_name(code, code, locale) for code in codes], locale
            ),
            "region": lambda code: self._catalog.region_name(code, locale),
            "instance": lambda name, code, region: self._catalog.instance_name(
                name, code, region, locale
            ),
        }

        def part(suffix: str) -> str:
            html = suffix == "html"
            words = words_of(locale, markup=html)
            return self._templates.get_template(f"{locale}/{template}.{suffix}").render(
                shared | context | {"t": words, "button": self._button if html else None}
            )

        return RenderedEmail(part("subject.txt").strip(), part("txt"), part("html"))

    def _product_name(self, code: str, name: str, locale: str) -> str:
        product = self._catalog.products.get(code)
        return product.name_in(locale) if product else name

    def _button(self, href: str, label: str) -> Markup:
        return button(href, label, self._settings.brand_color)

    async def find(self, idempotency_key: str) -> OutboxMessage | None:
        async with self._sessions() as session:
            return await session.get(OutboxMessage, idempotency_key)

    async def send(
        self, key: str, mail: Mail, link: Link | None = None, on_store: OnStore | None = None
    ) -> Sent:
        """Send this mail once per idempotency `key`: store it (with a fresh link token) unless
        stored already, then deliver the stored bytes unless the server has accepted them before."""
        try:
            row = await self._store(key, mail, link, on_store)
            if row.sent_at is None and row.body is not None:
                await self._deliver(row.recipient, self._sealer.open(row.body, key))
                async with self._sessions.begin() as session:
                    await session.execute(
                        update(OutboxMessage)
                        .where(OutboxMessage.idempotency_key == key)
                        .values(sent_at=datetime.now(UTC), body=None)
                    )
                count_mail(mail.template, "sent")
        except ApplicationError as refused:  # rate-limited, rejected, unbuildable: for good
            count_mail(mail.template, refused.type or "refused")
            raise
        except Exception:
            count_mail(mail.template, "failed_will_retry")
            raise
        return Sent(row.message_id, row.secret_hash)

    async def _store(
        self, key: str, mail: Mail, link: Link | None, on_store: OnStore | None
    ) -> OutboxMessage:
        link_id = token = secret_hash = None
        if link is not None:
            link_id = random_key()
            token = new_token(link_id)
            secret_hash = hash_token(token)
            mail = dataclasses.replace(
                mail, context=mail.context | {"link": link.url.replace("{token}", token)}
            )
        to = mail.to
        row = OutboxMessage(
            idempotency_key=key,
            message_id=self.message_id(key),
            template=mail.template,
            recipient=to,
            recipient_key=email_key(to),
            secret_hash=secret_hash,
            link_id=link_id,
            flow_id=link.flow_id if link else None,
            run_id=link.run_id if link else None,
            body=self._sealer.seal(self._compose(key, mail), key),
            created_at=datetime.now(UTC),
        )
        try:
            async with self._sessions.begin() as session:
                # The row first, then the count: concurrent mails to one address wait here.
                await lock_address(session, to)
                session.add(row)
                await session.flush()
                await self._check_rate(session, mail, key)
                if on_store is not None and secret_hash is not None:
                    await on_store(session, secret_hash)
        except IntegrityError:
            # A retry, or a concurrent attempt, stored it first: send what is stored, never a
            # second version. (Storing first spares the first attempt, the usual one, a read.)
            stored = await self.find(key)
            if stored is None:
                raise
            return stored
        return row

    async def _check_rate(self, session: AsyncSession, mail: Mail, key: str) -> None:
        unsolicited = mail.template in UNSOLICITED
        limit = (
            self._settings.lookup_mails_per_address_per_hour
            if unsolicited
            else self._settings.mail_per_address_per_hour
        )
        stored = await mails_sent_within(session, mail.to, unsolicited=unsolicited, besides=key)
        wait = retry_after(stored, limit)
        if wait is not None:
            raise refuse(
                MailProblem.RATE_LIMITED,
                f"the address has received {limit} mails within an hour; not sent",
                wait,
            )

    def _compose(self, key: str, mail: Mail) -> bytes:
        template, to = mail.template, mail.to
        try:
            rendered = self.render(template, mail.locale, mail.context)
            if unsafe_character(rendered.subject) or unsafe_character(to):
                raise ValueError("a control character in a header")
            message = EmailMessage()
            message["From"] = self._settings.mail_from
            message["To"] = to
            message["Subject"] = rendered.subject
            message["Message-ID"] = self.message_id(key)
            message["Date"] = format_datetime(datetime.now(UTC))
            message["Auto-Submitted"] = "auto-generated"
            message.set_content(rendered.text)
            message.add_alternative(rendered.html, subtype="html")
            return message.as_bytes(policy=SMTP_POLICY)
        except (ValueError, TypeError, TemplateError) as err:
            # The value may be personal data: name the failure, not the text.
            raise refuse(
                MailProblem.UNBUILDABLE,
                f"the {template} mail cannot be built ({type(err).__name__}); fix the data",
            ) from None

    async def _deliver(self, to: str, body: bytes) -> None:
        sender = parseaddr(self._settings.mail_from)[1]
        try:
            async with heartbeating():  # a slow server may take minutes to accept it
                with tracing.span("smtp send"):
                    await self._smtp.send(sender, to, body)
        except aiosmtplib.SMTPRecipientsRefused as err:
            if all(refusal.code in PERMANENT_SMTP_CODES for refusal in err.recipients):
                raise refuse(MailProblem.REJECTED, "the mail server refused the recipient") from err
            raise
        except aiosmtplib.SMTPResponseException as err:
            if err.code in PERMANENT_SMTP_CODES:
                raise refuse(
                    MailProblem.REJECTED, f"the mail server refused the message ({err.code})"
                ) from err
            raise
