"""The local-account flow on the time-skipping server with its real activities, SMTP and
database: activation, the reminder and lapse, withdrawal, the limit and repeated invitations."""

from __future__ import annotations

import asyncio
import uuid
from datetime import timedelta

import pytest
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.ext.asyncio import async_sessionmaker
from temporalio import activity
from temporalio.client import Client
from temporalio.client import WorkflowUpdateFailedError
from temporalio.exceptions import ApplicationError
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from activities.local_accounts import LocalAccountActivities
from activities.local_accounts import local_accounts_held
from activities.mail import MailSender
from core.settings import Settings
from core.tokens import hash_token
from models.contracts.local_accounts import ActivateInput
from models.contracts.local_accounts import InvitationStatus
from models.contracts.local_accounts import SendInvitationInput
from models.errors import LocalAccountError
from models.records.domain import Account
from tests.support.accounts import add_local_accounts
from tests.support.accounts import invite
from tests.support.activations import existing_business
from tests.support.histories import history_text
from tests.support.histories import keep_history
from tests.support.mail import MailSink
from tests.support.mail import text_of
from tests.support.mail import token_in
from tests.support.temporal import STARTED_FLOWS
from workers.worker import WORKFLOWS
from workers.worker import workflow_runner
from workflows.local_accounts import LocalAccountActivationWorkflow

pytestmark = pytest.mark.asyncio
Sessions = async_sessionmaker[AsyncSession]


async def refusal(call: object) -> str | None:
    with pytest.raises(WorkflowUpdateFailedError) as caught:
        await call  # type: ignore[misc]
    assert isinstance(caught.value.cause, ApplicationError)
    return caught.value.cause.type


async def account(sessions: Sessions, account_id: str) -> Account:
    async with sessions() as session:
        found = await session.get(Account, account_id)
    assert found is not None
    return found


async def test_the_invited_user_activates_the_account_from_the_email(
    time_client: Client, settings: Settings, smtp: MailSink, app_sessions: Sessions
) -> None:
    business_id, primary_id, (site,) = await existing_business(app_sessions, 1)
    state, handle = await invite(time_client, settings, business_id, primary_id, site)
    assert state.status == InvitationStatus.PENDING
    pending = await account(app_sessions, state.account_id)
    assert (pending.kind, pending.status, pending.instance_id) == ("local", "pending", site)
    assert pending.invited_by == primary_id

    (mail,) = await smtp.wait_for(1, to="grace@acme.example")
    assert "Acme Corp" in str(mail["Subject"]) and "Site 1 · United States" in text_of(mail)
    token = token_in(mail)
    assert "/activate-account?token=" in text_of(mail)
    state = await handle.execute_update(
        LocalAccountActivationWorkflow.activate, ActivateInput(hash_token(token))
    )
    assert state.status == InvitationStatus.ACTIVE and state.activated_at is not None
    assert (await handle.result()).status == InvitationStatus.ACTIVE
    active = await account(app_sessions, state.account_id)
    assert active.status == "active" and active.activated_at is not None

    history = await history_text(handle)
    assert token not in history and token.partition(".")[2] not in history
    await keep_history(handle, "local_account_activated")


async def test_a_reminder_goes_out_then_the_invitation_lapses_and_frees_its_place(
    time_client: Client,
    time_env: WorkflowEnvironment,
    settings: Settings,
    smtp: MailSink,
    app_sessions: Sessions,
) -> None:
    business_id, primary_id, (site,) = await existing_business(app_sessions, 1)
    state, handle = await invite(time_client, settings, business_id, primary_id, site)
    await smtp.wait_for(1)
    await time_env.sleep(timedelta(days=5, hours=23))
    assert len(smtp.messages()) == 1  # the reminder is due one day before day 7
    await time_env.sleep(timedelta(hours=2))
    first, reminder = await smtp.wait_for(2)
    assert str(reminder["Subject"]).startswith("Reminder:")
    assert token_in(first) != token_in(reminder)
    state = await handle.query(LocalAccountActivationWorkflow.state)
    assert state.status == InvitationStatus.PENDING
    await time_env.sleep(timedelta(days=1))
    result = await handle.result()
    assert result.status == InvitationStatus.LAPSED
    assert (await account(app_sessions, state.account_id)).status == "lapsed"
    async with app_sessions() as session:
        assert await local_accounts_held(session, business_id) == 0
    await keep_history(handle, "local_account_lapsed")


async def test_both_the_first_link_and_the_reminder_activate(
    time_client: Client,
    time_env: WorkflowEnvironment,
    settings: Settings,
    smtp: MailSink,
    app_sessions: Sessions,
) -> None:
    business_id, primary_id, (site,) = await existing_business(app_sessions, 1)
    _, handle = await invite(time_client, settings, business_id, primary_id, site)
    await smtp.wait_for(1)
    await time_env.sleep(timedelta(days=6, hours=1))
    first, _ = await smtp.wait_for(2)
    bad = hash_token(token_in(first) + "x")
    assert (
        await refusal(
            handle.execute_update(LocalAccountActivationWorkflow.activate, ActivateInput(bad))
        )
        == LocalAccountError.TOKEN_INVALID
    )
    state = await handle.execute_update(
        LocalAccountActivationWorkflow.activate, ActivateInput(hash_token(token_in(first)))
    )
    assert state.status == InvitationStatus.ACTIVE


