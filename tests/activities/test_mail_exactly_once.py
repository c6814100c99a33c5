"""Every kind of mail, sent through a real SMTP server on loopback that keeps the message but
answers after the client has given up (a lost "250 OK"): the activity's retry sends the
identical message, so the first link a person receives works, and one code row per link."""

from __future__ import annotations

from collections.abc import Awaitable
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC
from datetime import datetime
from typing import Any

import aiosmtplib
import pytest
from sqlalchemy import func
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.ext.asyncio import async_sessionmaker
from temporalio.testing import ActivityEnvironment

from activities.email_verification import EmailVerificationActivities
from activities.license_activation import LicenseActivationActivities
from activities.local_accounts import LocalAccountActivities
from activities.mail import MailSender
from activities.ownership_transfer import OwnershipTransferActivities
from core.settings import Settings
from core.tokens import hash_token
from models.contracts.email_verification import SendLinkInput
from models.contracts.license_activation import RecordOrderInput
from models.contracts.license_activation import SendActivationLinkInput
from models.contracts.license_activation import SendConfirmationInput
from models.contracts.local_accounts import InvitationContext
from models.contracts.local_accounts import SendInvitationInput
from models.contracts.ownership_transfer import SendTransferLinkInput
from models.contracts.ownership_transfer import SendTransferOutcomeInput
from models.contracts.ownership_transfer import TransferParties
from models.contracts.ownership_transfer import TransferStatus
from models.records.domain import ActivationCode
from tests.support.activations import CREDITS
from tests.support.activations import SERVICE
from tests.support.activations import activation_input
from tests.support.mail import MailSink
from tests.support.mail import text_of
from tests.support.mail import without_trace_headers

pytestmark = pytest.mark.asyncio
Sessions = async_sessionmaker[AsyncSession]
LATER = datetime(2030, 1, 1, tzinfo=UTC)
PARTIES = TransferParties(
    "Acme Corp", "owner@acme.example", "en", "it@acme.example", "IT", "zh-TW", "Endpoint (eu)"
)


@dataclass
class Kind:
    """One kind of mail: the call that sends it, and whether it carries a link."""

    name: str
    send: Callable[[Settings, Sessions, MailSender], Awaitable[Any]]
    link_path: str | None


async def verification_link(settings: Settings, sessions: Sessions, mail: MailSender) -> Any:
    activities = EmailVerificationActivities(settings, sessions, mail)
    return await ActivityEnvironment().run(
        activities.send_link,
        SendLinkInput("email-verification-x", 1, "ada@example.com", "signup", "en", LATER),
    )


async def activation_link(settings: Settings, sessions: Sessions, mail: MailSender) -> Any:
    activities = LicenseActivationActivities(settings, sessions, mail)
    order = activation_input(settings, [SERVICE, CREDITS])
    env = ActivityEnvironment()
    await env.run(activities.record_order, RecordOrderInput(order, LATER))
    link = SendActivationLinkInput(
        order.order_id, 1, order.contact_email, "Acme Corp", "en", order.items, LATER, False
    )
    return await env.run(activities.send_link, link)


async def activation_confirmation(settings: Settings, sessions: Sessions, mail: MailSender) -> Any:
    activities = LicenseActivationActivities(settings, sessions, mail)
    order = activation_input(settings, [SERVICE])
    confirmation = SendConfirmationInput(
        order.order_id, "owner@acme.example", "Acme Corp", "zh-TW", order.items
    )
    return await ActivityEnvironment().run(activities.send_confirmation, confirmation)


async def invitation(settings: Settings, sessions: Sessions, mail: MailSender) -> Any:
    activities = LocalAccountActivities(settings, sessions, mail)
    context = InvitationContext("Acme Corp", "Endpoint (eu)")
    send = SendInvitationInput(
        "local-account-activation-x", 1, "it@acme.example", "IT", "en", context, LATER, False
    )
    return await ActivityEnvironment().run(activities.send_invitation, send)


async def transfer_request(settings: Settings, sessions: Sessions, mail: MailSender) -> Any:
    activities = OwnershipTransferActivities(settings, sessions, mail)
    send = SendTransferLinkInput("ownership-transfer-x", "x", PARTIES, LATER)
    return await ActivityEnvironment().run(activities.send_link, send)


async def transfer_outcome(settings: Settings, sessions: Sessions, mail: MailSender) -> Any:
    activities = OwnershipTransferActivities(settings, sessions, mail)
    send = SendTransferOutcomeInput("x", PARTIES, TransferStatus.DECLINED)
    return await ActivityEnvironment().run(activities.send_outcome, send)


KINDS = [
    Kind("verification link", verification_link, "/verify-email?token="),
    Kind("activation link", activation_link, "/activate/"),
    Kind("activation confirmation", activation_confirmation, None),
    Kind("local-account invitation", invitation, "/activate-account?token="),
    Kind("ownership-transfer request", transfer_request, "/ownership-transfer?token="),
    Kind("ownership-transfer outcome", transfer_outcome, None),
]


def link_in(message: Any, path: str) -> str:
    body = text_of(message)
    return body[body.index(path) + len(path) :].split()[0]


@pytest.mark.parametrize("kind", KINDS, ids=[kind.name for kind in KINDS])
async def test_a_lost_reply_is_followed_by_the_identical_mail(
    kind: Kind, settings: Settings, sessions: Sessions, smtp: MailSink
) -> None:
    settings.smtp_message_timeout_seconds = 0.5
    smtp.lose_replies(1, late_by=1.5)
    with pytest.raises(aiosmtplib.SMTPException):  # the first attempt gives up waiting
        await kind.send(settings, sessions, MailSender(settings, sessions))
    # The activity's retry (a new worker even: nothing is kept in memory).
    returned = await kind.send(settings, sessions, MailSender(settings, sessions))
    first, second = await smtp.wait_for(2)
    assert first["Message-ID"] == second["Message-ID"]
    assert without_trace_headers(first) == without_trace_headers(second)
    if kind.link_path is None:
        return
    token = link_in(first, kind.link_path)
    assert token == link_in(second, kind.link_path)
    if isinstance(returned, str):  # the flows keep the hash of the link they sent
        assert returned == hash_token(token)
    if kind.name == "activation link":
        async with sessions() as session:
            codes = (await session.scalars(select(ActivationCode.code_hash))).all()
            assert codes == [hash_token(token)]  # one code row per link, and it is this one
            rows = await session.scalar(select(func.count()).select_from(ActivationCode))
            assert rows == 1


async def test_a_vendor_portal_gets_the_links_when_a_template_names_it(
    settings: Settings, sessions: Sessions, smtp: MailSink
) -> None:
    settings.link_templates = {"activation": "https://portal.example.com/activate?code={token}"}
    await activation_link(settings, sessions, MailSender(settings, sessions))
    (mail,) = await smtp.wait_for(1)
    code = link_in(mail, "https://portal.example.com/activate?code=")
    async with sessions() as session:
        assert await session.scalar(select(ActivationCode.code_hash)) == hash_token(code)
