"""`activation dev` (what `make dev` runs) as a process of a test, on free loopback ports."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from pathlib import Path

import httpx

from tests.support.net import free_port

AUTH = {"Authorization": "Bearer dev-api-key"}


class DevStack:
    def __init__(self, data: Path) -> None:
        self.data = data
        self.api_port = free_port()
        self.env = os.environ | {
            "ACTIVATION_ENVIRONMENT": "development",
            "ACTIVATION_DATA_DIR": str(data),
            "ACTIVATION_DATABASE_URL": f"sqlite+aiosqlite:///{data}/app.db",
            "ACTIVATION_API_PORT": str(self.api_port),
            "ACTIVATION_PUBLIC_BASE_URL": f"http://127.0.0.1:{self.api_port}",
            "ACTIVATION_TEMPORAL_ADDRESS": f"127.0.0.1:{free_port()}",
            "ACTIVATION_TEMPORAL_UI_PORT": str(free_port()),
            "ACTIVATION_SMTP_PORT": str(free_port()),
            "ACTIVATION_DEV_PRODUCT_PORT": str(free_port()),
        }
        self.base = f"http://127.0.0.1:{self.api_port}"
        self.log = data / "dev.log"

    async def start(self) -> asyncio.subprocess.Process:
        activation = Path(sys.executable).parent / "activation"
        with self.log.open("ab") as log:
            process = await asyncio.create_subprocess_exec(
                str(activation), "dev", env=self.env, stdout=log, stderr=log
            )
        async with httpx.AsyncClient(base_url=self.base) as http:
            for _ in range(600):
                try:
                    if (await http.get("/ready")).status_code == 200:
                        return process
                except httpx.TransportError:
                    pass
                assert process.returncode is None, self.log.read_text()
                await asyncio.sleep(0.1)
        raise AssertionError(self.log.read_text())

    async def stop(self, process: asyncio.subprocess.Process) -> int:
        process.send_signal(signal.SIGINT)
        return await asyncio.wait_for(process.wait(), timeout=60)
