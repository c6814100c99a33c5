"""An endpoint's delivery log (each event's delivery and its attempts), a manual retry of one
delivery, and a replay of everything since a time. docs/webhooks.md."""

from __future__ import annotations

import secrets
from datetime import datetime
from typing import Annotated
from typing import Literal

from fastapi import APIRouter
from fastapi import Query
from pydantic import AwareDatetime
from pydantic import BaseModel
from sqlalchemy import select

from api.deps import SessionDep
from api.deps import SettingsDep
from api.deps import TemporalDep
from api.deps import keyed
from api.errors import BAD_BODY
from api.errors import ApiError
from api.fields import Body
from api.fields import EndpointId
from api.fields import EventId
from models.contracts.webhook_delivery import DeliveryStart
from models.contracts.webhook_delivery import Trigger
from models.contracts.webhook_delivery import start_delivery
from models.contracts.webhook_delivery import start_replay
from models.errors import WebhookError
from models.records.events import Event
from models.records.webhooks import WebhookAttempt
from models.records.webhooks import WebhookDelivery
from models.records.webhooks import WebhookEndpoint

router = APIRouter(prefix="/v1/webhook-endpoints", tags=["webhooks"])

PAGE_LONGEST = 100


class AttemptPublic(BaseModel):
    number: int
    trigger: str  # event | retry | replay
    at: datetime
    status_code: int | None  # None: no answer (see `error`)
    latency_ms: int
    excerpt: str  # the answer's first kilobyte
    error: str | None


class DeliveryPublic(BaseModel):
    event_id: str
    event_type: str
    status: str  # pending | succeeded | failed | cancelled
    attempts: int
    last_status_code: int | None
    next_attempt_at: datetime | None
    created_at: datetime
    finished_at: datetime | None


class DeliveryDetail(DeliveryPublic):
    history: list[AttemptPublic]


class DeliveryPage(BaseModel):
    data: list[DeliveryPublic]
    # Pass as `before` for the next (older) page; None: this was the last.
    next_cursor: str | None


class ReplayIn(Body):
    since: AwareDatetime


class ReplayStarted(BaseModel):
    replay_id: str
    since: datetime


def _public(delivery: WebhookDelivery, event_type: str) -> DeliveryPublic:
    return DeliveryPublic(
        event_id=delivery.event_id,
        event_type=event_type,
        status=delivery.status,
        attempts=delivery.attempts,
        last_status_code=delivery.last_status_code,
        next_attempt_at=delivery.next_attempt_at,
        created_at=delivery.created_at,
        finished_at=delivery.finished_at,
    )


async def _active(session: SessionDep, endpoint_id: str) -> WebhookEndpoint:
    endpoint = await session.get(WebhookEndpoint, endpoint_id)
    if endpoint is None:
        raise ApiError(WebhookError.ENDPOINT_NOT_FOUND)
    if endpoint.status != "active":
        raise ApiError(WebhookError.ENDPOINT_DISABLED)
    return endpoint


@router.get("/{endpoint_id}/deliveries", **keyed(WebhookError.ENDPOINT_NOT_FOUND))
async def list_deliveries(
    endpoint_id: EndpointId,
    session: SessionDep,
    status: Literal["pending", "succeeded", "failed", "cancelled"] | None = None,
    before: Annotated[str | None, Query(pattern=r"^[0-9]{1,19}$")] = None,
    limit: Annotated[int, Query(ge=1, le=PAGE_LONGEST)] = 50,
) -> DeliveryPage:
    """The endpoint's deliveries, newest event first."""
    if await session.get(WebhookEndpoint, endpoint_id) is None:
        raise ApiError(WebhookError.ENDPOINT_NOT_FOUND)
    query = (
        select(WebhookDelivery, Event.type)
        .join(Event, Event.id == WebhookDelivery.event_id)
        .where(WebhookDelivery.endpoint_id == endpoint_id)
        .order_by(WebhookDelivery.event_seq.desc())
        .limit(limit + 1)
    )
    if status is not None:
        query = query.where(WebhookDelivery.status == status)
    if before is not None:
        query = query.where(WebhookDelivery.event_seq < int(before))
    rows = (await session.execute(query)).all()
    page = rows[:limit]
    more = len(rows) > limit
    return DeliveryPage(
        data=[_public(delivery, event_type) for delivery, event_type in page],
        next_cursor=str(page[-1][0].event_seq) if more else None,
    )


