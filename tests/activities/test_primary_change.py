"""The primary-change activities on both databases: a swap retried after its commit leaves
exactly one primary and one audit step; a change recorded twice (a retry) is one change; a change
and an ownership transfer opened at the same moment: one of them, never both."""

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
from activities.primary_change import PrimaryChangeActivities
from core.settings import Settings
from models.contracts.email_verification import StartVerificationInput
from models.contracts.primary_change import ChangeStatus
from models.contracts.primary_change import OldPrimary
from models.contracts.primary_change import OpenChangeInput
from models.contracts.primary_change import StartChangeInput
from models.contracts.primary_change import StepInput
from models.records.domain import Account
from models.records.domain import OwnershipTransfer
from models.records.domain import PrimaryChange
from models.records.domain import PrimaryChangeEvent
from tests.support.accounts import add_local_account
from tests.support.accounts import open_input
from tests.support.activations import existing_business
from tests.support.activities import NOW
from tests.support.activities import twice

pytestmark = pytest.mark.asyncio
Sessions = async_sessionmaker[AsyncSession]


def change(
    business_id: str,
    old_primary: OldPrimary = OldPrimary.LOCAL,
    change_id: str = "5b1f0f5e-0000-4000-8000-000000000001",
) -> OpenChangeInput:
    proof = StartVerificationInput("new@acme.example", "primary-change", "en", 60, 60, 5, 5)
    start = StartChangeInput(
        change_id,
        business_id,
        "new@acme.example",
        "SUP-1",
        "alice",
        old_primary,
        "en",
        3600,
        proof,
        "email-verification-x",
    )
    return OpenChangeInput(start, NOW)


async def test_a_swap_retried_after_its_commit_leaves_one_primary(
    settings: Settings, sessions: Sessions
) -> None:
    activities = PrimaryChangeActivities(settings, sessions, MailSender(settings, sessions))
    business_id, owner_id, (site,) = await existing_business(sessions, 1)
    opened = change(business_id)
    await twice(activities.open_change, opened)
    change_id = opened.start.change_id
    later = NOW + timedelta(hours=1)
    await twice(
        activities.record_step,
        StepInput(change_id, "verified", NOW, ChangeStatus.WAITING, later),
    )
    await twice(
        activities.complete_change, StepInput(change_id, "completed", later, ChangeStatus.COMPLETED)
    )
    async with sessions() as session:
        primaries = (
            await session.scalars(
                select(Account.email).where(
                    Account.business_id == business_id, Account.kind == "primary"
                )
            )
        ).all()
        assert primaries == ["new@acme.example"]
        owner = await session.get(Account, owner_id)
        assert owner is not None and (owner.kind, owner.instance_id) == ("local", site)
        row = await session.get(PrimaryChange, change_id)
        assert row is not None and row.status == "completed"
        steps = (
            await session.scalars(
                select(PrimaryChangeEvent.step)
                .where(PrimaryChangeEvent.change_id == change_id)
                .order_by(PrimaryChangeEvent.id)
            )
        ).all()
        assert steps == ["requested", "verified", "completed"]
        changes = await session.scalar(select(func.count()).select_from(PrimaryChange))
        assert changes == 1


async def pending_rows(sessions: Sessions, business_id: str) -> int:
    async with sessions() as session:
        changes = await session.scalar(
            select(func.count()).where(PrimaryChange.business_id == business_id)
        )
        transfers = await session.scalar(
            select(func.count()).where(OwnershipTransfer.business_id == business_id)
        )
    return int(changes or 0) + int(transfers or 0)


async def test_a_change_and_a_transfer_opened_together_cannot_both_be_pending(
    settings: Settings, sessions: Sessions
) -> None:
    mail = MailSender(settings, sessions)
    changes = PrimaryChangeActivities(settings, sessions, mail)
    transfers = OwnershipTransferActivities(settings, sessions, mail)
    for round in range(3):
        owner = f"owner{round}@acme.example"
        business_id, owner_id, (site,) = await existing_business(sessions, 1, email=owner)
        target = await add_local_account(sessions, business_id, site, email=f"{site}@x.example")
        results = await asyncio.gather(
            changes.open_change(change(business_id, change_id=site)),
            transfers.open_transfer(open_input(settings, business_id, owner_id, target)),
            return_exceptions=True,
        )
        refusals = [r for r in results if isinstance(r, ApplicationError)]
        assert len(refusals) == 1, results  # one of them, and it says why
        assert refusals[0].type in ("primary_change_pending", "ownership_transfer_pending")
        assert await pending_rows(sessions, business_id) == 1
