"""The event feed, for systems that would rather pull than be called: every event in the order
its change committed, paged by cursor (docs/webhooks.md); and the catalog of event types."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Annotated
from typing import Any

from fastapi import APIRouter
from fastapi import Query
from pydantic import BaseModel
from sqlalchemy import select

from api.deps import SessionDep
from api.deps import keyed
from api.errors import ApiError
from api.fields import EventId
from models.errors import WebhookError
from models.records.events import EVENT_TYPES
from models.records.events import Event

router = APIRouter(tags=["events"])

PAGE_LONGEST = 500


class EventPublic(BaseModel):
    """The event as every delivery's body carries it."""

    id: str
    type: str
    timestamp: datetime
    business_id: str | None
    data: dict[str, Any]


class EventPage(BaseModel):
    data: list[EventPublic]
    # Pass as `after` for the next page (also when this one is empty: new events come after
    # it). Events appear in commit order, so nothing lands behind a cursor already passed.
    next_cursor: str
    has_more: bool


class EventType(BaseModel):
    type: str
    description: str


class EventTypeList(BaseModel):
    data: list[EventType]


def _public(event: Event) -> EventPublic:
    return EventPublic(
        id=event.id,
        type=event.type,
        timestamp=event.occurred_at,
        business_id=event.business_id,
        data=json.loads(event.data),
    )


@router.get("/v1/events", **keyed(WebhookError.INVALID_CURSOR, WebhookError.UNKNOWN_EVENT_TYPE))
async def list_events(
    session: SessionDep,
    after: Annotated[
        str | None, Query(description="the `next_cursor` of the page before; none: the oldest")
    ] = None,
    type: Annotated[list[str] | None, Query(description="only these types")] = None,
    business_id: Annotated[str | None, Query(max_length=64)] = None,
    limit: Annotated[int, Query(ge=1, le=PAGE_LONGEST)] = 100,
) -> EventPage:
    """Events after the cursor, oldest first (those kept: `event_retention_days`)."""
    if after is not None and not (after.isdigit() and len(after) <= 19):
        raise ApiError(WebhookError.INVALID_CURSOR)
    unknown = sorted(set(type or ()) - set(EVENT_TYPES))
    if unknown:
        raise ApiError(WebhookError.UNKNOWN_EVENT_TYPE, f"not event types: {', '.join(unknown)}")
    cursor = int(after) if after is not None else 0
    query = select(Event).where(Event.seq > cursor).order_by(Event.seq).limit(limit + 1)
    if type:
        query = query.where(Event.type.in_(type))
    if business_id is not None:
        query = query.where(Event.business_id == business_id)
    rows = list(await session.scalars(query))
    page = rows[:limit]
    return EventPage(
        data=[_public(event) for event in page],
        next_cursor=str(page[-1].seq if page else cursor),
        has_more=len(rows) > limit,
    )


@router.get("/v1/events/{event_id}", **keyed(WebhookError.EVENT_NOT_FOUND))
async def get_event(event_id: EventId, session: SessionDep) -> EventPublic:
    event = await session.scalar(select(Event).where(Event.id == event_id))
    if event is None:
        raise ApiError(WebhookError.EVENT_NOT_FOUND)
    return _public(event)


@router.get("/v1/event-types", **keyed())
async def list_event_types() -> EventTypeList:
    """Every event type, and what it tells."""
    return EventTypeList(
        data=[EventType(type=name, description=text) for name, text in EVENT_TYPES.items()]
    )
