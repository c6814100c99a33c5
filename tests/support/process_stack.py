"""The Temporal dev server, workers and API processes as real processes, for the fault tests:
each can be killed (-9) and started again."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from pathlib import Path

import httpx

from core.settings import Settings
from models.contracts import search_attributes
from tests.support.net import free_port
from workers.dev_temporal import DevTemporalServer


class Stack:
    """The Temporal dev server and the worker as processes; the API in-process (ASGI)."""

    def __init__(self, tmp: Path, settings: Settings) -> None:
        self.tmp = tmp
        self.settings = settings
        self.temporal: DevTemporalServer | None = None
        self.worker: subprocess.Popen[bytes] | None = None  # the last one started
        self.workers: list[subprocess.Popen[bytes]] = []
        self.apis: list[subprocess.Popen[bytes]] = []

    async def start_temporal(self) -> None:
        self.temporal = await DevTemporalServer.start(
            address=self.settings.temporal_address,
            namespace="default",
            ui_port=None,
            database_file=self.tmp / "temporal.db",
            search_attributes=search_attributes.ALL,
            log_file=self.tmp / "temporal.log",
        )

    def kill_temporal(self) -> None:
        assert self.temporal is not None
        os.killpg(self.temporal.process.pid, signal.SIGKILL)
        self.temporal.process.wait()

    def _polling(self) -> int:
        log = self.tmp / "worker.log"
        return log.read_text().count("worker polling") if log.exists() else 0

    async def start_worker(self, build: Path | None = None) -> None:
        """Start a worker process and return once it polls the task queue; with `build`, a
        directory holding another version of the code, the worker runs that version."""
        polling = self._polling()
        env = self._environment()
        if build is not None:
            env["PYTHONPATH"] = str(build)  # ahead of the installed checkout
        with (self.tmp / "worker.log").open("ab") as log:
            self.worker = subprocess.Popen(
                [str(Path(sys.executable).parent / "activation"), "worker"],
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        self.workers.append(self.worker)
        deadline = time.monotonic() + 60
        while self._polling() == polling:
            assert self.worker.poll() is None, (self.tmp / "worker.log").read_text()
            assert time.monotonic() < deadline, "the worker never started polling"
            await asyncio.sleep(0.1)

    def _environment(self) -> dict[str, str]:
        """What the service's processes read: the test's settings."""
        s = self.settings
        env = os.environ | {
            "ACTIVATION_ENVIRONMENT": s.environment,
            "ACTIVATION_DATABASE_URL": s.database_url,
            "ACTIVATION_TEMPORAL_ADDRESS": s.temporal_address,
            "ACTIVATION_TEMPORAL_TASK_QUEUE": s.temporal_task_queue,
            "ACTIVATION_SMTP_PORT": str(s.smtp_port),
            "ACTIVATION_SMTP_TIMEOUT_SECONDS": str(s.smtp_timeout_seconds),
            "ACTIVATION_SECRET_KEY": s.secret_key,
            "ACTIVATION_PAYLOAD_KEYS": ",".join(s.payload_keys),
            "ACTIVATION_PUBLIC_BASE_URL": s.public_base_url,
            "ACTIVATION_EVENT_RELAY_POLL_SECONDS": str(s.event_relay_poll_seconds),
            "ACTIVATION_PROVISIONING_SECRETS": json.dumps(s.provisioning_secrets),
            "ACTIVATION_PROVISIONING_TIMEOUT_SECONDS": str(s.provisioning_timeout_seconds),
        }
        if s.catalog_file is not None:
            env["ACTIVATION_CATALOG_FILE"] = str(s.catalog_file)
        if s.worker_metrics_address is not None:
            env["ACTIVATION_WORKER_METRICS_ADDRESS"] = s.worker_metrics_address
        return env

    def kill_worker(self, worker: subprocess.Popen[bytes] | None = None) -> None:
        """Kill a worker (-9): the last one started, unless told which."""
        worker = worker or self.worker
        assert worker is not None
        worker.kill()
        worker.wait()

    async def start_api(self) -> str:
        """An API process (`activation api`) on a free port; its base URL once it is ready."""
        port = free_port()
        env = self._environment() | {
            "ACTIVATION_API_PORT": str(port),
            "ACTIVATION_API_KEYS": ",".join(self.settings.api_keys),
        }
        with (self.tmp / f"api-{port}.log").open("ab") as log:
            api = subprocess.Popen(
                [str(Path(sys.executable).parent / "activation"), "api"],
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        self.apis.append(api)
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        async with httpx.AsyncClient(base_url=url) as http:
            while True:
                assert api.poll() is None, (self.tmp / f"api-{port}.log").read_text()
                assert time.monotonic() < deadline, "the API never became ready"
                with contextlib.suppress(httpx.TransportError):
                    if (await http.get("/ready")).status_code == 200:
                        return url
                await asyncio.sleep(0.2)

    def stop(self) -> None:
        for process in self.workers + self.apis:
            if process.poll() is None:
                process.kill()
                process.wait()
        if self.temporal is not None and self.temporal.process.poll() is None:
            self.kill_temporal()


@contextlib.asynccontextmanager
async def running_stack(tmp: Path, settings: Settings) -> AsyncIterator[Stack]:
    """The Temporal dev server (on a free port, written into `settings`) and a worker process,
    killed when the test ends."""
    settings.temporal_address = f"127.0.0.1:{free_port()}"
    running = Stack(tmp, settings)
    try:
        await running.start_temporal()
        await running.start_worker()
        yield running
    finally:
        running.stop()
