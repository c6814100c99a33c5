"""The ownership-transfer activities on both databases: one pending transfer per Business even
under concurrent offers, and a swap retried after its commit leaves exactly one primary."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from sqlalchemy import func
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.ext.asyncio import async_sessionmaker
from temporalio.exceptions import ApplicationError

from activities.mail import MailSender
from activities.ownership_transfer import OwnershipTransferActivities
from core.settings import Settings
from models.contracts.ownership_transfer import CloseTransferInput
from models.contracts.ownership_transfer import CompleteTransferInput
from models.contracts.ownership_transfer import TransferStatus
from models.errors import TransferError
from models.records.domain import Account
from models.records.domain import OwnershipTransfer
from tests.support.accounts import add_local_account
from tests.support.accounts import open_input
from tests.support.activations import existing_business
from tests.support.activities import NOW
from tests.support.activities import twice

pytestmark = pytest.mark.asyncio
Sessions = async_sessionmaker[AsyncSession]


@pytest.fixture
def activities(settings: Settings, sessions: Sessions) -> OwnershipTransferActivities:
    return OwnershipTransferActivities(settings, sessions, MailSender(settings, sessions))


async def business_with_locals(sessions: Sessions, count: int) -> tuple[str, str, list[str], str]:
    business_id, owner_id, (site,) = await existing_business(sessions, 1)
    locals_ = [
        await add_local_account(sessions, business_id, site, f"user{n}@acme.example")
        for n in range(count)
    ]
    return business_id, owner_id, locals_, site


async def statuses(sessions: Sessions, business_id: str) -> list[str]:
    async with sessions() as session:
        rows = await session.scalars(
            select(OwnershipTransfer.status).where(OwnershipTransfer.business_id == business_id)
        )
        return sorted(rows)


async def test_concurrent_offers_leave_one_pending_transfer(
    activities: OwnershipTransferActivities, settings: Settings, sessions: Sessions
) -> None:
    business_id, owner_id, targets, _ = await business_with_locals(sessions, 4)
    outcomes = await asyncio.gather(
        *(
            activities.open_transfer(open_input(settings, business_id, owner_id, target))
            for target in targets
        ),
        return_exceptions=True,
    )
    refused = [o for o in outcomes if isinstance(o, ApplicationError)]
    assert len(refused) == 3, outcomes
    assert {error.type for error in refused} == {TransferError.PENDING_EXISTS}
    assert await statuses(sessions, business_id) == ["pending"]


async def test_opening_twice_records_one_transfer_and_names_the_parties(
    activities: OwnershipTransferActivities, settings: Settings, sessions: Sessions
) -> None:
    business_id, owner_id, (target,), _ = await business_with_locals(sessions, 1)
    input = open_input(settings, business_id, owner_id, target)
    await twice(activities.open_transfer, input)
    parties = await activities.open_transfer(input)
    assert (parties.owner_email, parties.target_email) == (
        "owner@acme.example",
        "user0@acme.example",
    )
    assert (parties.company_name, parties.target_instance) == ("Acme Corp", "Site 1")
    assert (parties.target_product_code, parties.target_region) == ("endpoint-protection", "us")
    assert await statuses(sessions, business_id) == ["pending"]


async def test_a_pending_transfer_past_its_expiry_does_not_block_a_new_one(
    activities: OwnershipTransferActivities, settings: Settings, sessions: Sessions
) -> None:
    """Its flow closes it on time; one still pending later lost its flow (terminated)."""
    business_id, owner_id, (first, second), _ = await business_with_locals(sessions, 2)
    await activities.open_transfer(open_input(settings, business_id, owner_id, first))
    later = NOW + timedelta(hours=25)
    await activities.open_transfer(open_input(settings, business_id, owner_id, second, later))
    assert await statuses(sessions, business_id) == ["abandoned", "pending"]


async def test_a_swap_retried_after_its_commit_changes_nothing_more(
    activities: OwnershipTransferActivities, settings: Settings, sessions: Sessions
) -> None:
    business_id, owner_id, (target, bystander), site = await business_with_locals(sessions, 2)
    input = open_input(settings, business_id, owner_id, target)
    await activities.open_transfer(input)
    complete = CompleteTransferInput(input.start.transfer_id, NOW)
    await twice(activities.complete_transfer, complete)
    # A late close (the flow's expiry racing the acceptance) cannot undo an accepted transfer.
    await activities.close_transfer(
        CloseTransferInput(input.start.transfer_id, TransferStatus.EXPIRED, NOW)
    )
    async with sessions() as session:
        primaries = await session.scalars(
            select(Account.id).where(Account.business_id == business_id, Account.kind == "primary")
        )
        assert list(primaries) == [target]
        owner = await session.get(Account, owner_id)
        assert owner is not None
        assert (owner.kind, owner.status, owner.instance_id) == ("local", "active", site)
        transfer = await session.get(OwnershipTransfer, input.start.transfer_id)
        assert transfer is not None and transfer.status == "accepted"
        locals_ = await session.scalar(
            select(func.count()).where(Account.business_id == business_id, Account.kind == "local")
        )
        assert locals_ == 2  # the old owner and the bystander


async def test_a_closed_transfer_cannot_be_completed(
    activities: OwnershipTransferActivities, settings: Settings, sessions: Sessions
) -> None:
    business_id, owner_id, (target,), _ = await business_with_locals(sessions, 1)
    input = open_input(settings, business_id, owner_id, target)
    await activities.open_transfer(input)
    await twice(
        activities.close_transfer,
        CloseTransferInput(input.start.transfer_id, TransferStatus.CANCELLED, NOW),
    )
    with pytest.raises(ApplicationError) as caught:
        await activities.complete_transfer(CompleteTransferInput(input.start.transfer_id, NOW))
    assert caught.value.type == TransferError.FAILED and caught.value.non_retryable
    assert await statuses(sessions, business_id) == ["cancelled"]
