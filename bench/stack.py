"""The bench's stack: a Temporal dev server, a real SMTP server that hands each expected
recipient its token, the product's worker and API as processes of their own (as in production),
the baselines' workers; and reading what those processes spend (/proc)."""

from __future__ import annotations

import asyncio
import email
import os
import re
import signal
import socket
import sys
import time
from collections.abc import Awaitable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from typing import TypeVar

from aiosmtpd.controller import Controller
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from bench.http import LeanClient

T = TypeVar("T")
API_KEY = "bench-api-key-0123456789"


AUTH = {"Authorization": f"Bearer {API_KEY}"}


PG_ADMIN = "postgresql+asyncpg://postgres@127.0.0.1:5432/postgres"


TOKEN = re.compile(r"token=([A-Za-z0-9_.\-]+)")
# A license certificate: its Activation Code (before its link's token).
ACTIVATION_CODE = re.compile(r"Activation Code: ([A-Z2-9]{5}(?:-[A-Z2-9]{5}){4})")


ACTIVATION_LINK = re.compile(r"/activate/([A-Za-z0-9_.\-]+)")


BIN = Path(sys.executable).parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def progress(text: str) -> None:
    """Progress goes to stderr; stdout holds only the report."""
    print(f"[bench] {text}", file=sys.stderr, flush=True)


class Inbox:
    """A real SMTP server: hands each expected recipient its token and the arrival time."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop
        self._waiters: dict[str, asyncio.Future[tuple[str, float]]] = {}
        self.received = 0
        self.port = free_port()
        self._controller = Controller(self, hostname="127.0.0.1", port=self.port)
        self._controller.start()

    def expect(self, address: str) -> asyncio.Future[tuple[str, float]]:
        future: asyncio.Future[tuple[str, float]] = self._loop.create_future()
        self._waiters[address] = future
        return future

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        arrived = time.perf_counter()
        message = email.message_from_bytes(envelope.content)
        body = ""
        for part in message.walk():
            payload = part.get_payload(decode=True)
            if part.get_content_type() == "text/plain" and isinstance(payload, bytes):
                body = payload.decode()
        match = ACTIVATION_CODE.search(body) or TOKEN.search(body) or ACTIVATION_LINK.search(body)
        for address in envelope.rcpt_tos:
            self._loop.call_soon_threadsafe(self._deliver, address, match, arrived)
        return "250 OK"

    def _deliver(self, address: str, match: re.Match[str] | None, arrived: float) -> None:
        """The mail's token or code ("" for a mail without one: a confirmation)."""
        self.received += 1
        future = self._waiters.pop(address, None)
        if future is not None and not future.done():
            future.set_result((match.group(1) if match else "", arrived))

    def stop(self) -> None:
        self._controller.stop()


def rss_mb(pid: int) -> tuple[float, float]:
    """(current, peak) resident set size of a process, from /proc."""
    fields = dict(
        line.split(":", 1) for line in Path(f"/proc/{pid}/status").read_text().splitlines()
    )
    return (int(fields["VmRSS"].split()[0]) / 1024, int(fields["VmHWM"].split()[0]) / 1024)


def cpu_seconds(pid: int) -> float:
    stat = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(stat[11]) + int(stat[12])) / os.sysconf("SC_CLK_TCK")


@dataclass
class Product:
    """The product's worker and API as separate processes, like in production."""

    worker: asyncio.subprocess.Process
    api: asyncio.subprocess.Process
    base: str

    @classmethod
    async def start(cls, env: dict[str, str], logs: Path) -> Product:
        port = free_port()
        env = env | {
            "ACTIVATION_API_PORT": str(port),
            "ACTIVATION_PUBLIC_BASE_URL": f"http://127.0.0.1:{port}",
        }

        async def spawn(command: str) -> asyncio.subprocess.Process:
            with (logs / f"{command}.log").open("ab") as log:
                return await asyncio.create_subprocess_exec(
                    str(BIN / "activation"),
                    "--log-level",
                    "WARNING",
                    command,
                    env=env,
                    stdout=log,
                    stderr=log,
                )

        worker, api = await spawn("worker"), await spawn("api")
        base = f"http://127.0.0.1:{port}"
        async with LeanClient(base, timeout=5) as http:
            for _ in range(300):
                try:
                    if (await http.get("/ready")).status_code == 200:
                        return cls(worker, api, base)
                except OSError:
                    pass
                await asyncio.sleep(0.1)
        raise RuntimeError(f"the API did not come up; see {logs}")

    async def stop(self) -> None:
        for process in (self.api, self.worker):
            process.send_signal(signal.SIGTERM)
        for process in (self.api, self.worker):
            await process.wait()


def http_client(product: Product) -> LeanClient:
    return LeanClient(product.base, max_connections=100, timeout=120)


async def until_exit(process: asyncio.subprocess.Process, work: Awaitable[T]) -> T:
    """Run `work`, failing at once if the worker process it needs dies."""
    task = asyncio.ensure_future(work)
    exited = asyncio.ensure_future(process.wait())
    await asyncio.wait([task, exited], return_when=asyncio.FIRST_COMPLETED)
    if not task.done():
        task.cancel()
        raise RuntimeError(f"the worker exited with {process.returncode}")
    exited.cancel()
    return task.result()


def postgres_reachable() -> bool:
    try:
        with socket.create_connection(("127.0.0.1", 5432), timeout=1):
            return True
    except OSError:
        return False


async def pg_admin(statement: str) -> None:
    engine = create_async_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
    async with engine.connect() as conn:
        await conn.execute(text(statement))
    await engine.dispose()
