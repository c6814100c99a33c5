"""`activation dev` (what `make dev` runs): boots the whole embedded stack, serves the flow with the
dev mailbox, stops cleanly on Ctrl-C and keeps flows across a restart."""

from __future__ import annotations

import asyncio
import re
import sqlite3
from collections.abc import AsyncIterator
from contextlib import closing
from pathlib import Path

import httpx
import pytest

from tests.support.dev_stack import AUTH
from tests.support.dev_stack import DevStack

pytestmark = pytest.mark.asyncio


async def no_secret_shown_by_the_ui_or_in_command_lines(stack: DevStack) -> None:
    """The Web UI shows its codec endpoint to whoever reaches it: the key in it is the codec
    key, which opens nothing else; no process's command line holds a key (the Temporal CLI
    reads the codec endpoint from a settings file only its owner can read)."""
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
            shown_by_ps = cmdline.read_bytes()
            assert operator_key.encode() not in shown_by_ps
            assert codec_key.encode() not in shown_by_ps
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
            assert set(mails[0]) == {
                "id",
                "to",
                "subject",
                "text",
                "html",
                "message_id",
                "received_at",
                "links",
            }
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
