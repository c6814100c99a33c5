"""The account lookup's one step: mail the address which Business it is the primary account of,
or that it has none and how one is made (docs/flows/account-lookup.md)."""

from __future__ import annotations

from collections.abc import Callable
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
            company = await session.scalar(
                select(Business.name)
                .join(Account, Account.business_id == Business.id)
                .where(Account.kind == "primary", Account.email_key == email_key(input.email))
            )
        context = {
            "company": mask_name(company) if company else None,
            "console_url": self._settings.console_url,
            "support": self._settings.support_contact,
        }
        await self._mail.send(
            mail_key("answer"), Mail(ANSWER_TEMPLATE, input.email, input.locale, context)
        )
        return True
