"""The email-verification workflow on the time-skipping server, with its real activities,
SQLite and a real SMTP server on loopback."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.ext.asyncio import async_sessionmaker
from temporalio.client import Client
from temporalio.client import WorkflowUpdateFailedError
from temporalio.exceptions import ApplicationError
from temporalio.service import RPCError
from temporalio.testing import WorkflowEnvironment

from core.settings import Settings
from core.tokens import hash_token
from models.contracts.email_verification import ChangeEmailInput
from models.contracts.email_verification import ConfirmInput
from models.contracts.email_verification import TokenCheck
from models.contracts.email_verification import VerificationStatus
from models.contracts.search_attributes import ACTIVATION_FLOW
from models.contracts.search_attributes import ACTIVATION_STATUS
from models.errors import VerificationError
from models.records.outbox import EmailVerification
from tests.support.histories import history_text
from tests.support.histories import keep_history
from tests.support.mail import MailSink
from tests.support.mail import token_in
from tests.support.verifications import Handle
from tests.support.verifications import begin
from workflows.email_verification import EmailVerificationWorkflow

pytestmark = pytest.mark.asyncio


async def confirm(handle: Handle, token: str) -> VerificationStatus:
    state = await handle.execute_update(
        EmailVerificationWorkflow.confirm, ConfirmInput(hash_token(token))
    )
    return state.status


async def failure_type(call: object) -> str | None:
    """Await an update and return the business failure's type (it must fail)."""
    with pytest.raises(WorkflowUpdateFailedError) as caught:
        await call  # type: ignore[misc]
    cause = caught.value.cause
    assert isinstance(cause, ApplicationError)
    return cause.type


async def test_the_emailed_link_verifies_and_the_outcome_is_recorded(
    time_client: Client,
    settings: Settings,
    smtp: MailSink,
    app_sessions: async_sessionmaker[AsyncSession],
) -> None:
    state, handle = await begin(time_client, settings, "ada@example.com")
    assert state.status == VerificationStatus.PENDING
    assert state.resends_left == 5 and state.attempts_left == 5
    (mail,) = await smtp.wait_for(1, to="ada@example.com")
    assert "UTC" in mail.get_payload()[0].get_payload(decode=True).decode()  # type: ignore[index,union-attr]

    assert await confirm(handle, token_in(mail)) == VerificationStatus.VERIFIED
    result = await handle.result()
    assert result.status == VerificationStatus.VERIFIED
    async with app_sessions() as session:
        rows = (await session.scalars(select(EmailVerification))).all()
    assert [(row.email, row.status) for row in rows] == [("ada@example.com", "verified")]
    await keep_history(handle, "verified")


async def test_the_token_never_appears_in_history_or_search_attributes(
    time_client: Client, settings: Settings, smtp: MailSink
) -> None:
    _, handle = await begin(time_client, settings)
    token = token_in((await smtp.wait_for(1))[0])
    await confirm(handle, token)
    await handle.result()
    history = await history_text(handle)
    secret = token.split(".", 1)[1]
    assert secret not in history and token not in history
    assert hash_token(token) in history  # what the workflow compares is the hash
    described = await handle.describe()
    attributes = described.typed_search_attributes
    assert attributes.get(ACTIVATION_FLOW) == "email-verification"
    assert attributes.get(ACTIVATION_STATUS) == "verified"
    assert secret not in str(attributes)
    await keep_history(handle, "verified_encrypted")  # replays with the codec's keys


async def test_the_link_expires_after_24_hours(
    time_client: Client, time_env: WorkflowEnvironment, settings: Settings, smtp: MailSink
) -> None:
    _, handle = await begin(time_client, settings)
    token = token_in((await smtp.wait_for(1))[0])
    await time_env.sleep(timedelta(hours=23, minutes=59))
    assert (await handle.query(EmailVerificationWorkflow.state)).status == "pending"

    await time_env.sleep(timedelta(minutes=2))
    assert (await handle.result()).status == VerificationStatus.EXPIRED
    assert (
        await handle.query(EmailVerificationWorkflow.check_token, ConfirmInput(hash_token(token)))
        == TokenCheck.DEAD
    )
    with pytest.raises(RPCError):  # a finished flow takes no more updates
        await confirm(handle, token)
    assert (await handle.describe()).typed_search_attributes.get(ACTIVATION_STATUS) == "expired"
    await keep_history(handle, "expired")


