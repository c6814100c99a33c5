"""The worker's metrics in a test: a client whose runtime hands them to an in-memory buffer (a
deployment exports them to Prometheus), and the updates of one metric read from it."""

from __future__ import annotations

import asyncio

from temporalio.client import Client
from temporalio.runtime import MetricBuffer
from temporalio.runtime import Runtime
from temporalio.runtime import TelemetryConfig
from temporalio.testing import WorkflowEnvironment

from core.payload_codec import data_converter
from core.settings import Settings


async def metered_client(
    env: WorkflowEnvironment, settings: Settings
) -> tuple[Client, MetricBuffer]:
    """A client of `env`'s server whose workers' metrics go to the returned buffer."""
    buffer = MetricBuffer(10_000)
    client = await Client.connect(
        env.client.service_client.config.target_host,
        runtime=Runtime(telemetry=TelemetryConfig(metrics=buffer)),
        data_converter=data_converter(settings.payload_keys),
    )
    return client, buffer


async def updates_of(buffer: MetricBuffer, metric: str, until: int = 1) -> list[dict[str, object]]:
    """The attributes of each update of `metric`, once there are `until` (the runtime hands
    its updates over every so often: up to 10 s)."""
    found: list[dict[str, object]] = []
    for _ in range(100):
        found += [
            dict(update.attributes)
            for update in buffer.retrieve_updates()
            if update.metric.name == metric
        ]
        if len(found) >= until:
            break
        await asyncio.sleep(0.1)
    return found
