"""Webhook delivery with the worker as a real process, killed (-9): mid-delivery, while the
receiver holds the request, and while events are recorded. Nothing is lost; what is sent again
carries the same `webhook-id` (Standard Webhooks' at-least-once)."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.ext.asyncio import async_sessionmaker

from api.app import create_app
from core.settings import Settings
from models.records.events import record_event
from tests.support.api import AUTH
from tests.support.process_stack import Stack
from tests.support.process_stack import running_stack
from tests.support.receiver import Receiver
from tests.support.receiver import Reply
from tests.webhooks.conftest import subscribe

pytestmark = [pytest.mark.asyncio, pytest.mark.slow]
Sessions = async_sessionmaker[AsyncSession]


@pytest.fixture
async def stack(tmp_path: Path, settings: Settings) -> AsyncIterator[Stack]:
    async with running_stack(tmp_path, settings) as running:
        yield running


@pytest.fixture
async def api(stack: Stack, settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
            yield http


async def an_event(sessions: Sessions) -> str:
    async with sessions.begin() as session:
        key = f"order.created:{uuid.uuid4()}"
        await record_event(session, "order.created", key, None, {"order_id": key})
    return key


async def delivered_log(api: httpx.AsyncClient, endpoint: dict[str, Any], count: int) -> list[Any]:
    """The endpoint's `count` deliveries, once each has succeeded (a delivery is logged from its
    first answer on)."""
    for _ in range(600):
        answer = await api.get(f"/v1/webhook-endpoints/{endpoint['id']}/deliveries", headers=AUTH)
        deliveries = answer.json()["data"]
        if len(deliveries) == count and all(d["status"] == "succeeded" for d in deliveries):
            return list(deliveries)
        await asyncio.sleep(0.1)
    raise AssertionError(f"still pending: {deliveries}")


async def test_a_worker_killed_mid_delivery_loses_nothing(
    stack: Stack, api: httpx.AsyncClient, receiver: Receiver, app_sessions: Sessions
) -> None:
    answers = iter([Reply(hang=True)])
    receiver.answer = lambda _: next(answers, Reply(200))
    endpoint = await subscribe(api, receiver.url)
    await an_event(app_sessions)
    (held,) = await receiver.wait_for(1, timeout=30)  # the receiver holds the request
    stack.kill_worker()
    await an_event(app_sessions)  # recorded while no worker runs
    await stack.start_worker()

    # The attempt the kill cut off runs again once its heartbeat is missed (10 s), and the
    # event recorded meanwhile is relayed by the new worker.
    deliveries = await delivered_log(api, endpoint, 2)
    ids = [request.headers["webhook-id"] for request in receiver.requests]
    assert ids.count(held.headers["webhook-id"]) == 2  # sent again, as the same message
    assert len(ids) == 3 and set(ids) == {d["event_id"] for d in deliveries}
    for request in receiver.requests:
        request.verified(endpoint["secret"])
