"""Webhook delivery attempts are counted by outcome in the worker's metrics (read here from an
in-memory buffer, Prometheus in a deployment): one event to three endpoints, one that takes it,
one that fails (500: the schedule goes on) and one that is gone (410)."""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections import Counter

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.ext.asyncio import async_sessionmaker
from temporalio.testing import WorkflowEnvironment

from api.app import create_app
from core.metric_names import WEBHOOK_ATTEMPTS
from core.settings import Settings
from tests.support.metrics import metered_client
from tests.support.metrics import updates_of
from tests.support.receiver import Receiver
from tests.support.receiver import Reply
from tests.support.temporal import end_started_flows
from tests.webhooks.conftest import subscribe
from tests.webhooks.test_delivery import an_event
from workers.event_relay import EventRelay
from workers.worker import build_worker

pytestmark = pytest.mark.asyncio
ANSWERS = {"ok": Reply(204, body=b""), "fails": Reply(500), "gone": Reply(410)}  # by last segment


async def test_each_attempt_is_counted_by_its_outcome(
    dev_env: WorkflowEnvironment,
    settings: Settings,
    app_sessions: async_sessionmaker[AsyncSession],
    receiver: Receiver,
) -> None:
    receiver.answer = lambda request: ANSWERS[request.path.rsplit("/", 1)[-1]]
    client, buffer = await metered_client(dev_env, settings)
    settings.temporal_task_queue = f"webhook-metrics-{uuid.uuid4().hex[:8]}"
    app = create_app(settings, temporal=client)
    relay = EventRelay(client, app_sessions, settings)
    outcomes: Counter[str] = Counter()
    async with build_worker(client, settings, app_sessions), app.router.lifespan_context(app):
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://api"
        ) as api:
            for path in ANSWERS:
                await subscribe(api, f"{receiver.url}/{path}")
        relaying = asyncio.create_task(relay.run())
        try:
            await an_event(app_sessions)
            await receiver.wait_for(3)
            attempts = await updates_of(buffer, WEBHOOK_ATTEMPTS, until=3)
            outcomes.update(str(attempt["outcome"]) for attempt in attempts)
        finally:
            relaying.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await relaying
            await end_started_flows(dev_env)
    assert (outcomes["delivered"], outcomes["gone"]) == (1, 1)
    # The failing endpoint's next attempt is due 5 s later: a slow run may count it too.
    assert outcomes["failed"] >= 1
    assert set(outcomes) == {"delivered", "failed", "gone"}
