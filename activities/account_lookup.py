"""The account lookup's one step: mail the address which Business it is the primary account of,
or that it has none and how one is made (docs/flows/account-lookup.md)."""

from __future__ import annotations

from collections.abc import Callable
from collections.abc import Sequence
from typing import Any

from sqlalchemy import select
from temporalio import activity

from activities.base import FlowActivities
from activities.mail import Mail
from activities.mail import mail_key
from core.text import email_key
from core.tokens import mask_name
from models.contracts.account_lookup import LookupInput
from models.records.domain import Account
from models.records.domain import Business
from models.records.domain import ProductInstance

ANSWER_TEMPLATE = "account_lookup"


class AccountLookupActivities(FlowActivities):
    def activities(self) -> list[Callable[..., Any]]:
        """What the worker registers: each bound activity method of this flow."""
        return [
            self.send_answer,
        ]

    @activity.defn(name="account_lookup.send_answer")
    async def send_answer(self, input: LookupInput) -> bool:
        """Mail the answer once per flow run; True once the SMTP server has it."""
        async with self._sessions() as session:  # one primary per address (a unique index)
            business = await session.scalar(
                select(Business)
                .join(Account, Account.business_id == Business.id)
                .where(Account.kind == "primary", Account.email_key == email_key(input.email))
            )
            instances = (
                await session.scalars(
                    select(ProductInstance)
                    .where(ProductInstance.business_id == (business.id if business else ""))
                    .order_by(ProductInstance.created_at, ProductInstance.id)
                )
            ).all()
        context = {
            "company": mask_name(business.name) if business else None,
            "consoles": self._consoles(instances),
            "support": self._settings.support_contact,
        }
        await self._mail.send(
            mail_key("answer"), Mail(ANSWER_TEMPLATE, input.email, input.locale, context)
        )
        return True

    def _consoles(self, instances: Sequence[ProductInstance]) -> list[dict[str, str]]:
        """Where the company's instances are signed in to (the mail names their products and
        regions in its language)."""
        return [
            {"name": row.description or "", "product": row.product_code, "region": row.region,
             "url": url}
            for row in instances
            if (url := row.console(self._settings))
        ]  # fmt: skip