async def test_resend_inside_the_cooldown_is_refused_with_the_wait(
    time_client: Client, time_env: WorkflowEnvironment, settings: Settings, smtp: MailSink
) -> None:
    _, handle = await begin(time_client, settings)
    await smtp.wait_for(1)
    with pytest.raises(WorkflowUpdateFailedError) as caught:
        await handle.execute_update(EmailVerificationWorkflow.resend)
    cause = caught.value.cause
    assert isinstance(cause, ApplicationError)
    assert cause.type == VerificationError.RESEND_COOLDOWN
    assert 50 <= cause.details[0] <= 60

    await time_env.sleep(timedelta(seconds=61))
    state = await handle.execute_update(EmailVerificationWorkflow.resend)
    assert state.resends_left == 4
    await smtp.wait_for(2)


async def test_a_resend_kills_the_previous_link(
    time_client: Client, time_env: WorkflowEnvironment, settings: Settings, smtp: MailSink
) -> None:
    _, handle = await begin(time_client, settings)
    old = token_in((await smtp.wait_for(1))[0])
    await time_env.sleep(timedelta(seconds=61))
    await handle.execute_update(EmailVerificationWorkflow.resend)
    new = token_in((await smtp.wait_for(2))[1])
    assert new != old

    assert await failure_type(confirm(handle, old)) == VerificationError.TOKEN_INVALID
    state = await handle.query(EmailVerificationWorkflow.state)
    assert state.attempts_left == 4  # a dead link counts as a failed attempt
    assert await confirm(handle, new) == VerificationStatus.VERIFIED
    await keep_history(handle, "resent_then_verified")


async def test_a_resend_restarts_the_expiry(
    time_client: Client, time_env: WorkflowEnvironment, settings: Settings, smtp: MailSink
) -> None:
    _, handle = await begin(time_client, settings)
    await smtp.wait_for(1)
    await time_env.sleep(timedelta(hours=20))
    await handle.execute_update(EmailVerificationWorkflow.resend)
    token = token_in((await smtp.wait_for(2))[1])
    await time_env.sleep(timedelta(hours=20))  # 40 h after the start, 20 h after the new link
    assert await confirm(handle, token) == VerificationStatus.VERIFIED


async def test_at_most_five_resends(
    time_client: Client, time_env: WorkflowEnvironment, settings: Settings, smtp: MailSink
) -> None:
    _, handle = await begin(time_client, settings)
    for left in (4, 3, 2, 1, 0):
        await time_env.sleep(timedelta(seconds=61))
        state = await handle.execute_update(EmailVerificationWorkflow.resend)
        assert state.resends_left == left
    assert state.resend_available_at is None
    await time_env.sleep(timedelta(seconds=61))
    resend = handle.execute_update(EmailVerificationWorkflow.resend)
    assert await failure_type(resend) == VerificationError.RESEND_LIMIT
    await smtp.wait_for(6)


async def test_five_failed_attempts_lock_the_flow(
    time_client: Client, settings: Settings, smtp: MailSink
) -> None:
    _, handle = await begin(time_client, settings)
    token = token_in((await smtp.wait_for(1))[0])
    wrong = token[:-4] + "AAAA"
    for _ in range(4):
        assert await failure_type(confirm(handle, wrong)) == VerificationError.TOKEN_INVALID
    assert await failure_type(confirm(handle, wrong)) == VerificationError.LOCKED
    assert (await handle.result()).status == VerificationStatus.LOCKED
    with pytest.raises(RPCError):  # even the right token is refused now
        await confirm(handle, token)
    await keep_history(handle, "locked")


