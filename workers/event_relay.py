"""The event relay: runs beside each worker and starts a delivery workflow for each new event and
each endpoint that wants it, in event order, then moves its cursor past them (docs/webhooks.md).

It wakes as soon as a transaction of this process recorded an event, and looks every
`event_relay_poll_seconds` anyway (events another worker recorded, a start that failed while
the Temporal server was away). Several relays may run at once: a delivery's workflow ID is its
event's and endpoint's, so a second start of it is refused and nothing is delivered twice; the
cursor only moves forward. It also forgets events older than `event_retention_days` (with their
deliveries), once an hour.
"""

from __future__ import annotations

import asyncio
import logging
import time
from datetime import UTC
from datetime import datetime
from datetime import timedelta

from sqlalchemy import delete
from sqlalchemy import select
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.ext.asyncio import async_sessionmaker
from temporalio.client import Client

from core.settings import Settings
from models.contracts.webhook_delivery import DeliveryStart
from models.contracts.webhook_delivery import start_delivery
from models.records.events import Event
from models.records.events import on_recorded
from models.records.webhooks import EventRelayCursor
from models.records.webhooks import WebhookEndpoint

log = logging.getLogger(__name__)

BATCH = 200  # events read at a time
PURGE_EVERY_SECONDS = 3600.0


class EventRelay:
    def __init__(
        self,
        client: Client,
        sessions: async_sessionmaker[AsyncSession],
        settings: Settings,
        *,
        task_queue: str | None = None,
    ) -> None:
        self._client = client
        self._sessions = sessions
        self._settings = settings
        self._task_queue = task_queue or settings.temporal_task_queue
        self._wake = asyncio.Event()
        self._purged_at = 0.0

    async def run(self) -> None:
        """Relay until cancelled."""
        stop_listening = on_recorded(self._wake.set)
        try:
            while True:
                try:
                    while await self.relay_once() == BATCH:
                        pass
                    await self._purge_now_and_then()
                except Exception:  # Temporal or the database away: look again later
                    log.warning("the event relay will try again", exc_info=True)
                try:
                    await asyncio.wait_for(
                        self._wake.wait(), timeout=self._settings.event_relay_poll_seconds
                    )
                except TimeoutError:
                    pass
                self._wake.clear()
        finally:
            stop_listening()

    async def relay_once(self) -> int:
        """Start the deliveries of the next events; how many events were read."""
        async with self._sessions() as session:
            cursor = await session.scalar(
                select(EventRelayCursor.seq).where(EventRelayCursor.id == 1)
            )
            events = list(
                await session.scalars(
                    select(Event).where(Event.seq > (cursor or 0)).order_by(Event.seq).limit(BATCH)
                )
            )
            if not events:
                return 0
            endpoints = list(
                await session.scalars(
                    select(WebhookEndpoint).where(WebhookEndpoint.status == "active")
                )
            )
        for event in events:
            await asyncio.gather(
                *(
                    start_delivery(
                        self._client,
                        DeliveryStart(endpoint.id, event.id),
                        task_queue=self._task_queue,
                        event_type=event.type,
                        business_id=event.business_id,
                    )
                    for endpoint in endpoints
                    if event.seq > endpoint.after_event_seq and endpoint.wants(event.type)
                )
            )
        last = events[-1].seq
        async with self._sessions.begin() as session:
            await session.execute(
                update(EventRelayCursor)
                .where(EventRelayCursor.id == 1, EventRelayCursor.seq < last)
                .values(seq=last)
            )
        return len(events)

    async def _purge_now_and_then(self) -> None:
        if time.monotonic() - self._purged_at < PURGE_EVERY_SECONDS:
            return
        self._purged_at = time.monotonic()
        keep = timedelta(days=self._settings.event_retention_days)
        async with self._sessions.begin() as session:
            cursor = await session.scalar(
                select(EventRelayCursor.seq).where(EventRelayCursor.id == 1)
            )
            # Never an event not relayed yet, however old.
            await session.execute(
                delete(Event).where(
                    Event.occurred_at < datetime.now(UTC) - keep, Event.seq <= (cursor or 0)
                )
            )
