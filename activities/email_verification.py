"""Side effects of the email-verification flow: the link email and the outcome record."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from temporalio import activity

from activities.base import FlowActivities
from activities.mail import Mail
from models.contracts.email_verification import RecordOutcomeInput
from models.contracts.email_verification import SendLinkInput
from models.records.base import as_utc
from models.records.outbox import EmailVerification

LINK_TEMPLATE = "email_verification"


class EmailVerificationActivities(FlowActivities):
    def activities(self) -> list[Callable[..., Any]]:
        """What the worker registers: each bound activity method of this flow."""
        return [
            self.send_link,
            self.record_outcome,
        ]

    @activity.defn(name="email_verification.send_link")
    async def send_link(self, input: SendLinkInput) -> str:
        """Email a single-use link (once per link number); return only the token's hash."""
        context = {
            "purpose": input.purpose,
            "about": input.about,
            "products": input.products,
            "expires_at": input.expires_at,
        }
        mail = Mail(LINK_TEMPLATE, input.email, input.locale, context)
        return await self.mail_link("verification", f"link/{input.link_number}", mail)

    @activity.defn(name="email_verification.record_outcome")
    async def record_outcome(self, input: RecordOutcomeInput) -> None:
        """Upsert the run's final status (idempotent: keyed by flow and run)."""
        async with self._sessions.begin() as session:
            await session.merge(
                EmailVerification(
                    flow_id=input.flow_id,
                    run_id=activity.info().workflow_run_id,
                    email=input.email,
                    purpose=input.purpose,
                    status=input.status.value,
                    business_id=input.business_id,
                    finished_at=as_utc(input.finished_at),
                )
            )
