"""Webhook tests: the real worker and the event relay on the time-skipping server, the API
in-process, and a real HTTP receiver on loopback. The service runs in development here, the one
environment that may call loopback (production's refusal of it has its own tests)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.ext.asyncio import async_sessionmaker
from temporalio.client import Client

from core.settings import Settings
from tests.support.api import AUTH
from tests.support.receiver import Receiver
from workers.event_relay import EventRelay


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.model_copy(
        update={
            "environment": "development",
            "event_relay_poll_seconds": 0.1,
            "webhook_timeout_seconds": 2.0,  # a slow receiver's test waits that long
        }
    )


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    running = await Receiver().start()
    yield running
    await running.stop()


@pytest.fixture
async def relay(
    time_client: Client, settings: Settings, app_sessions: async_sessionmaker[AsyncSession]
) -> AsyncIterator[EventRelay]:
    """The event relay, as the worker process runs it."""
    running = EventRelay(time_client, app_sessions, settings)
    task = asyncio.create_task(running.run())
    yield running
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task


async def subscribe(
    api: httpx.AsyncClient, url: str, event_types: list[str] | None = None, **fields: Any
) -> dict[str, Any]:
    """Register an endpoint through the API; its answer (with the secret)."""
    body = {"url": url, "event_types": event_types, **fields}
    answer = await api.post("/v1/webhook-endpoints", json=body, headers=AUTH)
    assert answer.status_code == 201, answer.text
    endpoint: dict[str, Any] = answer.json()
    return endpoint