async def test_changing_the_address_sends_a_new_link_there(
    time_client: Client, time_env: WorkflowEnvironment, settings: Settings, smtp: MailSink
) -> None:
    _, handle = await begin(time_client, settings, "old@example.com")
    old = token_in((await smtp.wait_for(1, to="old@example.com"))[0])
    same = handle.execute_update(
        EmailVerificationWorkflow.change_email, ChangeEmailInput("OLD@example.com")
    )
    assert await failure_type(same) == VerificationError.RESEND_COOLDOWN  # a resend, really

    # A typo is fixed at once: no cooldown for another address.
    state = await handle.execute_update(
        EmailVerificationWorkflow.change_email, ChangeEmailInput("new@example.com")
    )
    assert state.email == "new@example.com" and state.resends_left == 4
    new = token_in((await smtp.wait_for(1, to="new@example.com"))[0])
    assert await failure_type(confirm(handle, old)) == VerificationError.TOKEN_INVALID
    assert await confirm(handle, new) == VerificationStatus.VERIFIED
    assert (await handle.result()).email == "new@example.com"
    await keep_history(handle, "address_changed")


async def test_cancel_ends_the_flow_and_kills_the_link(
    time_client: Client, settings: Settings, smtp: MailSink
) -> None:
    _, handle = await begin(time_client, settings)
    token = token_in((await smtp.wait_for(1))[0])
    state = await handle.execute_update(EmailVerificationWorkflow.cancel)
    assert state.status == VerificationStatus.CANCELLED
    assert (await handle.result()).status == VerificationStatus.CANCELLED
    assert (
        await handle.query(EmailVerificationWorkflow.check_token, ConfirmInput(hash_token(token)))
        == TokenCheck.DEAD
    )
    await keep_history(handle, "cancelled")


async def test_a_cancel_while_the_link_is_being_sent_closes_the_flow_as_cancelled(
    dev_client: Client,
    settings: Settings,
    smtp: MailSink,
    app_sessions: async_sessionmaker[AsyncSession],
) -> None:
    # A parent flow cancels its sign-up's link (the customer signed in instead) while the mail
    # server still holds its reply to the first link: the flow records itself as cancelled.
    # On the dev server: after this on the module's time-skipping server, a later test's
    # skipped sleep timed out (a flow closed while its activity still ran).
    smtp.lose_replies(1, late_by=5)
    _, handle = await begin(dev_client, settings, "grace@example.com")
    await smtp.wait_for(1, to="grace@example.com")
    await handle.cancel()
    assert (await handle.result()).status == VerificationStatus.CANCELLED
    async with app_sessions() as session:
        rows = (await session.scalars(select(EmailVerification))).all()
    assert [(row.email, row.status) for row in rows] == [("grace@example.com", "cancelled")]
    await keep_history(handle, "verification_cancelled_while_sending")


async def test_a_second_start_for_the_pending_address_returns_the_same_flow(
    time_client: Client, settings: Settings, smtp: MailSink
) -> None:
    first, handle = await begin(time_client, settings, "ada@example.com")
    second, _ = await begin(time_client, settings, "Ada@Example.com")
    assert second.id == first.id and second.expires_at == first.expires_at
    await smtp.wait_for(1)
    await handle.execute_update(EmailVerificationWorkflow.cancel)
    await handle.result()
    third, _ = await begin(time_client, settings, "ada@example.com")
    assert third.id == first.id and third.status == VerificationStatus.PENDING  # a new run
    await smtp.wait_for(2)


async def test_expiry_can_differ_per_purpose(
    time_client: Client, time_env: WorkflowEnvironment, settings: Settings, smtp: MailSink
) -> None:
    _, handle = await begin(time_client, settings, purpose="login", expiry_seconds=600)
    await smtp.wait_for(1)
    await time_env.sleep(timedelta(minutes=11))
    assert (await handle.result()).status == VerificationStatus.EXPIRED
