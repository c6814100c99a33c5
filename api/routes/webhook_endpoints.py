"""Webhook endpoints: where the vendor's systems want events, which ones, and the secret that
signs them (generated here, shown once, rotated with a grace period in which both sign).
docs/webhooks.md."""

from __future__ import annotations

import json
import secrets
from datetime import UTC
from datetime import datetime
from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter
from fastapi import Response
from pydantic import BaseModel
from pydantic import Field
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from api.deps import SessionDep
from api.deps import SettingsDep
from api.deps import WriteSessionDep
from api.deps import keyed
from api.errors import BAD_BODY
from api.errors import ApiError
from api.fields import Body
from api.fields import Count
from api.fields import EndpointId
from api.fields import OneLine
from core.outbound import AddressRefused
from core.outbound import OutboundPolicy
from core.sealing import Sealer
from core.settings import Settings
from core.signing import new_secret
from models.errors import WebhookError
from models.records.events import EVENT_TYPES
from models.records.events import EventCounter
from models.records.webhooks import SECRETS_PURPOSE
from models.records.webhooks import WebhookEndpoint

router = APIRouter(prefix="/v1/webhook-endpoints", tags=["webhooks"])

ONE = keyed(WebhookError.ENDPOINT_NOT_FOUND)
GRACE_DEFAULT_SECONDS = 24 * 3600
GRACE_LONGEST_SECONDS = 7 * 24 * 3600

Url = Annotated[
    str, Field(min_length=8, max_length=2000, examples=["https://crm.example.com/hooks"])
]
EventTypes = Annotated[
    list[str] | None,
    Field(
        min_length=1,
        description="The event types it wants (GET /v1/event-types); null: every type, "
        "those added later too",
    ),
]


class EndpointIn(Body):
    url: Url
    event_types: EventTypes = None
    description: Annotated[OneLine, Field(max_length=300)] = ""


class EndpointChange(Body):
    """What to change; a field left out stays as it is."""

    url: Url | None = None
    event_types: EventTypes = None
    description: Annotated[OneLine | None, Field(max_length=300)] = None
    enabled: bool | None = None


class RotationIn(Body):
    grace_seconds: Annotated[Count, Field(ge=0, le=GRACE_LONGEST_SECONDS)] = GRACE_DEFAULT_SECONDS


class EndpointPublic(BaseModel):
    id: str
    url: str
    description: str
    event_types: list[str] | None
    enabled: bool
    disabled_reason: str | None  # manual | gone (it answered 410) | failing (for days)
    # While a rotation's grace lasts, the previous secret signs too, until then.
    previous_secret_expires_at: datetime | None
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, row: WebhookEndpoint) -> EndpointPublic:
        now = datetime.now(UTC)
        grace = row.previous_secret_expires_at
        return cls(
            id=row.id,
            url=row.url,
            description=row.description,
            event_types=json.loads(row.event_types) if row.event_types is not None else None,
            enabled=row.status == "active",
            disabled_reason=row.disabled_reason,
            previous_secret_expires_at=grace if grace is not None and grace > now else None,
            created_at=row.created_at,
            updated_at=row.updated_at,
        )


class EndpointWithSecret(EndpointPublic):
    secret: str = Field(description="`whsec_…`: shown this once; it verifies every delivery")


class EndpointList(BaseModel):
    data: list[EndpointPublic]


def _sealer(settings: Settings) -> Sealer:
    """Secrets are kept sealed (core/sealing.py): the database alone cannot sign."""
    return Sealer(settings.payload_keys, SECRETS_PURPOSE)


async def _checked(settings: Settings, url: str) -> str:
    """The URL, if this service may call it (core/outbound.py), now: its address is checked
    again at every delivery."""
    try:
        await OutboundPolicy(development=settings.is_development).check(url)
    except AddressRefused as refused:
        message = f"{WebhookError.URL_REFUSED.message}: {refused}"
        raise ApiError(WebhookError.URL_REFUSED, message) from None
    return url


def _types(event_types: list[str] | None) -> str | None:
    if event_types is None:
        return None
    unknown = sorted(set(event_types) - set(EVENT_TYPES))
    if unknown:
        raise ApiError(WebhookError.UNKNOWN_EVENT_TYPE, f"not event types: {', '.join(unknown)}")
    return json.dumps(sorted(set(event_types)))


