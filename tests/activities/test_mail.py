"""Mail rendering and sending against a real SMTP server, records on both databases."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.exceptions import ApplicationError

from activities.mail import EMAIL_REJECTED, MailSender
from core.settings import Settings
from models.records import SentMessage
from tests.conftest import MailSink, free_port, text_of

pytestmark = pytest.mark.asyncio
CONTEXT = {
    "link": "http://x/verify-email?token=t",
    "expires_at": datetime(2030, 1, 2, 3, 4, tzinfo=UTC),
    "purpose": "signup",
}


@pytest.fixture
def mail(settings: Settings, sessions: async_sessionmaker[AsyncSession]) -> MailSender:
    return MailSender(settings, sessions)


async def send(mail: MailSender, key: str = "k1", locale: str = "en") -> str:
    return await mail.send(
        idempotency_key=key,
        template="email_verification",
        locale=locale,
        to="ada@example.com",
        context=CONTEXT,
        secret_hash="f" * 64,
    )


async def test_a_sent_message_is_recorded_with_a_stable_message_id(
    mail: MailSender, smtp: MailSink, sessions: async_sessionmaker[AsyncSession]
) -> None:
    message_id = await send(mail)
    (received,) = await smtp.wait_for(1)
    assert received["Message-ID"] == message_id == mail.message_id("k1")
    assert mail.message_id("k1") != mail.message_id("k2")
    assert "2030-01-02 03:04 UTC" in text_of(received)
    assert received.get_content_type() == "multipart/alternative"
    record = await mail.find_sent("k1")
    assert record is not None and record.secret_hash == "f" * 64
    assert record.sent_at.tzinfo is not None


async def test_recording_the_same_key_twice_leaves_one_row(
    mail: MailSender, smtp: MailSink, sessions: async_sessionmaker[AsyncSession]
) -> None:
    await send(mail)
    await send(mail)  # a concurrent duplicate attempt that also reached SMTP
    async with sessions() as session:
        assert await session.scalar(select(func.count()).select_from(SentMessage)) == 1


async def test_zh_tw_templates_render(mail: MailSender) -> None:
    rendered = mail.render("email_verification", "zh-TW", CONTEXT)
    assert rendered.subject == "請驗證您的電子郵件地址"
    assert "2030-01-02 03:04 UTC" in rendered.text and "2030-01-02 03:04 UTC" in rendered.html
    assert mail.render("email_verification", "xx", CONTEXT).subject == "Confirm your email address"


async def test_html_escapes_its_values(mail: MailSender) -> None:
    rendered = mail.render("email_verification", "en", CONTEXT | {"purpose": "<script>"})
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
    assert caught.value.type == EMAIL_REJECTED and caught.value.non_retryable
    assert await refusing_mail.find_sent("k1") is None


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
