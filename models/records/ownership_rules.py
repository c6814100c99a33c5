"""The rules of who may hand the Business to whom (docs/flows/ownership-transfer.md,
docs/flows/primary-change.md), read from the database: the API applies them for a quick answer,
the flow's activity again under the Business's lock."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from models.errors import Refusal
from models.errors import TransferError
from models.records.domain import Account
from models.records.domain import Business
from models.records.domain import OwnershipTransfer
from models.records.domain import PrimaryChange


async def transfer_problem(
    session: AsyncSession, business_id: str, from_account_id: str, to_account_id: str
) -> Refusal | None:
    """Why this transfer cannot happen now, or None: the owner must be the Business's active
    primary, the target one of its active local accounts (whose address owns no Business)."""
    owner = await session.get(Account, from_account_id)
    if (
        owner is None
        or owner.business_id != business_id
        or owner.kind != "primary"
        or owner.status != "active"
    ):
        return Refusal(
            TransferError.NOT_PRIMARY, "only the Business's primary account may transfer"
        )
    target = await session.get(Account, to_account_id)
    if target is None or target.business_id != business_id:
        return Refusal(TransferError.TARGET_NOT_FOUND, "no such account in this Business")
    if target.kind != "local" or target.status != "active":
        return Refusal(
            TransferError.TARGET_NOT_ELIGIBLE,
            f"only an active local account can become the owner (this one is "
            f"{'the primary' if target.kind == 'primary' else target.status})",
        )
    owns_another = await session.scalar(
        select(Account.id).where(Account.kind == "primary", Account.email_key == target.email_key)
    )
    if owns_another is not None:
        return Refusal(
            TransferError.TARGET_NOT_ELIGIBLE,
            "this account's address is the primary account of another Business",
        )
    return None


async def lock_business(session: AsyncSession, business_id: str) -> Business | None:
    """Take the Business's lock before any check that decides who may change its primary: a
    write first, so SQLite (which has no row locks) serialises the transaction here too, as
    PostgreSQL does on the row."""
    await session.execute(
        update(Business)
        .where(Business.id == business_id)
        .values(id=Business.id)
        .execution_options(synchronize_session=False)
    )
    return await session.get(Business, business_id)


async def change_pending(session: AsyncSession, business_id: str) -> Refusal | None:
    """An ownership transfer and a primary change exclude each other, and each itself: the
    Business's primary account changes one way at a time."""
    transfer = await session.scalar(
        select(OwnershipTransfer.id).where(
            OwnershipTransfer.business_id == business_id, OwnershipTransfer.status == "pending"
        )
    )
    if transfer is not None:
        return Refusal(TransferError.PENDING_EXISTS, TransferError.PENDING_EXISTS.message)
    change = await session.scalar(
        select(PrimaryChange.id).where(
            PrimaryChange.business_id == business_id,
            PrimaryChange.status.in_(["verifying", "waiting"]),
        )
    )
    if change is not None:
        return Refusal(
            TransferError.PRIMARY_CHANGE_PENDING, TransferError.PRIMARY_CHANGE_PENDING.message
        )
    return None