async def _endpoint(
    session: AsyncSession, endpoint_id: str, *, lock: bool = False
) -> WebhookEndpoint:
    endpoint = await session.get(WebhookEndpoint, endpoint_id, with_for_update=lock)
    if endpoint is None:
        raise ApiError(WebhookError.ENDPOINT_NOT_FOUND)
    return endpoint


URL_ERRORS = (*BAD_BODY, WebhookError.URL_REFUSED, WebhookError.UNKNOWN_EVENT_TYPE)


@router.post("", status_code=201, **keyed(*URL_ERRORS))
async def create_endpoint(
    body: EndpointIn, session: WriteSessionDep, settings: SettingsDep
) -> EndpointWithSecret:
    """Register an endpoint. It is sent the events recorded from now on; its secret is in this
    answer only."""
    url = await _checked(settings, body.url)
    now = datetime.now(UTC)
    endpoint_id = f"ep_{secrets.token_hex(12)}"
    secret = new_secret()
    counter = await session.get(EventCounter, 1)
    endpoint = WebhookEndpoint(
        id=endpoint_id,
        url=url,
        description=body.description,
        event_types=_types(body.event_types),
        status="active",
        after_event_seq=counter.last if counter else 0,
        secret=_sealer(settings).seal(secret.encode(), endpoint_id),
        created_at=now,
        updated_at=now,
    )
    session.add(endpoint)
    await session.commit()
    return EndpointWithSecret(**EndpointPublic.of(endpoint).model_dump(), secret=secret)


@router.get("", **keyed())
async def list_endpoints(session: SessionDep) -> EndpointList:
    rows = await session.scalars(select(WebhookEndpoint).order_by(WebhookEndpoint.created_at))
    return EndpointList(data=[EndpointPublic.of(row) for row in rows])


@router.get("/{endpoint_id}", **ONE)
async def get_endpoint(endpoint_id: EndpointId, session: SessionDep) -> EndpointPublic:
    return EndpointPublic.of(await _endpoint(session, endpoint_id))


@router.patch("/{endpoint_id}", **keyed(WebhookError.ENDPOINT_NOT_FOUND, *URL_ERRORS))
async def change_endpoint(
    endpoint_id: EndpointId, body: EndpointChange, session: WriteSessionDep, settings: SettingsDep
) -> EndpointPublic:
    """Change its URL, its event types, its description; disable or enable it (`enabled`).
    Enabled again, it is sent the events recorded from then on (a replay sends the others)."""
    endpoint = await _endpoint(session, endpoint_id, lock=True)
    if body.url is not None:
        endpoint.url = await _checked(settings, body.url)
    if "event_types" in body.model_fields_set:
        endpoint.event_types = _types(body.event_types)
    if body.description is not None:
        endpoint.description = body.description
    if body.enabled is not None and body.enabled != (endpoint.status == "active"):
        if body.enabled:
            counter = await session.get(EventCounter, 1)
            endpoint.after_event_seq = counter.last if counter else 0
        endpoint.status = "active" if body.enabled else "disabled"
        endpoint.disabled_reason = None if body.enabled else "manual"
    endpoint.updated_at = datetime.now(UTC)
    await session.commit()
    return EndpointPublic.of(endpoint)


@router.delete("/{endpoint_id}", status_code=204, **ONE)
async def delete_endpoint(endpoint_id: EndpointId, session: WriteSessionDep) -> Response:
    """Delete it with its delivery log; deliveries on their way stop at their next attempt."""
    await session.delete(await _endpoint(session, endpoint_id, lock=True))
    await session.commit()
    return Response(status_code=204)


@router.post("/{endpoint_id}/rotate-secret", **keyed(WebhookError.ENDPOINT_NOT_FOUND, *BAD_BODY))
async def rotate_secret(
    endpoint_id: EndpointId, body: RotationIn, session: WriteSessionDep, settings: SettingsDep
) -> EndpointWithSecret:
    """A new secret, in this answer only. For `grace_seconds` (a day by default) deliveries
    carry a signature of each, so receivers can move to the new one without losing any."""
    endpoint = await _endpoint(session, endpoint_id, lock=True)
    now = datetime.now(UTC)
    secret = new_secret()
    endpoint.previous_secret = endpoint.secret
    endpoint.previous_secret_expires_at = now + timedelta(seconds=body.grace_seconds)
    endpoint.secret = _sealer(settings).seal(secret.encode(), endpoint.id)
    endpoint.updated_at = now
    await session.commit()
    return EndpointWithSecret(**EndpointPublic.of(endpoint).model_dump(), secret=secret)
