"""Mail rendering and sending against a real SMTP server, records on both databases."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import UTC
from datetime import datetime
from typing import Any

import aiosmtplib
import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import func
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.ext.asyncio import async_sessionmaker
from temporalio.exceptions import ApplicationError
from temporalio.testing import ActivityEnvironment

from activities.mail import Link
from activities.mail import Mail
from activities.mail import MailSender
from activities.mail import Sent
from activities.mail import heartbeating
from core.settings import Settings
from core.tokens import hash_token
from models.errors import MailProblem
from models.records.outbox import OutboxMessage
from tests.support.mail import MailSink
from tests.support.mail import text_of
from tests.support.mail import token_in
from tests.support.mail import without_trace_headers
from tests.support.net import free_port

pytestmark = pytest.mark.asyncio
CONTEXT = {
    "link": "http://x/verify-email?token=t",
    "expires_at": datetime(2030, 1, 2, 3, 4, tzinfo=UTC),
    "purpose": "signup",
    "about": None,
}


@pytest.fixture
def mail(settings: Settings, sessions: async_sessionmaker[AsyncSession]) -> MailSender:
    return MailSender(settings, sessions)


async def send(mail: MailSender, key: str = "k1", to: str = "ada@example.com") -> Sent:
    link = Link("http://x/verify-email?token={token}", "flow-1", "run-1")
    return await mail.send(key, Mail("email_verification", to, "en", CONTEXT), link)


async def test_a_sent_message_is_recorded_with_a_stable_message_id(
    mail: MailSender, smtp: MailSink
) -> None:
    sent = await send(mail)
    (received,) = await smtp.wait_for(1)
    assert received["Message-ID"] == sent.message_id == mail.message_id("k1")
    assert mail.message_id("k1") != mail.message_id("k2")
    assert "Jan\u00a02,\u00a02030\u00a003:04\u00a0UTC" in text_of(received)  # one line, always
    assert received.get_content_type() == "multipart/alternative"
    record = await mail.find("k1")
    assert record is not None and record.secret_hash == sent.link_hash
    assert record.sent_at is not None and record.sent_at.tzinfo is not None
    assert record.body is None  # the stored mail (with its link) is erased once accepted
    assert hash_token(token_in(received)) == sent.link_hash
    assert token_in(received).startswith(f"{record.link_id}.")


async def test_sending_the_same_key_again_sends_nothing_and_keeps_one_row(
    mail: MailSender, smtp: MailSink, sessions: async_sessionmaker[AsyncSession]
) -> None:
    first = await send(mail)
    again = await send(mail)
    assert again == first
    await smtp.wait_for(1)
    await asyncio.sleep(0.2)
    assert len(smtp.messages()) == 1
    async with sessions() as session:
        assert await session.scalar(select(func.count()).select_from(OutboxMessage)) == 1


async def test_a_lost_reply_is_retried_with_the_identical_message(
    settings: Settings, sessions: async_sessionmaker[AsyncSession], smtp: MailSink
) -> None:
    settings.smtp_message_timeout_seconds = 0.5
    mail = MailSender(settings, sessions)
    smtp.lose_replies(1, late_by=1.5)  # the server keeps the mail; its "250" comes too late
    with pytest.raises(aiosmtplib.SMTPException):
        await send(mail)
    record = await mail.find("k1")
    assert record is not None and record.sent_at is None and record.body is not None
    sent = await send(mail)  # the activity's retry
    first, second = await smtp.wait_for(2)
    assert first["Message-ID"] == second["Message-ID"] == sent.message_id
    assert token_in(first) == token_in(second)
    assert hash_token(token_in(first)) == sent.link_hash  # the first link received works
    one, two = [without_trace_headers(message) for message in smtp.messages()]
    assert one == two  # the same bytes, Date included


async def test_a_mail_whose_subject_cannot_be_built_fails_for_good_and_stores_nothing(
    mail: MailSender,
) -> None:
    with pytest.raises(ApplicationError) as caught:
        context = {
            "company_name": "Acme\nBcc: x@evil.example",
            "items": [],
            "expires_at": CONTEXT["expires_at"],
            "reminder": False,
        }
        mail_to_ada = Mail("activation_link", "ada@example.com", "en", context)
        await mail.send("k1", mail_to_ada, Link("http://x/a/{token}", "flow-1", "run-1"))
    assert caught.value.type == MailProblem.UNBUILDABLE and caught.value.non_retryable
    assert "evil" not in str(caught.value)
    assert await mail.find("k1") is None


async def test_an_address_gets_at_most_the_hourly_limit_whatever_its_letter_case(
    settings: Settings, sessions: async_sessionmaker[AsyncSession], smtp: MailSink
) -> None:
    settings.mail_per_address_per_hour = 3
    mail = MailSender(settings, sessions)
    for n, to in enumerate(["ada@example.com", "Ada@example.com", "ADA@EXAMPLE.COM"]):
        await send(mail, f"k{n}", to)
    with pytest.raises(ApplicationError) as caught:
        await send(mail, "k3", "ada@Example.com")
    assert caught.value.type == MailProblem.RATE_LIMITED and caught.value.non_retryable
    assert 3500 < caught.value.details[0] <= 3601  # seconds until the oldest leaves the hour
    assert await mail.find("k3") is None
    await send(mail, "k0")  # a retry of a stored mail is not a new mail
    assert len(await smtp.wait_for(3)) == 3


async def test_a_burst_to_one_address_never_counts_past_the_limit(
    settings: Settings, sessions: async_sessionmaker[AsyncSession], smtp: MailSink
) -> None:
    """Eight mails at once: the limit holds, because each store waits for the one before."""
    settings.mail_per_address_per_hour = 3
    mail = MailSender(settings, sessions)
    results = await asyncio.gather(
        *(send(mail, f"burst{n}", "ada@example.com") for n in range(8)), return_exceptions=True
    )
    refused = [r for r in results if isinstance(r, ApplicationError)]
    assert len(refused) == 5 and {r.type for r in refused} == {MailProblem.RATE_LIMITED}
    assert len(await smtp.wait_for(3)) == 3


async def test_zh_tw_templates_render(mail: MailSender) -> None:
    rendered = mail.render("email_verification", "zh-TW", CONTEXT)
    assert rendered.subject == "請驗證您的電子郵件地址"
    when = "2030年1月2日\u00a003:04\u00a0UTC"  # as Chinese writes a date
    assert when in rendered.text and when in rendered.html
    assert "有任何問題，請聯絡 support@example.com。" in rendered.text  # the shared footer
    assert mail.render("email_verification", "xx", CONTEXT).subject == "Confirm your email address"


async def test_html_escapes_its_values(mail: MailSender) -> None:
    rendered = mail.render("email_verification", "en", CONTEXT | {"about": "<script>"})
    assert "<script>" not in rendered.html and "&lt;script&gt;" in rendered.html


class _Refuse:
    def __init__(self, code: int) -> None:
        self.code = code

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, options: Any
    ) -> str:
        return f"{self.code} refused"


@pytest.fixture
def refusing_mail(
    request: pytest.FixtureRequest, settings: Settings, sessions: async_sessionmaker[AsyncSession]
) -> Iterator[MailSender]:
    """A sender whose SMTP server refuses every recipient with the parametrized code."""
    settings.smtp_port = free_port()
    controller = Controller(_Refuse(request.param), hostname="127.0.0.1", port=settings.smtp_port)
    controller.start()
    yield MailSender(settings, sessions)
    controller.stop()


@pytest.mark.parametrize("refusing_mail", [550], indirect=True)
async def test_a_refused_recipient_fails_for_good(refusing_mail: MailSender) -> None:
    with pytest.raises(ApplicationError) as caught:
        await send(refusing_mail)
    assert caught.value.type == MailProblem.REJECTED and caught.value.non_retryable
    record = await refusing_mail.find("k1")
    assert record is not None and record.sent_at is None


@pytest.mark.parametrize("refusing_mail", [451], indirect=True)
async def test_a_temporary_refusal_is_retried(refusing_mail: MailSender) -> None:
    with pytest.raises(Exception) as caught:
        await send(refusing_mail)
    assert not isinstance(caught.value, ApplicationError)  # the retry policy applies


async def test_a_pooled_connection_the_server_dropped_is_replaced(
    mail: MailSender, smtp: MailSink
) -> None:
    await send(mail, "k1")
    await smtp.wait_for(1)
    smtp.restart()  # the server goes away and comes back: the pooled connection is dead
    await send(mail, "k2")
    assert len(await smtp.wait_for(2)) == 2


async def test_a_slow_server_gets_the_mail_once(
    settings: Settings, sessions: async_sessionmaker[AsyncSession], smtp: MailSink
) -> None:
    """Its "250 OK" takes longer than connecting may, within RFC 5321's 10 minutes: the sender
    waits for it instead of giving up and sending the mail again."""
    settings.smtp_timeout_seconds = 0.5
    smtp.lose_replies(1, late_by=1.5)
    sent = await send(MailSender(settings, sessions))
    record = await MailSender(settings, sessions).find("k1")
    assert record is not None and record.sent_at is not None
    (received,) = await smtp.wait_for(1)
    assert received["Message-ID"] == sent.message_id


async def test_a_call_that_is_over_soon_records_no_heartbeat_and_a_long_one_keeps_beating() -> None:
    """Each heartbeat is a billable Action: the first comes after `every` (within the step's
    heartbeat timeout), so the usual quick send records none, and a slow one still shows the
    worker alive."""
    beats: list[object] = []
    environment = ActivityEnvironment()
    environment.on_heartbeat = lambda *details: beats.append(details)

    async def call(lasting: float) -> None:
        async with heartbeating(every=0.2):
            await asyncio.sleep(lasting)

    await environment.run(call, 0.02)
    assert beats == []
    await environment.run(call, 1.0)
    assert 2 <= len(beats) <= 5
