"""Side effects of a license's lifecycle: the renewal reminders to the Business's primary account,
and the expiry on its date (credits that are left leave the balance, with a ledger entry), each
once whatever the retries (docs/flows/license-lifecycle.md)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from temporalio import activity

from activities.base import FlowActivities
from activities.mail import Mail
from activities.mail import mail_key
from models.contracts.license_lifecycle import ExpireInput
from models.contracts.license_lifecycle import LifecycleInput
from models.contracts.license_lifecycle import ReminderInput
from models.contracts.license_lifecycle import Term
from models.records.base import as_utc
from models.records.domain import Account
from models.records.domain import Business
from models.records.domain import CreditLedgerEntry
from models.records.domain import License
from models.records.events import record_event
from models.records.ownership_rules import lock_business

REMINDER_TEMPLATE = "license_expiring"


def _license_data(license: LifecycleInput) -> dict[str, object]:
    return {
        "license_id": license.license_id,
        "business_id": license.business_id,
        "product_name": license.product_name,
        "kind": license.kind,
        "trial": license.trial,
        "expires_on": license.expires_on,
    }


class LicenseLifecycleActivities(FlowActivities):
    def activities(self) -> list[Callable[..., Any]]:
        """What the worker registers: each bound activity method of this flow."""
        return [
            self.send_reminder,
            self.read_term,
            self.end_term,
            self.expire,
        ]

    @activity.defn(name="license_lifecycle.send_reminder")
    async def send_reminder(self, input: ReminderInput) -> None:
        """Tell whoever is the primary account now (it may have changed since activation)."""
        license = input.license
        async with self._sessions() as session:
            term = await session.get(License, license.license_id)
            if term is None or (term.status, term.expires_on.isoformat()) != (
                "active",
                license.expires_on,
            ):
                return  # renewed or converted since: this reminder is not true any more
            row = await session.execute(
                select(Account.email, Account.locale, Business.name)
                .join(Business, Business.id == Account.business_id)
                .where(Account.business_id == license.business_id, Account.kind == "primary")
            )
            found = row.first()
        if found is None:  # a Business always has a primary; nothing to tell otherwise
            return
        email, locale, company = found
        async with self._sessions.begin() as session:
            key = f"license.expiring:{license.license_id}:{license.expires_on}:{input.days_left}"
            data = _license_data(license) | {"days_left": input.days_left}
            await record_event(session, "license.expiring", key, license.business_id, data)
        context = {
            "company_name": company,
            "product_name": license.product_name,
            "kind": license.kind,
            "trial": license.trial,
            "amount": license.amount,
            "expires_on": license.expires_on,
            "days_left": input.days_left,
            "support": self._settings.support_contact,
        }
        key = mail_key(f"reminder/{license.expires_on}/{input.days_left}")
        await self._mail.send(key, Mail(REMINDER_TEMPLATE, email, locale or "en", context))

    @activity.defn(name="license_lifecycle.read_term")
    async def read_term(self, license_id: str) -> Term:
        """The license's status and last day now (after a renewal or a conversion)."""
        async with self._sessions() as session:
            row = await session.get(License, license_id)
            if row is None:
                return Term("expired", date.min.isoformat())
            return Term(row.status, row.expires_on.isoformat())

    @activity.defn(name="license_lifecycle.end_term")
    async def end_term(self, input: ExpireInput) -> Term:
        """At the end of the flow's term: expire the license, unless a renewal moved its last day
        or a paid order converted it meanwhile (both under the Business's lock, as here)."""
        license = input.license
        async with self._sessions.begin() as session:
            business = await lock_business(session, license.business_id)
            row = await session.get(License, license.license_id)
            if row is None or business is None:
                return Term("expired", license.expires_on)
            if row.status == "converted" or row.expires_on.isoformat() > license.expires_on:
                return Term(row.status, row.expires_on.isoformat())
            await self._expire(session, business, row, input)
            return Term("expired", license.expires_on)

    @activity.defn(name="license_lifecycle.expire")
    async def expire(self, input: ExpireInput) -> int:
        """Flows started before renewals existed end with this one (`end_term` now).
        Returns the credits removed."""
        license = input.license
        async with self._sessions.begin() as session:
            business = await lock_business(session, license.business_id)
            row = await session.get(License, license.license_id)
            if row is None or business is None:
                return 0
            return await self._expire(session, business, row, input)

    async def _expire(
        self, session: AsyncSession, business: Business, row: License, input: ExpireInput
    ) -> int:
        """The license reads `expired`; credits still in the balance leave it (never below 0).
        Returns the credits removed; a retry after the commit removes nothing more."""
        license = input.license
        row.status = "expired"
        at = as_utc(input.at)
        key = f"license.expired:{license.license_id}:{license.expires_on}"
        data = _license_data(license)
        await record_event(session, "license.expired", key, license.business_id, data, at)
        if license.kind != "credits":
            return 0
        done = await session.scalar(
            select(CreditLedgerEntry.id).where(
                CreditLedgerEntry.license_id == license.license_id,
                CreditLedgerEntry.entry == "expiry",
            )
        )
        if done is not None:  # removed by an earlier attempt (under the same lock)
            return 0
        removed = min(license.amount, business.credit_balance)
        session.add(
            CreditLedgerEntry(
                business_id=license.business_id,
                license_id=license.license_id,
                entry="expiry",
                amount=-removed,
                expires_on=date.fromisoformat(license.expires_on),
                created_at=as_utc(input.at),
            )
        )
        business.credit_balance -= removed
        data = _license_data(license) | {"amount": removed, "balance": business.credit_balance}
        key = f"credits.expired:{license.license_id}"
        await record_event(session, "credits.expired", key, license.business_id, data, at)
        return removed
