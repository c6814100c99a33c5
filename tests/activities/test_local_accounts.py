"""The local-account activities on both databases: the limit holds under concurrent
invitations, and each activity retried after its commit leaves what one run leaves."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.ext.asyncio import async_sessionmaker
from temporalio.exceptions import ApplicationError

from activities.local_accounts import LocalAccountActivities
from activities.local_accounts import local_accounts_held
from activities.mail import MailSender
from core.settings import Settings
from models.contracts.local_accounts import ActivateAccountInput
from models.contracts.local_accounts import CloseInvitationInput
from models.contracts.local_accounts import InvitationStatus
from models.contracts.local_accounts import RecordInvitationInput
from models.errors import LocalAccountError
from models.records.domain import Account
from tests.support.accounts import add_local_accounts
from tests.support.accounts import invitation_input
from tests.support.activations import existing_business
from tests.support.activities import NOW
from tests.support.activities import twice

pytestmark = pytest.mark.asyncio
Sessions = async_sessionmaker[AsyncSession]


@pytest.fixture
def activities(settings: Settings, sessions: Sessions) -> LocalAccountActivities:
    return LocalAccountActivities(settings, sessions, MailSender(settings, sessions))


def record_input(
    settings: Settings, business_id: str, primary_id: str, instance_id: str, email: str
) -> RecordInvitationInput:
    start = invitation_input(settings, business_id, primary_id, instance_id, email)
    return RecordInvitationInput(start, NOW, NOW + timedelta(days=7))


async def test_concurrent_invitations_never_pass_the_limit(
    activities: LocalAccountActivities, settings: Settings, sessions: Sessions
) -> None:
    """Six invitations race for the last two places: two get them, four are refused."""
    business_id, primary_id, (site_1, site_2) = await existing_business(sessions, 2)
    await add_local_accounts(sessions, business_id, site_1, 40)
    await add_local_accounts(sessions, business_id, site_2, 8, status="pending")
    inputs = [
        record_input(settings, business_id, primary_id, site_2, f"racer{n}@acme.example")
        for n in range(6)
    ]
    outcomes = await asyncio.gather(
        *(activities.record_invitation(input) for input in inputs), return_exceptions=True
    )
    refused = [o for o in outcomes if isinstance(o, ApplicationError)]
    assert len(refused) == 4, outcomes
    assert {error.type for error in refused} == {LocalAccountError.LIMIT_REACHED}
    assert all(error.non_retryable for error in refused)
    async with sessions() as session:
        assert await local_accounts_held(session, business_id, NOW) == 50


async def test_recording_twice_writes_one_account(
    activities: LocalAccountActivities, settings: Settings, sessions: Sessions
) -> None:
    business_id, primary_id, (site,) = await existing_business(sessions, 1)
    input = record_input(settings, business_id, primary_id, site, "grace@acme.example")
    await twice(activities.record_invitation, input)
    context = await activities.record_invitation(input)
    assert (context.company_name, context.instance_label) == ("Acme Corp", "Site 1")
    async with sessions() as session:
        assert await local_accounts_held(session, business_id, NOW) == 1
        account = await session.get(Account, input.start.account_id)
    assert account is not None and account.status == "pending"
    assert account.invitation_expires_at == NOW + timedelta(days=7)


async def test_a_full_business_refuses_even_a_retry_of_a_new_invitation(
    activities: LocalAccountActivities, settings: Settings, sessions: Sessions
) -> None:
    """The limit is configurable; an invitation over it leaves no row behind."""
    settings.local_account_limit = 2
    business_id, primary_id, (site,) = await existing_business(sessions, 1)
    await add_local_accounts(sessions, business_id, site, 2)
    input = record_input(settings, business_id, primary_id, site, "grace@acme.example")
    for _ in range(2):
        with pytest.raises(ApplicationError) as caught:
            await activities.record_invitation(input)
        assert caught.value.type == LocalAccountError.LIMIT_REACHED
    async with sessions() as session:
        assert await session.get(Account, input.start.account_id) is None


async def test_activation_and_closing_are_idempotent(
    activities: LocalAccountActivities, settings: Settings, sessions: Sessions
) -> None:
    business_id, primary_id, (site,) = await existing_business(sessions, 1)
    first = record_input(settings, business_id, primary_id, site, "grace@acme.example")
    second = record_input(settings, business_id, primary_id, site, "alan@acme.example")
    await activities.record_invitation(first)
    await activities.record_invitation(second)
    account_id = first.start.account_id
    await twice(activities.activate_account, ActivateAccountInput(account_id, NOW))
    # Closing an activated account's invitation changes nothing; a pending one is freed.
    await twice(
        activities.close_invitation, CloseInvitationInput(account_id, InvitationStatus.LAPSED)
    )
    closing = CloseInvitationInput(second.start.account_id, InvitationStatus.CANCELLED)
    await twice(activities.close_invitation, closing)
    async with sessions() as session:
        active = await session.get(Account, account_id)
        removed = await session.get(Account, second.start.account_id)
        assert active is not None and (active.status, active.activated_at) == ("active", NOW)
        assert removed is not None and removed.status == "removed"
        assert await local_accounts_held(session, business_id, NOW) == 1
    with pytest.raises(ApplicationError) as caught:  # a withdrawn invitation cannot activate
        await activities.activate_account(ActivateAccountInput(second.start.account_id, NOW))
    assert caught.value.type == LocalAccountError.CANCELLED


async def test_a_pending_invitation_past_its_expiry_holds_no_place(
    activities: LocalAccountActivities, settings: Settings, sessions: Sessions
) -> None:
    """Its flow lapses it on time; one still pending later lost its flow (terminated)."""
    settings.local_account_limit = 1
    business_id, primary_id, (site,) = await existing_business(sessions, 1)
    first = record_input(settings, business_id, primary_id, site, "grace@acme.example")
    await activities.record_invitation(first)
    week_later = NOW + timedelta(days=7, seconds=1)
    again = record_input(settings, business_id, primary_id, site, "grace@acme.example")
    again = RecordInvitationInput(again.start, week_later, week_later + timedelta(days=7))
    await activities.record_invitation(again)  # neither the limit nor the address refuses it
    async with sessions() as session:
        assert await local_accounts_held(session, business_id, week_later) == 1
        assert await local_accounts_held(session, business_id, NOW) == 2
