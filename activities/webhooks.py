"""Side effects of a webhook delivery: each attempt (the signed POST, then its line in the
delivery log), giving up (the delivery failed; the endpoint disabled after a 410 or persistent
failure, and the vendor's operators told), and the events an endpoint's replay sends again
(docs/webhooks.md)."""

from __future__ import annotations

import json
import secrets
from collections.abc import Callable
from datetime import UTC
from datetime import datetime
from datetime import timedelta
from typing import Any

from sqlalchemy import exists
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.ext.asyncio import async_sessionmaker
from temporalio import activity

from activities.base import FlowActivities
from activities.mail import Mail
from activities.mail import MailSender
from activities.mail import heartbeating
from activities.mail import mail_key
from activities.metrics import count
from core.metric_names import WEBHOOK_ATTEMPTS
from core.outbound import AddressRefused
from core.outbound import Answer
from core.outbound import CallFailed
from core.outbound import Outbound
from core.sealing import Sealer
from core.settings import Settings
from core.signing import signed_headers
from models.contracts.webhook_delivery import AttemptInput
from models.contracts.webhook_delivery import AttemptOutcome
from models.contracts.webhook_delivery import AttemptResult
from models.contracts.webhook_delivery import GiveUpInput
from models.contracts.webhook_delivery import GiveUpResult
from models.contracts.webhook_delivery import ReplayBatch
from models.contracts.webhook_delivery import ReplayBatchInput
from models.records.base import as_utc
from models.records.events import Event
from models.records.webhooks import SECRETS_PURPOSE
from models.records.webhooks import WebhookAttempt
from models.records.webhooks import WebhookDelivery
from models.records.webhooks import WebhookEndpoint

DISABLED_TEMPLATE = "webhook_endpoint_disabled"
HEARTBEAT_EVERY_SECONDS = 3.0  # the attempt's heartbeat timeout is 10 s


def event_body(event: Event) -> bytes:
    """The bytes every delivery of an event sends (and signs)."""
    return json.dumps(event.body(), separators=(",", ":"), ensure_ascii=False).encode()


def count_attempt(outcome: AttemptOutcome) -> None:
    count(WEBHOOK_ATTEMPTS, "webhook delivery attempts, by outcome", {"outcome": outcome.value})