async def test_the_primary_withdraws_an_invitation(
    time_client: Client, settings: Settings, smtp: MailSink, app_sessions: Sessions
) -> None:
    business_id, primary_id, (site,) = await existing_business(app_sessions, 1)
    state, handle = await invite(time_client, settings, business_id, primary_id, site)
    (mail,) = await smtp.wait_for(1)
    state = await handle.execute_update(LocalAccountActivationWorkflow.cancel)
    assert state.status == InvitationStatus.CANCELLED
    assert (await handle.result()).status == InvitationStatus.CANCELLED
    assert (await account(app_sessions, state.account_id)).status == "removed"
    await keep_history(handle, "local_account_cancelled")


async def test_the_fifty_first_local_account_is_refused_and_pending_ones_count(
    time_client: Client, settings: Settings, smtp: MailSink, app_sessions: Sessions
) -> None:
    business_id, primary_id, (site_1, site_2) = await existing_business(app_sessions, 2)
    await add_local_accounts(app_sessions, business_id, site_1, 30)
    await add_local_accounts(app_sessions, business_id, site_2, 19, status="pending")
    await add_local_accounts(app_sessions, business_id, site_2, 5, status="lapsed")
    await add_local_accounts(app_sessions, business_id, site_2, 5, status="removed")
    state, _ = await invite(time_client, settings, business_id, primary_id, site_2)  # the 50th
    assert state.status == InvitationStatus.PENDING

    assert (
        await refusal(
            invite(time_client, settings, business_id, primary_id, site_1, "one@more.example")
        )
        == LocalAccountError.LIMIT_REACHED
    )
    refused = STARTED_FLOWS[-1]  # the 51st invitation's flow, which ended refused
    await refused.result()
    await keep_history(refused, "local_account_refused")
    async with app_sessions() as session:
        assert await local_accounts_held(session, business_id) == 50
    assert smtp.messages(to="one@more.example") == []


async def test_a_repeated_invitation_joins_the_pending_one(
    time_client: Client, settings: Settings, smtp: MailSink, app_sessions: Sessions
) -> None:
    business_id, primary_id, (site,) = await existing_business(app_sessions, 1)
    first, _ = await invite(time_client, settings, business_id, primary_id, site)
    again, _ = await invite(
        time_client, settings, business_id, primary_id, site, "Grace@ACME.example"
    )
    assert again.account_id == first.account_id
    await smtp.wait_for(1)
    async with app_sessions() as session:
        assert await local_accounts_held(session, business_id) == 1


async def test_an_address_with_an_account_on_the_instance_is_refused(
    time_client: Client, settings: Settings, smtp: MailSink, app_sessions: Sessions
) -> None:
    business_id, primary_id, (site_1, site_2) = await existing_business(app_sessions, 2)
    state, handle = await invite(time_client, settings, business_id, primary_id, site_1)
    (mail,) = await smtp.wait_for(1)
    await handle.execute_update(
        LocalAccountActivationWorkflow.activate, ActivateInput(hash_token(token_in(mail)))
    )
    assert (
        await refusal(invite(time_client, settings, business_id, primary_id, site_1))
        == LocalAccountError.ACCOUNT_EXISTS
    )
    other, _ = await invite(time_client, settings, business_id, primary_id, site_2)
    assert other.status == InvitationStatus.PENDING  # another instance: another account


async def test_an_instance_of_another_business_is_refused(
    time_client: Client, settings: Settings, app_sessions: Sessions
) -> None:
    business_id, primary_id, _ = await existing_business(app_sessions, 1)
    _, _, (foreign,) = await existing_business(app_sessions, 1, email="other@else.example")
    assert (
        await refusal(invite(time_client, settings, business_id, primary_id, foreign))
        == LocalAccountError.INSTANCE_NOT_FOUND
    )


async def test_a_link_used_before_its_send_is_recorded_waits_for_it(
    time_env: WorkflowEnvironment, settings: Settings, smtp: MailSink, app_sessions: Sessions
) -> None:
    """The mail can arrive before the activity's answer reaches the flow: the activation waits
    for the hash instead of calling a good link invalid."""
    business_id, primary_id, (site,) = await existing_business(app_sessions, 1)
    real = LocalAccountActivities(settings, app_sessions, MailSender(settings, app_sessions))
    answer = asyncio.Event()

    @activity.defn(name="local_accounts.send_invitation")
    async def send_then_hold(input: SendInvitationInput) -> str:
        token_hash = await real.send_invitation(input)
        await answer.wait()  # the mail is out; the flow does not know its hash yet
        return token_hash

    others = [act for act in real.activities() if act != real.send_invitation]
    queue = f"tq-{uuid.uuid4()}"
    async with Worker(
        time_env.client,
        task_queue=queue,
        workflows=WORKFLOWS,
        activities=[*others, send_then_hold],
        workflow_runner=workflow_runner(),
    ):
        _, handle = await invite(
            time_env.client, settings, business_id, primary_id, site, task_queue=queue
        )
        (mail,) = await smtp.wait_for(1)
        activating = asyncio.create_task(
            handle.execute_update(
                LocalAccountActivationWorkflow.activate, ActivateInput(hash_token(token_in(mail)))
            )
        )
        await asyncio.sleep(0.3)
        assert not activating.done()
        answer.set()
        assert (await activating).status == InvitationStatus.ACTIVE
        await handle.result()
