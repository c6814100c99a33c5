"""Side effects of the email-verification flow: the link email and the outcome record."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio import activity

from activities.mail import MailSender
from core.settings import Settings
from core.tokens import hash_token, new_token
from models.base import as_utc
from models.email_verification import RecordOutcomeInput, SendLinkInput, flow_key_of
from models.records import EmailVerification

LINK_TEMPLATE = "email_verification"


class EmailVerificationActivities:
    def __init__(
        self,
        settings: Settings,
        session_factory: async_sessionmaker[AsyncSession],
        mail: MailSender,
    ):
        self._settings = settings
        self._sessions = session_factory
        self._mail = mail

    @activity.defn(name="email_verification.send_link")
    async def send_link(self, input: SendLinkInput) -> str:
        """Email a fresh single-use link; return only the token's hash (it goes into history)."""
        run_id = activity.info().workflow_run_id
        key = f"{input.flow_id}/{run_id}/link/{input.link_number}"
        sent = await self._mail.find_sent(key)
        if sent is not None and sent.secret_hash is not None:
            return sent.secret_hash
        token = new_token(flow_key_of(input.flow_id))
        token_hash = hash_token(token)
        await self._mail.send(
            idempotency_key=key,
            template=LINK_TEMPLATE,
            locale=input.locale,
            to=input.email,
            context={
                "link": f"{self._settings.public_base_url.rstrip('/')}/verify-email?token={token}",
                "expires_at": input.expires_at,
                "purpose": input.purpose,
            },
            secret_hash=token_hash,
        )
        return token_hash

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
