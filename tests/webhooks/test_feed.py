"""The event feed (`GET /v1/events`) on both stores: a reader paging while many transactions
record events and commit in another order than they began sees every event once, in order, and
never finds one behind its cursor; filters by type and Business; cursors it did not give are
refused."""

from __future__ import annotations

import asyncio
import random
import uuid
from collections.abc import AsyncIterator

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.ext.asyncio import async_sessionmaker

from api.app import create_app
from core.settings import Settings
from models.records.events import EVENT_TYPES
from models.records.events import Event
from models.records.events import record_event
from tests.support.api import AUTH

pytestmark = pytest.mark.asyncio
WRITERS = 40


@pytest.fixture
async def feed(settings: Settings, database_url: str) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(settings.model_copy(update={"database_url": database_url}), temporal=None)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
            yield http


async def write(sessions: async_sessionmaker[AsyncSession], number: int) -> str:
    """One transaction: some work, the event, more time before the commit (another order)."""
    key = f"order.created:{uuid.uuid4()}"
    async with sessions.begin() as session:
        await asyncio.sleep(random.uniform(0, 0.02))
        await record_event(session, "order.created", key, f"b-{number % 3}", {"n": number})
        await asyncio.sleep(random.uniform(0, 0.02))
    return key


async def test_a_reader_paging_during_concurrent_writes_sees_each_event_once_in_order(
    feed: httpx.AsyncClient, sessions: async_sessionmaker[AsyncSession]
) -> None:
    seen: list[dict[str, object]] = []
    writers = asyncio.gather(*(write(sessions, n) for n in range(WRITERS)))

    async def read_until_done() -> None:
        cursor = "0"
        while True:
            page = (await feed.get(f"/v1/events?after={cursor}&limit=7", headers=AUTH)).json()
            seen.extend(page["data"])
            cursor = page["next_cursor"]
            if writers.done() and not page["has_more"] and not page["data"]:
                return
            await asyncio.sleep(0.005)

    await asyncio.gather(writers, read_until_done())
    async with sessions() as session:
        recorded = list(await session.scalars(select(Event.id).order_by(Event.seq)))
    assert len(recorded) == WRITERS
    assert [event["id"] for event in seen] == recorded  # none missed, none twice, in order


async def test_filters_and_cursors(
    feed: httpx.AsyncClient, sessions: async_sessionmaker[AsyncSession]
) -> None:
    for number in range(6):
        await write(sessions, number)
    async with sessions.begin() as session:
        await record_event(session, "license.expired", "license.expired:x", "b-0", {})
    everything = (await feed.get("/v1/events", headers=AUTH)).json()
    assert len(everything["data"]) == 7 and everything["has_more"] is False
    of_b0 = (await feed.get("/v1/events?business_id=b-0", headers=AUTH)).json()["data"]
    assert [e["business_id"] for e in of_b0] == ["b-0"] * 3
    expired = (await feed.get("/v1/events?type=license.expired", headers=AUTH)).json()["data"]
    assert [e["type"] for e in expired] == ["license.expired"]
    both = await feed.get("/v1/events?type=license.expired&type=order.created", headers=AUTH)
    assert len(both.json()["data"]) == 7
    last = everything["next_cursor"]
    empty = (await feed.get(f"/v1/events?after={last}", headers=AUTH)).json()
    assert empty == {"data": [], "next_cursor": last, "has_more": False}
    one = (await feed.get(f"/v1/events/{expired[0]['id']}", headers=AUTH)).json()
    assert one == expired[0]

    for query, code in (
        ("after=abc", "invalid_cursor"),
        ("after=-1", "invalid_cursor"),
        ("type=order.shipped", "unknown_event_type"),
        ("limit=0", "invalid_request"),
        ("limit=501", "invalid_request"),
    ):
        answer = await feed.get(f"/v1/events?{query}", headers=AUTH)
        assert answer.status_code == 422 and answer.json()["code"] == code, query
    missing = await feed.get("/v1/events/evt_000000000000000000000000", headers=AUTH)
    assert missing.status_code == 404 and missing.json()["code"] == "event_not_found"
    assert (await feed.get("/v1/events")).status_code == 401
    types = (await feed.get("/v1/event-types", headers=AUTH)).json()["data"]
    assert [entry["type"] for entry in types] == list(EVENT_TYPES)
