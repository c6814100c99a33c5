"""The Business a flow serves reaches its JSON log lines and its activities' spans: a flow with a
`BusinessId` logs, runs an activity and a local activity that log; each line names the Business
and each activity's span carries it. A flow without one adds nothing."""

from __future__ import annotations

import io
import json
import uuid
from datetime import timedelta

import pytest
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.ext.asyncio import async_sessionmaker
from temporalio import activity
from temporalio import workflow
from temporalio.client import Client
from temporalio.common import SearchAttributePair
from temporalio.common import TypedSearchAttributes
from temporalio.contrib.opentelemetry import TracingInterceptor
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from core.logging import configure_logging
from core.settings import Settings
from models.contracts.search_attributes import BUSINESS_ID
from workers.business_context import SPAN_ATTRIBUTE
from workers.business_context import BusinessContext
from workers.business_context import business_on_log_lines
from workers.worker import build_worker
from workers.worker import workflow_runner

pytestmark = pytest.mark.asyncio
STEP = timedelta(seconds=10)


@activity.defn
async def say_where() -> None:
    activity.logger.info("the activity ran")


@workflow.defn(sandboxed=False)
class Greeting:
    @workflow.run
    async def run(self) -> None:
        workflow.logger.info("the flow ran")
        await workflow.execute_activity(say_where, start_to_close_timeout=STEP)
        await workflow.execute_local_activity(say_where, start_to_close_timeout=STEP)


async def run_greeting(env: WorkflowEnvironment, business: str | None) -> list[dict[str, str]]:
    """Run the flow (with `business` as its BusinessId) and return its JSON log lines."""
    stream = io.StringIO()
    configure_logging("INFO", stream, json_lines=True, filters=(business_on_log_lines(),))
    queue = f"business-{uuid.uuid4().hex[:8]}"
    try:
        async with Worker(
            env.client,
            task_queue=queue,
            workflows=[Greeting],
            activities=[say_where],
            interceptors=[BusinessContext()],
        ):
            await env.client.execute_workflow(
                Greeting.run,
                id=queue,
                task_queue=queue,
                search_attributes=TypedSearchAttributes(
                    [SearchAttributePair(BUSINESS_ID, business)] if business else []
                ),
            )
    finally:
        configure_logging("INFO")
    lines = [json.loads(line) for line in stream.getvalue().splitlines()]
    return [line for line in lines if line.get("flow_id") == queue]


async def test_a_flows_lines_and_its_activities_lines_name_its_business(
    time_env: WorkflowEnvironment,
) -> None:
    lines = await run_greeting(time_env, "biz-42")
    messages = sorted(line["message"] for line in lines)
    assert messages[0].startswith("the activity ran") and messages[-1].startswith("the flow ran")
    assert len(lines) == 3  # the flow's, the activity's and the local activity's
    assert {line.get("business_id") for line in lines} == {"biz-42"}


async def test_a_flow_without_a_business_adds_none(time_env: WorkflowEnvironment) -> None:
    lines = await run_greeting(time_env, None)
    assert len(lines) == 3
    assert all("business_id" not in line for line in lines)


async def test_an_activitys_span_carries_the_business(time_env: WorkflowEnvironment) -> None:
    spans = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(spans))
    client = Client(
        **time_env.client.config()
        | {"interceptors": [TracingInterceptor(provider.get_tracer("t"))]}
    )
    queue = f"business-{uuid.uuid4().hex[:8]}"
    async with Worker(
        client,
        task_queue=queue,
        workflows=[Greeting],
        activities=[say_where],
        interceptors=[BusinessContext()],
        workflow_runner=workflow_runner(),
    ):
        await client.execute_workflow(
            Greeting.run,
            id=queue,
            task_queue=queue,
            search_attributes=TypedSearchAttributes([SearchAttributePair(BUSINESS_ID, "biz-7")]),
        )
    ran = [span for span in spans.get_finished_spans() if span.name == "RunActivity:say_where"]
    assert len(ran) == 2
    assert all((span.attributes or {}).get(SPAN_ATTRIBUTE) == "biz-7" for span in ran)


async def test_the_service_worker_carries_the_business(
    time_env: WorkflowEnvironment,
    settings: Settings,
    app_sessions: async_sessionmaker[AsyncSession],
) -> None:
    worker = build_worker(time_env.client, settings, app_sessions)
    assert any(isinstance(i, BusinessContext) for i in worker.config()["interceptors"])
