"""What the flows share when a step fails (workflows/steps.py): a mail that cannot go out lets
the flow go on, and an operator finds it by the `ActivationProblem` search attribute and its
current details; a step still failing past its deadline times out, and the steps before it are
undone."""

from __future__ import annotations

import asyncio
import dataclasses
import uuid
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import func
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.ext.asyncio import async_sessionmaker
from temporalio import activity
from temporalio import workflow
from temporalio.client import Client
from temporalio.client import WorkflowHandle
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import UnsandboxedWorkflowRunner
from temporalio.worker import Worker

from core.settings import Settings
from models.contracts.license_activation import START as start
from models.contracts.license_activation import ActivationStatus
from models.contracts.license_activation import flow_id_of
from models.contracts.search_attributes import ACTIVATION_PROBLEM
from models.errors import FlowProblem
from models.records.domain import ActivationCode
from tests.support.activations import SERVICE
from tests.support.activations import ActivationHandle
from tests.support.activations import activation_input
from tests.support.histories import keep_history
from tests.support.mail import MailSink
from tests.support.temporal import STARTED_FLOWS
from workflows.license_activation import LicenseActivationWorkflow
from workflows.steps import run_with_compensation

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
    handle: ActivationHandle = time_client.get_workflow_handle_for(
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


class Steps:
    """Two steps and an undo for `run_with_compensation`; the second step never succeeds."""

    def __init__(self) -> None:
        self.calls: list[str] = []

    @activity.defn(name="kit_test.reserve")
    async def reserve(self, arg: str) -> None:
        self.calls.append("reserve")

    @activity.defn(name="kit_test.never_ready")
    async def never_ready(self, arg: str) -> None:
        self.calls.append("try")
        raise RuntimeError("the other system is not ready")  # retryable: only time ends it

    @activity.defn(name="kit_test.release")
    async def release(self, arg: str) -> None:
        self.calls.append("release")


@workflow.defn(name="KitDeadlineTestWorkflow", sandboxed=False)
class DeadlineFlow:
    @workflow.run
    async def run(self, arg: str) -> str:
        failure = await run_with_compensation(
            [(Steps.reserve, Steps.release), (Steps.never_ready, Steps.release)],
            arg,
            deadline=timedelta(seconds=3),
        )
        return failure.type or "" if failure else "done"


async def test_a_step_still_failing_past_its_deadline_times_out_and_the_steps_before_are_undone(
    dev_env: WorkflowEnvironment,
) -> None:
    """On the dev server in real time (activity retries are not timers the time-skipping
    server skips): the deadline is 3 s, the retries 1 s apart."""
    steps = Steps()
    queue = f"kit-{uuid.uuid4()}"
    async with Worker(
        dev_env.client,
        task_queue=queue,
        workflows=[DeadlineFlow],
        activities=[steps.reserve, steps.never_ready, steps.release],
        workflow_runner=UnsandboxedWorkflowRunner(),
    ):
        outcome = await dev_env.client.execute_workflow(
            DeadlineFlow.run, "order-1", id=f"kit-deadline-{uuid.uuid4()}", task_queue=queue
        )
    assert outcome == FlowProblem.STEP_TIMED_OUT
    tries = steps.calls.count("try")
    assert steps.calls == ["reserve", *["try"] * tries, "release", "release"]
    assert 2 <= tries <= 4  # retried until the deadline, then given up on