DELIVERY = keyed(WebhookError.ENDPOINT_NOT_FOUND, WebhookError.DELIVERY_NOT_FOUND)


@router.get("/{endpoint_id}/deliveries/{event_id}", **DELIVERY)
async def get_delivery(
    endpoint_id: EndpointId, event_id: EventId, session: SessionDep
) -> DeliveryDetail:
    """One event's delivery to the endpoint, with every attempt."""
    found = (
        await session.execute(
            select(WebhookDelivery, Event.type)
            .join(Event, Event.id == WebhookDelivery.event_id)
            .where(WebhookDelivery.endpoint_id == endpoint_id, WebhookDelivery.event_id == event_id)
        )
    ).first()
    if found is None:
        if await session.get(WebhookEndpoint, endpoint_id) is None:
            raise ApiError(WebhookError.ENDPOINT_NOT_FOUND)
        raise ApiError(WebhookError.DELIVERY_NOT_FOUND)
    delivery, event_type = found
    attempts = await session.scalars(
        select(WebhookAttempt)
        .where(WebhookAttempt.delivery_id == delivery.id)
        .order_by(WebhookAttempt.number)
    )
    history = [AttemptPublic.model_validate(row, from_attributes=True) for row in attempts]
    return DeliveryDetail(**_public(delivery, event_type).model_dump(), history=history)


@router.post(
    "/{endpoint_id}/deliveries/{event_id}/retry",
    status_code=202,
    **keyed(
        WebhookError.ENDPOINT_NOT_FOUND,
        WebhookError.DELIVERY_NOT_FOUND,
        WebhookError.ENDPOINT_DISABLED,
    ),
)
async def retry_delivery(
    endpoint_id: EndpointId,
    event_id: EventId,
    session: SessionDep,
    temporal: TemporalDep,
    settings: SettingsDep,
) -> DeliveryPublic:
    """One more attempt, now: a delivery still waiting for its next attempt makes it at once;
    one that ended (failed, or delivered) makes one more. Follow it in the log."""
    await _active(session, endpoint_id)
    found = (
        await session.execute(
            select(WebhookDelivery, Event.type, Event.business_id)
            .join(Event, Event.id == WebhookDelivery.event_id)
            .where(WebhookDelivery.endpoint_id == endpoint_id, WebhookDelivery.event_id == event_id)
        )
    ).first()
    if found is None:
        raise ApiError(WebhookError.DELIVERY_NOT_FOUND)
    delivery, event_type, business_id = found
    await start_delivery(
        temporal,
        DeliveryStart(endpoint_id, event_id, Trigger.RETRY),
        task_queue=settings.temporal_task_queue,
        event_type=event_type,
        business_id=business_id,
    )
    return _public(delivery, event_type)


@router.post(
    "/{endpoint_id}/replay",
    status_code=202,
    **keyed(WebhookError.ENDPOINT_NOT_FOUND, WebhookError.ENDPOINT_DISABLED, *BAD_BODY),
)
async def replay(
    endpoint_id: EndpointId,
    body: ReplayIn,
    session: SessionDep,
    temporal: TemporalDep,
    settings: SettingsDep,
) -> ReplayStarted:
    """Deliver again every event since `since` that the endpoint wants (as it wants them now),
    oldest first, each on the whole schedule; an event whose delivery is still on its way is
    left to it. Events are kept `event_retention_days` (30 by default)."""
    await _active(session, endpoint_id)
    replay_id = f"{endpoint_id}-{secrets.token_hex(6)}"
    await start_replay(
        temporal, replay_id, endpoint_id, body.since, task_queue=settings.temporal_task_queue
    )
    return ReplayStarted(replay_id=replay_id, since=body.since)
