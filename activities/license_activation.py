"""Side effects of license activation: the order, the Activation Link emails, accounts, agreement
acceptances, provisioning (each step with its undo; renewals in activities/held_licenses.py).
Every activity is idempotent: a retry after a commit finds its own rows and does nothing more."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC
from datetime import date
from datetime import datetime
from typing import Any

from sqlalchemy import delete
from sqlalchemy import exists
from sqlalchemy import select
from sqlalchemy import update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from temporalio import activity

from activities import activation_events
from activities.base import add_once
from activities.held_licenses import HeldLicenseSteps
from activities.instance_names import instances_of
from activities.mail import Mail
from activities.mail import mail_key
from core.text import email_key
from models.contracts.license_activation import AccountInfo
from models.contracts.license_activation import CloseOrderInput
from models.contracts.license_activation import CreatePrimaryAccountInput
from models.contracts.license_activation import FindAccountInput
from models.contracts.license_activation import InstanceChoice
from models.contracts.license_activation import LicenseItem
from models.contracts.license_activation import ProvisionInput
from models.contracts.license_activation import RecordAcceptancesInput
from models.contracts.license_activation import RecordOrderInput
from models.contracts.license_activation import SendActivationLinkInput
from models.contracts.license_activation import SendConfirmationInput
from models.contracts.license_activation import SignInInput
from models.errors import ActivationError
from models.errors import refuse
from models.records.base import as_utc
from models.records.domain import Account
from models.records.domain import ActivationCode
from models.records.domain import AgreementAcceptance
from models.records.domain import Business
from models.records.domain import CreditLedgerEntry
from models.records.domain import License
from models.records.domain import Order
from models.records.domain import ProductInstance

LINK_TEMPLATE = "activation_link"
CONFIRMATION_TEMPLATE = "activation_confirmed"


def _of_kind(items: list[LicenseItem], kind: str) -> list[LicenseItem]:
    return [item for item in items if item.kind == kind]


def _new_instances(items: list[LicenseItem]) -> list[LicenseItem]:
    """The service licenses that bring an instance of their own (not a renewal or conversion)."""
    return [item for item in _of_kind(items, "service") if item.replaces is None]


async def business_instances(session: AsyncSession, business_id: str) -> list[InstanceChoice]:
    rows = await session.scalars(
        select(ProductInstance)
        .where(ProductInstance.business_id == business_id)
        .order_by(ProductInstance.created_at, ProductInstance.id)
    )
    return [
        InstanceChoice(row.id, row.product_code, row.region, row.description, new=False)
        for row in rows
    ]


class LicenseActivationActivities(HeldLicenseSteps):
    def activities(self) -> list[Callable[..., Any]]:
        """What the worker registers: each bound activity method of this flow."""
        return [
            self.record_order,
            self.send_link,
            self.close_order,
            self.send_confirmation,
            self.load_account,
            self.find_primary_account,
            self.create_primary_account,
            self.record_acceptances,
            self.match_held_licenses,
            self.create_instances,
            self.delete_instances,
            self.take_over_held_licenses,
            self.give_back_held_licenses,
            self.add_credits,
            self.remove_credits,
            self.assign_addons,
            self.unassign_addons,
        ]

    # -- the order and its links ----------------------------------------------------------------

    @activity.defn(name="license_activation.record_order")
    async def record_order(self, record: RecordOrderInput) -> None:
        """Write the order and its licenses once (a retry finds them)."""
        input = record.order
        async with self._sessions.begin() as session:
            order = Order(
                id=input.order_id,
                reference=input.reference,
                company_name=input.company_name,
                contact_email=input.contact_email,
                region=input.region,
                locale=input.locale,
                status="pending",
                expires_at=as_utc(record.expires_at),
            )
            if not await add_once(session, order):
                return
            await session.flush()
            session.add_all(
                License(
                    id=item.license_id,
                    order_id=input.order_id,
                    product_code=item.product_code,
                    kind=item.kind,
                    units=item.units,
                    credits=item.credits,
                    expires_on=date.fromisoformat(item.expires_on),
                    trial=item.trial,
                    status="issued",
                    instance_id=None,  # set when provisioning creates or assigns it
                )
                for item in input.items
            )
            await session.flush()
            await activation_events.order_created(session, input, datetime.now(UTC))

    @activity.defn(name="license_activation.send_link")
    async def send_link(self, input: SendActivationLinkInput) -> None:
        """Email an Activation Link with a fresh code (each link its own; all valid until the
        order lapses). The code's row is stored with the mail, before it leaves, so every
        delivered link works; the code itself is never stored apart from the unsent mail."""

        async def record_code(session: AsyncSession, code_hash: str) -> None:
            session.add(
                ActivationCode(
                    code_hash=code_hash, order_id=input.order_id, link_number=input.link_number
                )
            )

        context = {
            "company_name": input.company_name,
            "items": input.items,
            "expires_at": input.expires_at,
            "reminder": input.reminder,
        }
        mail = Mail(LINK_TEMPLATE, input.to, input.locale, context)
        await self.mail_link("activation", f"link/{input.link_number}", mail, record_code)

    @activity.defn(name="license_activation.close_order")
    async def close_order(self, input: CloseOrderInput) -> None:
        """Record how the order ended. `activated` is the commit point of provisioning: the
        licenses become active and the order is tied to its Business in one transaction."""
        async with self._sessions.begin() as session:
            order = await session.get(Order, input.order_id, with_for_update=True)
            if order is None or order.status != "pending":
                return  # already closed (a retry after commit)
            order.status = input.status
            if input.status == "activated":
                order.business_id = input.business_id
                order.activated_at = as_utc(input.at)
                # A renewal's term went to the license it renews, which stays the active one.
                renews = License.renews_license_id
                for status, where in (
                    ("active", renews.is_(None)),
                    ("renewal", renews.isnot(None)),
                ):
                    await session.execute(
                        update(License)
                        .where(License.order_id == input.order_id, where)
                        .values(status=status)
                    )
            await activation_events.order_closed(session, order, input.reason, as_utc(input.at))

    @activity.defn(name="license_activation.send_confirmation")
    async def send_confirmation(self, input: SendConfirmationInput) -> None:
        """The mail that says what is active now, and where: each instance as a person knows it
        (its name and region) with its console where there is one."""
        async with self._sessions() as session:
            where = await instances_of(session, self._settings, input.items)
        context = {"company_name": input.company_name, "items": input.items, "instances": where}
        mail = Mail(CONFIRMATION_TEMPLATE, input.to, input.locale, context)
        await self._mail.send(mail_key("confirmation"), mail)

    # -- accounts and agreements ----------------------------------------------------------------

    @activity.defn(name="license_activation.load_account")
    async def load_account(self, input: SignInInput) -> AccountInfo:
        """The primary account the portal signed in, with its Business's instances."""
        async with self._sessions() as session:
            account = await session.get(Account, input.account_id)
            if account is None or account.kind != "primary" or account.status != "active":
                raise refuse(
                    ActivationError.ACCOUNT_NOT_FOUND, "no active primary account with this id"
                )
            instances = await business_instances(session, account.business_id)
        return AccountInfo(account.id, account.business_id, account.email, instances)

    @activity.defn(name="license_activation.find_primary_account")
    async def find_primary_account(self, input: FindAccountInput) -> AccountInfo | None:
        """The active primary account with this address (any letter case), if there is one."""
        async with self._sessions() as session:
            account = await session.scalar(
                select(Account).where(
                    Account.kind == "primary",
                    Account.status == "active",
                    Account.email_key == email_key(input.email),
                )
            )
            if account is None:
                return None
            instances = await business_instances(session, account.business_id)
        return AccountInfo(account.id, account.business_id, account.email, instances)

    @activity.defn(name="license_activation.create_primary_account")
    async def create_primary_account(self, input: CreatePrimaryAccountInput) -> AccountInfo:
        """A new Business and its primary account, after the email was verified."""
        info = AccountInfo(input.account_id, input.business_id, input.email, [])
        async with self._sessions() as session:
            if await session.get(Account, input.account_id) is not None:
                return info  # created by an earlier attempt
        try:
            async with self._sessions.begin() as session:
                session.add(
                    Business(
                        id=input.business_id,
                        name=input.company_name,
                        region=input.region,
                        credit_balance=0,
                    )
                )
                await session.flush()
                session.add(
                    Account(
                        id=input.account_id,
                        business_id=input.business_id,
                        email=input.email,
                        kind="primary",
                        status="active",
                    )
                )
                await session.flush()
                await activation_events.primary_created(session, input)
        except IntegrityError:
            async with self._sessions() as session:
                if await session.get(Account, input.account_id) is not None:
                    return info  # a concurrent attempt committed first
            # The one-primary-per-email index: this address already owns a Business.
            raise refuse(
                ActivationError.ACCOUNT_EXISTS,
                "this email address already has a primary account; sign in with it instead",
            ) from None
        return info

    @activity.defn(name="license_activation.record_acceptances")
    async def record_acceptances(self, input: RecordAcceptancesInput) -> None:
        """One record per (account, agreement, version, order): a retry adds nothing."""
        async with self._sessions.begin() as session:
            for agreement in input.agreements:
                recorded = await session.scalar(
                    select(
                        exists().where(
                            AgreementAcceptance.account_id == input.account_id,
                            AgreementAcceptance.agreement_id == agreement.id,
                            AgreementAcceptance.version == agreement.version,
                            AgreementAcceptance.order_id == input.order_id,
                        )
                    )
                )
                if not recorded:
                    session.add(
                        AgreementAcceptance(
                            order_id=input.order_id,
                            account_id=input.account_id,
                            agreement_id=agreement.id,
                            version=agreement.version,
                            client_address=input.client_address,
                            user_agent=input.user_agent,
                            accepted_at=as_utc(input.accepted_at),
                        )
                    )

    # -- provisioning: each step and its compensation -------------------------------------------

    @activity.defn(name="license_activation.create_instances")
    async def create_instances(self, input: ProvisionInput) -> None:
        """One instance per service license; the license's unique key makes a retry a no-op."""
        async with self._sessions.begin() as session:
            for item in _new_instances(input.items):
                existing = await session.scalar(
                    select(ProductInstance.id).where(ProductInstance.license_id == item.license_id)
                )
                if existing is None:
                    session.add(
                        ProductInstance(
                            id=item.instance_id,
                            business_id=input.business_id,
                            product_code=item.product_code,
                            region=input.region,
                            description=item.product_name,
                            license_id=item.license_id,
                            registration_status="unregistered",
                            # Sub-second, so listings keep the order instances were made in.
                            created_at=datetime.now(UTC),
                        )
                    )
                    await session.flush()
                await session.execute(
                    update(License)
                    .where(License.id == item.license_id)
                    .values(instance_id=existing or item.instance_id)
                )

    @activity.defn(name="license_activation.delete_instances")
    async def delete_instances(self, input: ProvisionInput) -> None:
        license_ids = [item.license_id for item in _new_instances(input.items)]
        async with self._sessions.begin() as session:
            await session.execute(
                update(License).where(License.id.in_(license_ids)).values(instance_id=None)
            )
            await session.execute(
                delete(ProductInstance).where(ProductInstance.license_id.in_(license_ids))
            )

    @activity.defn(name="license_activation.add_credits")
    async def add_credits(self, input: ProvisionInput) -> None:
        """A ledger entry per credit license and the balance, in one transaction; the entry's
        unique license key means a retry never adds the credits twice."""
        async with self._sessions.begin() as session:
            for item in _of_kind(input.items, "credits"):
                entry = await session.scalar(
                    select(CreditLedgerEntry.id).where(
                        CreditLedgerEntry.license_id == item.license_id
                    )
                )
                if entry is not None:
                    continue
                session.add(
                    CreditLedgerEntry(
                        business_id=input.business_id,
                        license_id=item.license_id,
                        amount=item.credits,
                        expires_on=date.fromisoformat(item.expires_on),
                    )
                )
                await session.execute(
                    update(Business)
                    .where(Business.id == input.business_id)
                    .values(credit_balance=Business.credit_balance + item.credits)
                )

    @activity.defn(name="license_activation.remove_credits")
    async def remove_credits(self, input: ProvisionInput) -> None:
        async with self._sessions.begin() as session:
            for item in _of_kind(input.items, "credits"):
                removed = await session.execute(
                    delete(CreditLedgerEntry).where(CreditLedgerEntry.license_id == item.license_id)
                )
                if removed.rowcount:  # type: ignore[attr-defined]
                    await session.execute(
                        update(Business)
                        .where(Business.id == input.business_id)
                        .values(credit_balance=Business.credit_balance - item.credits)
                    )

    @activity.defn(name="license_activation.assign_addons")
    async def assign_addons(self, input: ProvisionInput) -> None:
        async with self._sessions.begin() as session:
            for item in _of_kind(input.items, "addon"):
                instance = await session.get(ProductInstance, item.instance_id or "")
                if instance is None or instance.business_id != input.business_id:
                    raise refuse(
                        ActivationError.INSTANCE_UNAVAILABLE,
                        "the instance chosen for an add-on no longer exists",
                    )
                await session.execute(
                    update(License)
                    .where(License.id == item.license_id)
                    .values(instance_id=instance.id)
                )

    @activity.defn(name="license_activation.unassign_addons")
    async def unassign_addons(self, input: ProvisionInput) -> None:
        license_ids = [item.license_id for item in _of_kind(input.items, "addon")]
        async with self._sessions.begin() as session:
            await session.execute(
                update(License).where(License.id.in_(license_ids)).values(instance_id=None)
            )
