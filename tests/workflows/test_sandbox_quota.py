"""The daily sandbox reset's Temporal Schedule, on the dev server (the time-skipping server has
no schedules): the worker creates it once however often it starts; it runs the reset at 00:00
UTC; a triggered run resets the usage of earlier days."""

from __future__ import annotations

import asyncio
from datetime import UTC
from datetime import datetime
from datetime import timedelta

import pytest
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.ext.asyncio import async_sessionmaker
from temporalio.client import Client
from temporalio.client import ScheduleActionStartWorkflow

from core.settings import Settings
from models.contracts.credits import RESET_SCHEDULE_ID
from models.records.domain import SandboxUsage
from tests.support.activations import existing_business
from workers.schedules import ensure_reset_schedule

pytestmark = pytest.mark.asyncio


async def test_the_worker_creates_the_daily_reset_schedule_once_and_it_resets_usage(
    dev_client: Client, settings: Settings, app_sessions: async_sessionmaker[AsyncSession]
) -> None:
    business_id, _, _ = await existing_business(app_sessions, 0)
    yesterday = datetime.now(UTC).date() - timedelta(days=1)
    async with app_sessions.begin() as session:
        session.add(SandboxUsage(business_id=business_id, period=yesterday, used=7))
    for _ in range(2):  # two workers starting
        await ensure_reset_schedule(dev_client, settings.temporal_task_queue)
    handle = dev_client.get_schedule_handle(RESET_SCHEDULE_ID)
    try:
        described = await handle.describe()
        upcoming = described.info.next_action_times[0].astimezone(UTC)
        assert (upcoming.hour, upcoming.minute, upcoming.second) == (0, 0, 0)  # 00:00 UTC
        action = described.schedule.action
        assert isinstance(action, ScheduleActionStartWorkflow)
        assert action.workflow == "SandboxQuotaResetWorkflow"
        await handle.trigger()  # what midnight does
        for _ in range(100):
            async with app_sessions() as session:
                usage = await session.get(SandboxUsage, business_id)
                if usage is not None and usage.used == 0:
                    break
            await asyncio.sleep(0.1)
        assert usage is not None and (usage.used, usage.period) == (0, datetime.now(UTC).date())
        runs = [run async for run in dev_client.list_workflows(
            f'TaskQueue="{settings.temporal_task_queue}"')]  # fmt: skip
        assert len(runs) == 1  # one schedule, one run
    finally:
        await handle.delete()
        async with app_sessions.begin() as session:
            await session.execute(update(SandboxUsage).values(used=0))
