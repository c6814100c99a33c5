"""What the flows share when a mail cannot go out (workflows/kit.py): the flow goes on, and an
operator finds it by the `ActivationProblem` search attribute and its current details."""

from __future__ import annotations

import asyncio
import dataclasses
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.client import Client, WorkflowHandle

from core.settings import Settings
from models.domain import ActivationCode
from models.license_activation import ActivationStatus, flow_id_of
from tests.conftest import STARTED_FLOWS, MailSink
from tests.workflows.activation_helpers import SERVICE, activation_input
from tests.workflows.helpers import keep_history
from workflows.license_activation import LicenseActivationWorkflow, start
from workflows.search_attributes import ACTIVATION_PROBLEM

pytestmark = pytest.mark.asyncio


async def problem_of(handle: WorkflowHandle[Any, Any]) -> str | None:
    for _ in range(200):
        found = (await handle.describe()).typed_search_attributes.get(ACTIVATION_PROBLEM)
        if found:
            return found
        await asyncio.sleep(0.02)
    return None


async def test_a_mail_that_cannot_be_built_fails_at_once_and_marks_the_flow(
    time_client: Client,
    settings: Settings,
    smtp: MailSink,
    app_sessions: async_sessionmaker[AsyncSession],
) -> None:
    # A line break in a header value (the API refuses it; a flow started otherwise must cope).
    order = dataclasses.replace(activation_input(settings, [SERVICE]), company_name="Acme\nX: 1")
    state = await start(time_client, order, task_queue=settings.temporal_task_queue)
    handle = time_client.get_workflow_handle_for(
        LicenseActivationWorkflow.run, flow_id_of(order.order_id)
    )
    STARTED_FLOWS.append(handle)
    assert state.status == ActivationStatus.AWAITING_ACCOUNT
    assert await problem_of(handle) == "mail_unbuildable"
    described = await handle.describe()
    assert described.status is not None and described.status.name == "RUNNING"
    async with app_sessions() as session:
        assert await session.scalar(select(func.count()).select_from(ActivationCode)) == 0
    assert smtp.messages() == []
    await handle.execute_update(LicenseActivationWorkflow.cancel)
    await handle.result()
    await keep_history(handle, "activation_mail_unbuildable")
