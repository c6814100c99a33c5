"""`activation dev` (what `make dev` runs): boots the whole embedded stack, serves the flow with the
dev mailbox, stops cleanly on Ctrl-C and keeps flows across a restart."""

from __future__ import annotations

import asyncio
import os
import re
import signal
import sqlite3
import sys
from collections.abc import AsyncIterator
from contextlib import closing
from pathlib import Path

import httpx
import pytest

from tests.support.net import free_port

pytestmark = pytest.mark.asyncio
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
                    if (await http.get("/health")).status_code == 200:
                        return process
                except httpx.TransportError:
                    pass
                assert process.returncode is None, self.log.read_text()
                await asyncio.sleep(0.1)
        raise AssertionError(self.log.read_text())

    async def stop(self, process: asyncio.subprocess.Process) -> int:
        process.send_signal(signal.SIGINT)
        return await asyncio.wait_for(process.wait(), timeout=60)


async def no_secret_shown_by_the_ui_or_in_command_lines(stack: DevStack) -> None:
    """The Web UI shows its codec endpoint to whoever reaches it: the key in it is the codec
    key, which opens nothing else; no process's command line holds the operator key."""
    operator_key = (stack.data / "operator-key").read_text().strip()
    codec_key = (stack.data / "codec-key").read_text().strip()
    ui = f"http://127.0.0.1:{stack.env['ACTIVATION_TEMPORAL_UI_PORT']}"
    async with httpx.AsyncClient() as http:
        shown = (await http.get(f"{ui}/api/v1/settings")).text
        assert codec_key in shown and operator_key not in shown
        support = await http.get(
            f"{stack.base}/v1/businesses/00000000-0000-4000-8000-000000000000/primary-changes",
            headers={"Authorization": f"Bearer {codec_key}"},
        )
        assert support.status_code == 401
    for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            assert operator_key.encode() not in cmdline.read_bytes()
        except (FileNotFoundError, ProcessLookupError, PermissionError):
            continue


@pytest.fixture
async def stack(tmp_path: Path) -> AsyncIterator[DevStack]:
    yield DevStack(tmp_path)


async def test_dev_serves_the_flow_stops_on_ctrl_c_and_keeps_flows(stack: DevStack) -> None:
    process = await stack.start()
    try:
        async with httpx.AsyncClient(base_url=stack.base) as http:
            started = await http.post(
                "/v1/email-verifications", headers=AUTH, json={"email": "dev@example.com"}
            )
            assert started.status_code == 202
            flow_id = started.json()["id"]
            for _ in range(100):
                mails = (await http.get("/dev/mailbox")).json()
                if mails:
                    break
                await asyncio.sleep(0.05)
            assert mails[0]["to"] == "dev@example.com"
            assert set(mails[0]) == {"to", "subject", "text", "html", "message_id", "received_at"}
            assert re.search(r"token=\S+", mails[0]["text"])
            await no_secret_shown_by_the_ui_or_in_command_lines(stack)
    finally:
        assert await stack.stop(process) == 0, stack.log.read_text()

    process = await stack.start()  # the same data folder: the flow is still there
    try:
        async with httpx.AsyncClient(base_url=stack.base) as http:
            status = await http.get(f"/v1/email-verifications/{flow_id}", headers=AUTH)
            assert status.status_code == 200 and status.json()["status"] == "pending"
    finally:
        assert await stack.stop(process) == 0
    assert "Traceback" not in stack.log.read_text()
    # Everything under the data folder is the service user's alone (addresses, mails, keys).
    assert stack.data.stat().st_mode & 0o777 == 0o700
    for path in stack.data.rglob("*"):
        if path.is_file() and path.name != "dev.log":  # the test's own log
            assert path.stat().st_mode & 0o077 == 0, f"{path} is readable by others"
    # The server's store commits by appending to a write-ahead log (docs/architecture.md).
    with closing(sqlite3.connect(stack.data / "temporal.db")) as db:
        assert db.execute("PRAGMA journal_mode").fetchone() == ("wal",)
