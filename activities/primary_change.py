"""Side effects of a primary change by support: its record and audit trail, the mails, and the
swap of the primary account in one transaction, so the Business never has zero or two
primaries (docs/flows/primary-change.md)."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from temporalio import activity

from activities.base import Completion
from activities.base import FlowActivities
from activities.base import locked_business
from activities.mail import Mail
from core.text import email_key
from models.contracts.primary_change import ChangeParties
from models.contracts.primary_change import ChangeStatus
from models.contracts.primary_change import OldPrimary
from models.contracts.primary_change import OpenChangeInput
from models.contracts.primary_change import SendObjectionLinkInput
from models.contracts.primary_change import SendOutcomeInput
from models.contracts.primary_change import StepInput
from models.errors import ChangeError
from models.errors import TransferError
from models.errors import refuse
from models.records.base import as_utc
from models.records.domain import Account
from models.records.domain import PrimaryChange
from models.records.domain import PrimaryChangeEvent
from models.records.domain import ProductInstance
from models.records.events import record_event
from models.records.ownership_rules import change_pending

OBJECTION_TEMPLATE = "primary_change_objection"
OUTCOME_TEMPLATE = "primary_change_outcome"

# The end of the objection window completes a waiting change.
COMPLETING = Completion(
    PrimaryChange, ChangeStatus.WAITING, ChangeStatus.COMPLETED, ChangeError.FAILED, "change"
)


class PrimaryChangeActivities(FlowActivities):
    def activities(self) -> list[Callable[..., Any]]:
        """What the worker registers: each bound activity method of this flow."""
        return [
            self.open_change,
            self.record_step,
            self.complete_change,
            self.send_objection_link,
            self.send_outcome,
        ]

    @activity.defn(name="primary_change.open")
    async def open_change(self, input: OpenChangeInput) -> ChangeParties:
        """Record the change if it may happen now (a retry after the commit finds it)."""
        start = input.start
        async with self._sessions.begin() as session:
            business = await locked_business(session, start.business_id, ChangeError.NOT_FOUND)
            owner = await session.scalar(
                select(Account).where(
                    Account.business_id == start.business_id, Account.kind == "primary"
                )
            )
            if owner is None:
                raise refuse(ChangeError.FAILED, "the Business has no primary account")
            if await session.get(PrimaryChange, start.change_id) is None:
                await self._require_allowed(session, input, owner)
                session.add(
                    PrimaryChange(
                        id=start.change_id,
                        business_id=start.business_id,
                        new_email=start.new_email,
                        ticket=start.ticket,
                        requested_by=start.requested_by,
                        old_primary=start.old_primary.value,
                        locale=start.locale,
                        from_account_id=owner.id,
                        status=ChangeStatus.VERIFYING.value,
                        created_at=as_utc(input.created_at),
                        verification_id=start.verification_flow_id,
                    )
                )
                session.add(_event(start.change_id, "requested", input.created_at))
                try:
                    await session.flush()
                except IntegrityError:  # the one-pending index: another change got in first
                    raise refuse(ChangeError.PENDING_EXISTS) from None
            return ChangeParties(
                company_name=business.name,
                owner_account_id=owner.id,
                owner_email=owner.email,
                owner_locale=owner.locale or "en",
            )

    @staticmethod
    async def _require_allowed(
        session: AsyncSession, input: OpenChangeInput, owner: Account
    ) -> None:
        start = input.start
        pending = await change_pending(session, start.business_id)
        if pending is not None:
            transfer = pending.error == TransferError.PENDING_EXISTS
            error = ChangeError.TRANSFER_PENDING if transfer else ChangeError.PENDING_EXISTS
            raise refuse(error)
        if await _primary_elsewhere(session, start.new_email, start.business_id) or (
            owner.email_key == email_key(start.new_email)
        ):
            raise refuse(ChangeError.ADDRESS_TAKEN)
        if (
            start.old_primary == OldPrimary.LOCAL
            and await _first_instance(session, start.business_id) is None
        ):
            raise refuse(ChangeError.NO_INSTANCE)

    @activity.defn(name="primary_change.record_step")
    async def record_step(self, input: StepInput) -> None:
        """A step in the audit trail, and the status it moves to (once, whatever the retries)."""
        async with self._sessions.begin() as session:
            change = await session.get(PrimaryChange, input.change_id, with_for_update=True)
            if change is None:
                return
            if await _has_step(session, input.change_id, input.step):
                return
            session.add(_event(input.change_id, input.step, input.at))
            if input.objection_ends_at is not None:
                change.objection_ends_at = as_utc(input.objection_ends_at)
            if input.status is not None and change.status in ("verifying", "waiting"):
                change.status = input.status.value
                if input.status not in (ChangeStatus.VERIFYING, ChangeStatus.WAITING):
                    change.decided_at = as_utc(input.at)

    @activity.defn(name="primary_change.complete")
    async def complete_change(self, input: StepInput) -> None:
        """The swap, in one transaction: the new address becomes the primary account (a local
        account of the Business with it is promoted, else one is created), the old primary a
        local account or disabled. A retry after the commit finds it completed."""
        async with self._sessions.begin() as session:
            change = await COMPLETING.lock(session, input.change_id)
            if change is None:
                return
            owner = await session.get(Account, change.from_account_id, with_for_update=True)
            if owner is None or owner.kind != "primary" or owner.status != "active":
                raise refuse(ChangeError.FAILED, "the primary account changed meanwhile")
            if await _primary_elsewhere(session, change.new_email, change.business_id):
                raise refuse(ChangeError.ADDRESS_TAKEN)
            # The old primary steps down first: the one-primary index never sees two at once.
            if change.old_primary == OldPrimary.LOCAL:
                instance = await _first_instance(session, change.business_id)
                if instance is None:
                    raise refuse(ChangeError.NO_INSTANCE)
                owner.kind, owner.instance_id = "local", instance.id
            else:
                owner.kind, owner.status = "local", "disabled"
            await session.flush()
            primary_id = await _make_primary(session, change)
            change.status, change.decided_at = ChangeStatus.COMPLETED.value, as_utc(input.at)
            session.add(_event(change.id, "completed", input.at))
            data = {
                "business_id": change.business_id,
                "account_id": primary_id,
                "email": change.new_email,
                "previous_account_id": owner.id,
                "by": "primary_change",
                "change_id": change.id,
            }
            key = f"account.primary.changed:{change.id}"
            await record_event(session, "account.primary.changed", key, change.business_id, data)

    @activity.defn(name="primary_change.send_objection_link")
    async def send_objection_link(self, input: SendObjectionLinkInput) -> str:
        """Tell the current primary, with a link to stop the change; return only its hash."""
        parties = input.parties
        context = {
            "company_name": parties.company_name,
            "new_email": input.new_email,
            "objection_ends_at": input.objection_ends_at,
            "support": self._settings.support_contact,
        }
        mail = Mail(OBJECTION_TEMPLATE, parties.owner_email, parties.owner_locale, context)
        return await self.mail_link("objection", "objection", mail)

    @activity.defn(name="primary_change.send_outcome")
    async def send_outcome(self, input: SendOutcomeInput) -> None:
        """Completed: both addresses are told. Objected: the old primary (it stays)."""
        parties = input.parties
        mails = {
            ChangeStatus.COMPLETED: [
                ("new_primary", input.new_email, input.new_locale),
                ("former_primary", parties.owner_email, parties.owner_locale),
            ],
            ChangeStatus.OBJECTED: [("objected", parties.owner_email, parties.owner_locale)],
        }.get(input.status, [])
        context = {"company_name": parties.company_name, "new_email": input.new_email}
        await self.mail_outcomes(OUTCOME_TEMPLATE, mails, context)


def _event(change_id: str, step: str, at: Any) -> PrimaryChangeEvent:
    return PrimaryChangeEvent(change_id=change_id, step=step, at=as_utc(at))


async def _has_step(session: AsyncSession, change_id: str, step: str) -> bool:
    found = await session.scalar(
        select(PrimaryChangeEvent.id).where(
            PrimaryChangeEvent.change_id == change_id, PrimaryChangeEvent.step == step
        )
    )
    return found is not None


async def _primary_elsewhere(session: AsyncSession, email: str, business_id: str) -> bool:
    found = await session.scalar(
        select(Account.id).where(
            Account.kind == "primary",
            Account.email_key == email_key(email),
            Account.business_id != business_id,
        )
    )
    return found is not None


async def _first_instance(session: AsyncSession, business_id: str) -> ProductInstance | None:
    first: ProductInstance | None = await session.scalar(
        select(ProductInstance)
        .where(ProductInstance.business_id == business_id)
        .order_by(ProductInstance.created_at, ProductInstance.id)
        .limit(1)
    )
    return first


async def _make_primary(session: AsyncSession, change: PrimaryChange) -> str:
    """Promote the Business's account with the new address, or create one; its id."""
    existing = await session.scalar(
        select(Account)
        .where(
            Account.business_id == change.business_id,
            Account.email_key == email_key(change.new_email),
        )
        .with_for_update()
    )
    if existing is not None:
        existing.kind, existing.status, existing.instance_id = "primary", "active", None
        return existing.id
    account_id = str(uuid.uuid5(uuid.NAMESPACE_URL, f"primary-change/{change.id}"))
    session.add(
        Account(
            id=account_id,
            business_id=change.business_id,
            email=change.new_email,
            email_key=email_key(change.new_email),
            kind="primary",
            status="active",
            locale=change.locale,
        )
    )
    return account_id
