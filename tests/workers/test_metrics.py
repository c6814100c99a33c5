"""The worker's metrics (docs/operations.md), read as Temporal's runtime exports them: flows
reaching a status with the time it took, and mails by template and outcome, with no address in
any label. A runtime of its own buffers them in memory here (Prometheus in a deployment)."""

from __future__ import annotations

import asyncio
import uuid

import pytest
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.ext.asyncio import async_sessionmaker
from temporalio.client import Client
from temporalio.runtime import MetricBuffer
from temporalio.runtime import Runtime
from temporalio.runtime import TelemetryConfig
from temporalio.testing import WorkflowEnvironment

from core.metric_names import FLOW_STATUS
from core.metric_names import FLOW_TIME
from core.metric_names import MAILS
from core.payload_codec import data_converter
from core.settings import Settings
from models.contracts.account_lookup import START
from models.contracts.account_lookup import LookupInput
from tests.support.mail import MailSink
from workers.worker import build_worker

pytestmark = pytest.mark.asyncio


async def test_a_flow_and_its_mail_are_counted_without_personal_data(
    dev_env: WorkflowEnvironment,
    settings: Settings,
    app_sessions: async_sessionmaker[AsyncSession],
    smtp: MailSink,
) -> None:
    buffer = MetricBuffer(10_000)
    runtime = Runtime(telemetry=TelemetryConfig(metrics=buffer))
    client = await Client.connect(
        dev_env.client.service_client.config.target_host,
        runtime=runtime,
        data_converter=data_converter(settings.payload_keys),
    )
    settings.temporal_task_queue = f"metrics-{uuid.uuid4().hex[:8]}"
    async with build_worker(client, settings, app_sessions):
        await START(client, LookupInput("who@acme.example", "en"),
                    task_queue=settings.temporal_task_queue)  # fmt: skip
        await smtp.wait_for(1, to="who@acme.example")
        seen: dict[str, list[dict[str, object]]] = {}
        for _ in range(100):  # the runtime hands its updates over every so often
            for update in buffer.retrieve_updates():
                seen.setdefault(update.metric.name, []).append(dict(update.attributes))
            if FLOW_STATUS in seen and MAILS in seen:
                break
            await asyncio.sleep(0.1)
    flow = {"flow": "AccountLookupWorkflow", "status": "sent"}
    assert flow.items() <= seen[FLOW_STATUS][0].items()
    assert FLOW_TIME in seen
    assert {"template": "account_lookup", "outcome": "sent"}.items() <= seen[MAILS][0].items()
    labels = " ".join(str(v) for found in seen.values() for one in found for v in one.values())
    assert "@" not in labels and "who" not in labels
