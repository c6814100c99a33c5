"""Side effects of local-account invitations: the pending account (within the Business's limit),
the invitation emails, activation and the invitation's end. Each is idempotent."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement
from sqlalchemy import and_
from sqlalchemy import func
from sqlalchemy import or_
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from temporalio import activity

from activities.base import FlowActivities
from activities.base import close_row
from activities.mail import Mail
from core.text import email_key
from models.contracts.direct_change import CHANGE_ACCOUNT
from models.contracts.direct_change import ChangeAccountInput
from models.contracts.local_accounts import ActivateAccountInput
from models.contracts.local_accounts import CloseInvitationInput
from models.contracts.local_accounts import InvitationContext
from models.contracts.local_accounts import InvitationStatus
from models.contracts.local_accounts import RecordInvitationInput
from models.contracts.local_accounts import SendInvitationInput
from models.errors import LocalAccountError
from models.errors import refuse
from models.records.base import as_utc
from models.records.domain import Account
from models.records.domain import Business
from models.records.domain import ProductInstance
from models.records.events import record_event

INVITATION_TEMPLATE = "local_account_invitation"
# The statuses that hold one of the Business's local-account places.
HOLDING_A_PLACE = ("pending", "active", "disabled")
CLOSED_AS = {InvitationStatus.LAPSED: "lapsed", InvitationStatus.CANCELLED: "removed"}


def holds_a_place(at: datetime) -> ColumnElement[bool]:
    """An account holds one of the Business's places unless it lapsed or was removed; a pending
    invitation past its expiry no longer does (even if no flow closed it: one was terminated)."""
    return and_(
        Account.status.in_(HOLDING_A_PLACE),
        or_(
            Account.status != "pending",
            Account.invitation_expires_at.is_(None),
            Account.invitation_expires_at > at,
        ),
    )


async def local_accounts_held(
    session: AsyncSession, business_id: str, at: datetime | None = None
) -> int:
    count = await session.scalar(
        select(func.count())
        .select_from(Account)
        .where(
            Account.business_id == business_id,
            Account.kind == "local",
            holds_a_place(at or datetime.now(UTC)),
        )
    )
    return count or 0


class LocalAccountActivities(FlowActivities):
    def activities(self) -> list[Callable[..., Any]]:
        """What the worker registers: each bound activity method of this flow."""
        return [
            self.record_invitation,
            self.send_invitation,
            self.activate_account,
            self.close_invitation,
            self.change_account,
        ]

    @activity.defn(name="local_accounts.record_invitation")
    async def record_invitation(self, input: RecordInvitationInput) -> InvitationContext:
        """Write the pending account, unless the Business is at its limit or the address has
        an account on this instance already. A retry after the commit finds the account."""
        start = input.start
        async with self._sessions.begin() as session:
            # Invitations to one Business queue here (a row lock on PostgreSQL; SQLite has one
            # writer at a time), so concurrent ones cannot all see room for themselves.
            business = await session.get(Business, start.business_id, with_for_update=True)
            instance = await session.get(ProductInstance, start.instance_id)
            if business is None or instance is None or instance.business_id != business.id:
                raise refuse(
                    LocalAccountError.INSTANCE_NOT_FOUND,
                    "no such product instance in this Business",
                )
            context = InvitationContext(
                business.name, instance.description or "", instance.product_code, instance.region
            )
            if await session.get(Account, start.account_id) is not None:
                return context
            clash = await session.scalar(
                select(Account.id)
                .where(
                    Account.business_id == start.business_id,
                    Account.instance_id == start.instance_id,
                    Account.email_key == email_key(start.email),
                    holds_a_place(as_utc(input.invited_at)),
                )
                .limit(1)
            )
            if clash is not None:
                raise refuse(
                    LocalAccountError.ACCOUNT_EXISTS,
                    "this address has an account on this instance already",
                )
            session.add(
                Account(
                    id=start.account_id,
                    business_id=start.business_id,
                    email=start.email,
                    display_name=start.display_name,
                    kind="local",
                    status="pending",
                    instance_id=start.instance_id,
                    locale=start.locale,
                    invited_by=start.invited_by,
                    invitation_expires_at=as_utc(input.expires_at),
                )
            )
            await session.flush()  # counted with the others; the limit check includes it
            limit = self._settings.local_account_limit
            held = await local_accounts_held(session, start.business_id, as_utc(input.invited_at))
            if held > limit:
                raise refuse(
                    LocalAccountError.LIMIT_REACHED,
                    f"the Business has {limit} local accounts (pending ones count)",
                )
        return context

    @activity.defn(name="local_accounts.send_invitation")
    async def send_invitation(self, input: SendInvitationInput) -> str:
        """Email a link with a fresh token (once per link number); return only its hash."""
        context = {
            "display_name": input.display_name,
            "company_name": input.context.company_name,
            "instance_label": input.context.instance_label,
            "product_code": input.context.product_code,
            "region_code": input.context.region,
            "expires_at": input.expires_at,
            "reminder": input.reminder,
        }
        mail = Mail(INVITATION_TEMPLATE, input.email, input.locale, context)
        return await self.mail_link("invitation", f"link/{input.link_number}", mail)

    @activity.defn(name="local_accounts.activate_account")
    async def activate_account(self, input: ActivateAccountInput) -> None:
        async with self._sessions.begin() as session:
            account = await session.get(Account, input.account_id, with_for_update=True)
            if account is not None and account.status == "active":
                return  # a retry after the commit
            if account is None or account.status != "pending":
                raise refuse(LocalAccountError.CANCELLED, "the invitation was withdrawn")
            account.status = "active"
            account.activated_at = as_utc(input.at)
            data = {
                "account_id": account.id,
                "business_id": account.business_id,
                "email": account.email,
                "instance_id": account.instance_id,
            }
            key = f"local_account.activated:{account.id}"
            await record_event(session, "local_account.activated", key, account.business_id, data)

    @activity.defn(name="local_accounts.close_invitation")
    async def close_invitation(self, input: CloseInvitationInput) -> None:
        """A lapsed or withdrawn invitation frees its place (only while still pending)."""
        await close_row(
            self._sessions, Account, input.account_id, "pending", status=CLOSED_AS[input.status]
        )

    @activity.defn(name=CHANGE_ACCOUNT)
    async def change_account(self, input: ChangeAccountInput) -> None:
        """Rename, disable, enable or remove a local account, only as it was read: an ownership
        transfer may have made it the primary meanwhile (it locks the row), and then nothing
        changes. A retry after the commit finds the change made and does nothing more."""
        async with self._sessions.begin() as session:
            account = await session.get(Account, input.account_id, with_for_update=True)
            if account is None:
                raise refuse(LocalAccountError.ACCOUNT_NOT_FOUND, "no such account")
            name = input.display_name if input.display_name is not None else account.display_name
            status = input.status if input.status is not None else account.status
            if (account.display_name, account.status) == (name, status):
                return  # made already (a retry), or nothing to change
            if account.kind != "local" or account.status != input.expected_status:
                raise refuse(
                    LocalAccountError.ACCOUNT_CLOSED, "the account changed meanwhile; read it"
                )
            account.display_name, account.status = name, status
