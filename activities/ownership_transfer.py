"""Side effects of an ownership transfer: the transfer record, the emails, and the swap of the
primary account, done in one transaction so the Business never has zero or two primaries."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy import update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from temporalio import activity
from temporalio.exceptions import ApplicationError

from activities.base import Completion
from activities.base import FlowActivities
from activities.base import close_row
from activities.base import locked_business
from activities.mail import Mail
from models.contracts.ownership_transfer import CloseTransferInput
from models.contracts.ownership_transfer import CompleteTransferInput
from models.contracts.ownership_transfer import OpenTransferInput
from models.contracts.ownership_transfer import SendTransferLinkInput
from models.contracts.ownership_transfer import SendTransferOutcomeInput
from models.contracts.ownership_transfer import TransferParties
from models.contracts.ownership_transfer import TransferStatus
from models.errors import TransferError
from models.errors import refuse
from models.records.base import as_utc
from models.records.domain import Account
from models.records.domain import OwnershipTransfer
from models.records.domain import ProductInstance
from models.records.events import record_event
from models.records.ownership_rules import change_pending
from models.records.ownership_rules import transfer_problem

REQUEST_TEMPLATE = "ownership_transfer_request"
OUTCOME_TEMPLATE = "ownership_transfer_outcome"


def _pending_exists() -> ApplicationError:
    return refuse(
        TransferError.PENDING_EXISTS,
        "the Business has a pending ownership transfer; cancel it first",
    )


# The target's acceptance completes a pending transfer.
ACCEPTING = Completion(
    OwnershipTransfer,
    TransferStatus.PENDING,
    TransferStatus.ACCEPTED,
    TransferError.FAILED,
    "transfer",
)


class OwnershipTransferActivities(FlowActivities):
    def activities(self) -> list[Callable[..., Any]]:
        """What the worker registers: each bound activity method of this flow."""
        return [
            self.open_transfer,
            self.send_link,
            self.complete_transfer,
            self.close_transfer,
            self.send_outcome,
        ]

    @activity.defn(name="ownership_transfer.open")
    async def open_transfer(self, input: OpenTransferInput) -> TransferParties:
        """Record the pending transfer if it qualifies (a retry after the commit finds it)."""
        start = input.start
        async with self._sessions.begin() as session:
            business = await locked_business(session, start.business_id, TransferError.NOT_PRIMARY)
            if await session.get(OwnershipTransfer, start.transfer_id) is None:
                problem = await transfer_problem(
                    session, start.business_id, start.from_account_id, start.to_account_id
                )
                if problem is not None:
                    raise refuse(problem.error, problem.message)
                await self._require_no_pending(session, start.business_id, input.created_at)
                if (pending := await change_pending(session, start.business_id)) is not None:
                    raise refuse(pending.error, pending.message)
                session.add(
                    OwnershipTransfer(
                        id=start.transfer_id,
                        business_id=start.business_id,
                        from_account_id=start.from_account_id,
                        to_account_id=start.to_account_id,
                        status=TransferStatus.PENDING.value,
                        created_at=as_utc(input.created_at),
                        expires_at=as_utc(input.expires_at),
                    )
                )
                try:
                    await session.flush()
                except IntegrityError:  # the one-pending index: another transfer got in first
                    raise _pending_exists() from None
            owner = await session.get(Account, start.from_account_id)
            target = await session.get(Account, start.to_account_id)
            instance = await session.get(ProductInstance, target.instance_id) if target else None
            if owner is None or target is None or instance is None:  # rows are never deleted
                raise refuse(TransferError.TARGET_NOT_FOUND, "the accounts are gone")
            return TransferParties(
                company_name=business.name,
                owner_email=owner.email,
                owner_locale=owner.locale or "en",
                target_email=target.email,
                target_name=target.display_name,
                target_locale=target.locale or "en",
                target_instance=instance.description or "",
                target_product_code=instance.product_code,
                target_region=instance.region,
            )

    @staticmethod
    async def _require_no_pending(session: AsyncSession, business_id: str, now: datetime) -> None:
        # A pending transfer past its expiry belongs to a flow that no longer runs (its flow
        # closes it on time otherwise, e.g. an operator terminated it): it must not block.
        await session.execute(
            update(OwnershipTransfer)
            .where(
                OwnershipTransfer.business_id == business_id,
                OwnershipTransfer.status == TransferStatus.PENDING.value,
                OwnershipTransfer.expires_at < as_utc(now),
            )
            .values(status=TransferStatus.ABANDONED)
        )
        pending = await session.scalar(
            select(OwnershipTransfer.id).where(
                OwnershipTransfer.business_id == business_id,
                OwnershipTransfer.status == TransferStatus.PENDING.value,
            )
        )
        if pending is not None:
            raise _pending_exists()

    @activity.defn(name="ownership_transfer.send_link")
    async def send_link(self, input: SendTransferLinkInput) -> str:
        """Email the target a link with a fresh token; return only its hash."""
        parties = input.parties
        context = {
            "company_name": parties.company_name,
            "owner_email": parties.owner_email,
            "target_name": parties.target_name,
            "expires_at": input.expires_at,
        }
        mail = Mail(REQUEST_TEMPLATE, parties.target_email, parties.target_locale, context)
        return await self.mail_link("transfer", "link", mail)

    @activity.defn(name="ownership_transfer.complete")
    async def complete_transfer(self, input: CompleteTransferInput) -> None:
        """The swap, in one transaction: the target becomes the primary account and the old
        primary a local account on the target's instance. A retry after the commit finds the
        transfer accepted and changes nothing."""
        async with self._sessions.begin() as session:
            transfer = await ACCEPTING.lock(session, input.transfer_id)
            if transfer is None:
                return
            # Lock both accounts before checking them: an edit through the API waits, then
            # finds the account changed (and refuses) instead of changing a new primary.
            await session.execute(
                select(Account)
                .where(Account.id.in_([transfer.from_account_id, transfer.to_account_id]))
                .order_by(Account.id)
                .with_for_update()
                .execution_options(populate_existing=True)
            )
            problem = await transfer_problem(
                session, transfer.business_id, transfer.from_account_id, transfer.to_account_id
            )
            if problem is not None:
                raise refuse(problem.error, problem.message)
            owner = await session.get(Account, transfer.from_account_id)
            target = await session.get(Account, transfer.to_account_id)
            if owner is None or target is None:  # checked above; rows are never deleted
                raise refuse(TransferError.FAILED, "the accounts are gone")
            owner.kind, owner.instance_id = "local", target.instance_id
            await session.flush()  # first: the one-primary index never sees two at once
            target.kind, target.instance_id = "primary", None
            transfer.status = TransferStatus.ACCEPTED.value
            transfer.decided_at = as_utc(input.at)
            data = {
                "business_id": transfer.business_id,
                "account_id": target.id,
                "email": target.email,
                "previous_account_id": owner.id,
                "by": "ownership_transfer",
                "transfer_id": transfer.id,
            }
            key = f"account.primary.changed:{transfer.id}"
            await record_event(session, "account.primary.changed", key, transfer.business_id, data)

    @activity.defn(name="ownership_transfer.close")
    async def close_transfer(self, input: CloseTransferInput) -> None:
        """Record how a transfer ended without a swap (only while it is still pending)."""
        await close_row(
            self._sessions,
            OwnershipTransfer,
            input.transfer_id,
            TransferStatus.PENDING.value,
            status=input.status.value,
            decided_at=as_utc(input.at),
        )

    @activity.defn(name="ownership_transfer.send_outcome")
    async def send_outcome(self, input: SendTransferOutcomeInput) -> None:
        """Accepted: both accounts are told. Declined or expired: the owner. Cancelled: the
        target (its link no longer works)."""
        parties, status = input.parties, input.status
        owner = (parties.owner_email, parties.owner_locale)
        target = (parties.target_email, parties.target_locale)
        mails = {
            TransferStatus.ACCEPTED: [("new_owner", *target), ("former_owner", *owner)],
            TransferStatus.DECLINED: [("declined", *owner)],
            TransferStatus.EXPIRED: [("expired", *owner)],
            TransferStatus.CANCELLED: [("cancelled", *target)],
        }.get(status, [])
        context = {
            "company_name": parties.company_name,
            "owner_email": parties.owner_email,
            "target_email": parties.target_email,
            "target_instance": parties.target_instance,
            "target_product_code": parties.target_product_code,
            "target_region": parties.target_region,
        }
        await self.mail_outcomes(OUTCOME_TEMPLATE, mails, context)
