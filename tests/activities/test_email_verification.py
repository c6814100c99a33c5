"""The verification activities, run as activities (ActivityEnvironment) on both databases."""

from __future__ import annotations

import dataclasses
from datetime import UTC
from datetime import datetime

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.ext.asyncio import async_sessionmaker
from temporalio.testing import ActivityEnvironment

from activities.email_verification import EmailVerificationActivities
from activities.mail import MailSender
from core.settings import Settings
from core.tokens import hash_token
from models.contracts.email_verification import RecordOutcomeInput
from models.contracts.email_verification import SendLinkInput
from models.contracts.email_verification import VerificationStatus
from models.records.outbox import EmailVerification
from models.records.outbox import OutboxMessage
from tests.support.mail import MailSink
from tests.support.mail import token_in

pytestmark = pytest.mark.asyncio
FLOW_ID = "email-verification-" + "a" * 24


@pytest.fixture
def activities(
    settings: Settings, sessions: async_sessionmaker[AsyncSession]
) -> EmailVerificationActivities:
    return EmailVerificationActivities(settings, sessions, MailSender(settings, sessions))


def link_input(number: int = 1) -> SendLinkInput:
    return SendLinkInput(
        flow_id=FLOW_ID,
        link_number=number,
        email="ada@example.com",
        purpose="signup",
        locale="en",
        expires_at=datetime(2030, 1, 1, tzinfo=UTC),
    )


async def test_send_link_returns_the_hash_of_the_mailed_token(
    activities: EmailVerificationActivities,
    smtp: MailSink,
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    env = ActivityEnvironment()
    env.info = dataclasses.replace(env.info, workflow_id=FLOW_ID)
    token_hash = await env.run(activities.send_link, link_input())
    (mail,) = await smtp.wait_for(1)
    token = token_in(mail)
    # The public part is the link's own random id, never the flow's key.
    assert not token.startswith("a" * 24 + ".")
    async with sessions() as session:
        link = await session.scalar(select(OutboxMessage))
    assert link is not None and token.startswith(f"{link.link_id}.")
    assert (link.flow_id, link.run_id) == (FLOW_ID, env.info.workflow_run_id)
    assert hash_token(token) == token_hash


async def test_a_retried_send_link_does_not_send_again(
    activities: EmailVerificationActivities, smtp: MailSink
) -> None:
    env = ActivityEnvironment()
    first = await env.run(activities.send_link, link_input())
    again = await env.run(activities.send_link, link_input())  # the retry after a lost completion
    assert again == first
    await smtp.wait_for(1)
    other = await env.run(activities.send_link, link_input(2))  # a new link is a new message
    assert other != first
    assert len(await smtp.wait_for(2)) == 2


async def test_record_outcome_is_idempotent(
    activities: EmailVerificationActivities, sessions: async_sessionmaker[AsyncSession]
) -> None:
    outcome = RecordOutcomeInput(
        flow_id=FLOW_ID,
        email="ada@example.com",
        purpose="signup",
        status=VerificationStatus.VERIFIED,
        business_id=None,
        finished_at=datetime(2030, 1, 1, tzinfo=UTC),
    )
    env = ActivityEnvironment()
    await env.run(activities.record_outcome, outcome)
    await env.run(activities.record_outcome, outcome)
    async with sessions() as session:
        rows = (await session.scalars(select(EmailVerification))).all()
    assert [(row.flow_id, row.status) for row in rows] == [(FLOW_ID, "verified")]
    assert rows[0].finished_at == datetime(2030, 1, 1, tzinfo=UTC)