class WebhookActivities(FlowActivities):
    def __init__(
        self,
        settings: Settings,
        session_factory: async_sessionmaker[AsyncSession],
        mail: MailSender,
        outbound: Outbound,
    ) -> None:
        super().__init__(settings, session_factory, mail)
        self._outbound = outbound
        self._sealer = Sealer(settings.payload_keys, SECRETS_PURPOSE)

    def activities(self) -> list[Callable[..., Any]]:
        """What the worker registers: each bound activity method of this flow."""
        return [self.attempt, self.give_up, self.replay_batch]

    @activity.defn(name="webhooks.attempt")
    async def attempt(self, input: AttemptInput) -> AttemptResult:
        """POST the event, signed, to the endpoint; record the attempt. An endpoint disabled or
        deleted (or an event past its keeping) stops the delivery. A retry of this step (a
        worker lost mid-call) sends again, with the same `webhook-id`: at least once."""
        async with self._sessions() as session:
            endpoint = await session.get(WebhookEndpoint, input.endpoint_id)
            event = await session.scalar(select(Event).where(Event.id == input.event_id))
        if endpoint is None or event is None or endpoint.status != "active":
            await self._finish(input.endpoint_id, input.event_id, "cancelled", input.at)
            count_attempt(AttemptOutcome.STOPPED)
            return AttemptResult(AttemptOutcome.STOPPED)
        now = datetime.now(UTC)
        body = event_body(event)
        headers = signed_headers(event.id, now, body, endpoint.signing_secrets(self._sealer, now))
        answer: Answer | None = None
        try:
            async with heartbeating(every=HEARTBEAT_EVERY_SECONDS):
                answer = await self._outbound.post(endpoint.url, headers, body)
            error = None if answer.succeeded else f"answered {answer.status}"
        except AddressRefused as refused:
            error = f"address refused: {refused}"[:200]
        except CallFailed as failed:
            error = failed.reason
        outcome = (
            AttemptOutcome.DELIVERED
            if answer is not None and answer.succeeded
            else AttemptOutcome.GONE
            if answer is not None and answer.status == 410
            else AttemptOutcome.FAILED
        )
        retry_after = answer.retry_after_seconds if answer is not None else None
        await self._record(input, event, outcome, answer, error, retry_after)
        count_attempt(outcome)
        return AttemptResult(outcome, retry_after)

    async def _record(
        self,
        input: AttemptInput,
        event: Event,
        outcome: AttemptOutcome,
        answer: Answer | None,
        error: str | None,
        retry_after: float | None,
    ) -> None:
        at = as_utc(input.at)
        async with self._sessions.begin() as session:
            delivery = await self._delivery(session, input.endpoint_id, event, at)
            delivery.attempts += 1
            session.add(
                WebhookAttempt(
                    delivery_id=delivery.id,
                    number=delivery.attempts,
                    trigger=input.trigger.value,
                    at=at,
                    status_code=answer.status if answer else None,
                    latency_ms=answer.latency_ms if answer else 0,
                    excerpt=answer.excerpt if answer else "",
                    error=error,
                )
            )
            delivery.last_status_code = answer.status if answer else None
            if outcome == AttemptOutcome.DELIVERED:
                delivery.status, delivery.finished_at = "succeeded", at
                delivery.next_attempt_at = None
                return
            delivery.status, delivery.finished_at = "pending", None
            wait = input.next_wait_seconds
            if wait is not None and outcome == AttemptOutcome.FAILED:
                wait = max(wait, retry_after or 0)
                delivery.next_attempt_at = at + timedelta(seconds=wait)
            else:
                delivery.next_attempt_at = None

    async def _delivery(
        self, session: AsyncSession, endpoint_id: str, event: Event, at: datetime
    ) -> WebhookDelivery:
        """The delivery of this event to this endpoint, locked; made at its first attempt."""
        found = await session.scalar(
            select(WebhookDelivery)
            .where(WebhookDelivery.endpoint_id == endpoint_id, WebhookDelivery.event_id == event.id)
            .with_for_update()
        )
        if found is not None:
            return found
        delivery = WebhookDelivery(
            id=f"dlv_{secrets.token_hex(12)}",
            event_seq=event.seq,
            event_id=event.id,
            endpoint_id=endpoint_id,
            status="pending",
            attempts=0,
            created_at=at,
        )
        session.add(delivery)
        await session.flush()
        return delivery

    async def _finish(self, endpoint_id: str, event_id: str, status: str, at: datetime) -> None:
        async with self._sessions.begin() as session:
            delivery = await session.scalar(
                select(WebhookDelivery)
                .where(
                    WebhookDelivery.endpoint_id == endpoint_id,
                    WebhookDelivery.event_id == event_id,
                )
                .with_for_update()
            )
            if delivery is not None and delivery.status == "pending":
                delivery.status, delivery.finished_at = status, as_utc(at)
                delivery.next_attempt_at = None

    @activity.defn(name="webhooks.give_up")
    async def give_up(self, input: GiveUpInput) -> GiveUpResult:
        """The delivery failed. A 410 disables its endpoint; so does a schedule run out with no
        delivery to the endpoint succeeding since this one began (persistent failure). The
        vendor's operators are mailed when an endpoint is disabled."""
        at = as_utc(input.at)
        await self._finish(input.endpoint_id, input.event_id, "failed", at)
        async with self._sessions.begin() as session:
            endpoint = await session.get(WebhookEndpoint, input.endpoint_id, with_for_update=True)
            if endpoint is None or endpoint.status != "active":
                return GiveUpResult(endpoint_disabled=False)
            if not input.gone and await self._succeeded_since(session, input):
                return GiveUpResult(endpoint_disabled=False)
            endpoint.status = "disabled"
            endpoint.disabled_reason = "gone" if input.gone else "failing"
            endpoint.updated_at = at
            url, reason = endpoint.url, endpoint.disabled_reason
        await self._tell_operators(input.endpoint_id, url, reason)
        return GiveUpResult(endpoint_disabled=True)

    async def _succeeded_since(self, session: AsyncSession, input: GiveUpInput) -> bool:
        began = await session.scalar(
            select(WebhookDelivery.created_at).where(
                WebhookDelivery.endpoint_id == input.endpoint_id,
                WebhookDelivery.event_id == input.event_id,
            )
        )
        return bool(
            await session.scalar(
                select(
                    exists().where(
                        WebhookDelivery.endpoint_id == input.endpoint_id,
                        WebhookDelivery.status == "succeeded",
                        WebhookDelivery.finished_at >= (began or as_utc(input.at)),
                    )
                )
            )
        )

    async def _tell_operators(self, endpoint_id: str, url: str, reason: str) -> None:
        context = {
            "endpoint_id": endpoint_id,
            "url": url,
            "reason": reason,
            "brand_name": self._settings.brand_name,
        }
        for to in self._settings.operator_alert_emails:
            mail = Mail(DISABLED_TEMPLATE, to, self._settings.operator_locale, context)
            await self._mail.send(mail_key(f"endpoint-disabled/{to}"), mail)

    @activity.defn(name="webhooks.replay_batch")
    async def replay_batch(self, input: ReplayBatchInput) -> ReplayBatch:
        """The next events since `since` the endpoint wants (the types it wants now). Reads
        only."""
        async with self._sessions() as session:
            endpoint = await session.get(WebhookEndpoint, input.endpoint_id)
            if endpoint is None or endpoint.status != "active":
                return ReplayBatch([])
            query = (
                select(Event.seq, Event.id)
                .where(Event.seq > input.after_seq, Event.occurred_at >= as_utc(input.since))
                .order_by(Event.seq)
                .limit(input.limit)
            )
            if endpoint.event_types is not None:
                query = query.where(Event.type.in_(json.loads(endpoint.event_types)))
            rows = (await session.execute(query)).all()
        return ReplayBatch([(seq, event_id) for seq, event_id in rows])
