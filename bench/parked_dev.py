"""Parked activations at scale on `make dev` (`activation dev`: the Temporal dev server on its
SQLite file, the worker and the API in one process): N orders placed through the API, each flow
parked once its Activation Link is out; then the disk per parked flow of both databases, the
memory of the service's process and of the Temporal server, the vendor's status read
(`GET /v1/orders/{id}`) p50/p99 at concurrency 1 and 10, and how long `activation dev` takes to
be ready again when it starts with them.

    python -m bench.parked_dev --checkpoints 10000,50000,100000

It writes a JSON report (`--report`, `.bench/parked-dev.json` by default); bench/README.md says
what one run measured."""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import signal
import sqlite3
import sys
import tempfile
import time
from datetime import UTC
from datetime import datetime
from datetime import timedelta
from pathlib import Path
from typing import Any

from bench.http import LeanClient
from bench.scenarios import SERVICE
from bench.scenarios import pct
from bench.stack import progress
from bench.stack import rss_mb
from tests.support.net import free_port

API_KEY = "bench-parked-api-key-0123456789"


class Dev:
    """`activation dev` as a process of its own, on free ports, in `folder`."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.api_port = free_port()
        self.env = os.environ | {
            "ACTIVATION_DATA_DIR": str(folder),
            "ACTIVATION_DATABASE_URL": f"sqlite+aiosqlite:///{folder}/activation.db",
            "ACTIVATION_API_PORT": str(self.api_port),
            "ACTIVATION_API_KEYS": API_KEY,
            "ACTIVATION_TEMPORAL_ADDRESS": f"127.0.0.1:{free_port()}",
            "ACTIVATION_TEMPORAL_UI_PORT": str(free_port()),
            "ACTIVATION_SMTP_PORT": str(free_port()),
            "ACTIVATION_DEV_PRODUCT_PORT": str(free_port()),
        }
        self.process: asyncio.subprocess.Process | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.api_port}"

    async def start(self) -> float:
        """Start it; the seconds until `/ready` answers 200."""
        began = time.perf_counter()
        with (self.folder / "dev.log").open("ab") as log:
            self.process = await asyncio.create_subprocess_exec(
                str(Path(sys.executable).parent / "activation"),
                "dev",
                env=self.env,
                stdout=log,
                stderr=log,
            )
        http = LeanClient(self.url, timeout=5)
        while True:
            if self.process.returncode is not None:
                raise RuntimeError(f"activation dev exited; see {self.folder / 'dev.log'}")
            try:
                if (await http.get("/ready")).status_code == 200:
                    return time.perf_counter() - began
            except (OSError, RuntimeError):
                pass
            await asyncio.sleep(0.1)

    async def stop(self) -> None:
        if self.process is not None and self.process.returncode is None:
            self.process.send_signal(signal.SIGINT)
            await self.process.wait()

    def temporal_pid(self) -> int:
        """The Temporal dev server: the child of the service's process."""
        assert self.process is not None
        children = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children")
        return int(children.read_text().split()[0])


async def place_orders(http: LeanClient, first: int, n: int, concurrency: int) -> list[str]:
    """Orders `first` to `first + n`; their ids."""
    expires_on = (datetime.now(UTC) + timedelta(days=365)).date().isoformat()
    ids: list[str] = []
    queue = iter(range(first, first + n))
    auth = {"Authorization": f"Bearer {API_KEY}"}

    async def client() -> None:
        for i in queue:
            body = {
                "company_name": f"Parked {i}",
                "contact_email": f"parked-{i}@example.com",
                "items": [SERVICE | {"expires_on": expires_on}],
            }
            answer = await http.post("/v1/orders", json=body, headers=auth)
            answer.raise_for_status()
            ids.append(answer.json()["order_id"])

    await asyncio.gather(*(client() for _ in range(concurrency)))
    return ids


def unsent_mails(database: Path) -> int:
    with sqlite3.connect(database) as db:
        (count,) = db.execute("SELECT count(*) FROM mail_outbox WHERE sent_at IS NULL").fetchone()
        return int(count)


def megabytes(*patterns: str, folder: Path) -> float:
    return sum(p.stat().st_size for pattern in patterns for p in folder.glob(pattern)) / 1e6


async def reads(http: LeanClient, ids: list[str], count: int, concurrency: int) -> dict[str, float]:
    auth = {"Authorization": f"Bearer {API_KEY}"}
    took: list[float] = []
    left = iter(range(count))

    async def client() -> None:
        for _ in left:
            began = time.perf_counter()
            answer = await http.get(f"/v1/orders/{random.choice(ids)}", headers=auth)
            answer.raise_for_status()
            took.append(time.perf_counter() - began)

    await asyncio.gather(*(client() for _ in range(concurrency)))
    return {"p50_ms": round(pct(took, 0.5), 1), "p99_ms": round(pct(took, 0.99), 1)}


async def measured(dev: Dev, ids: list[str]) -> dict[str, Any]:
    """With `ids` parked: disk, memory, status reads, and a restart of `activation dev`."""
    folder, n = dev.folder, len(ids)
    assert dev.process is not None
    temporal_mb = megabytes("temporal.db*", folder=folder)
    app_mb = megabytes("activation.db*", folder=folder)
    http = LeanClient(dev.url, max_connections=10)
    found: dict[str, Any] = {
        "flows": n,
        "service_rss_mb": round(rss_mb(dev.process.pid)[0]),
        "temporal_rss_mb": round(rss_mb(dev.temporal_pid())[0]),
        "temporal_db_mb": round(temporal_mb),
        "app_db_mb": round(app_mb),
        "temporal_kb_per_flow": round(temporal_mb * 1000 / n, 1),
        "app_kb_per_flow": round(app_mb * 1000 / n, 1),
        "mailbox_mb": round(megabytes("mailbox/**/*", folder=folder)),
        "status_read_c1": await reads(http, ids, 500, 1),
        "status_read_c10": await reads(http, ids, 2000, 10),
    }
    await dev.stop()
    found["restart_s"] = round(await dev.start(), 1)
    found["status_read_after_restart_c1"] = await reads(
        LeanClient(dev.url, max_connections=1), ids, 200, 1
    )
    return found


async def main(args: argparse.Namespace) -> dict[str, Any]:
    """Parks flows up to each checkpoint and measures there; the report is written after each
    (a run stopped early keeps what it measured)."""
    folder = Path(tempfile.mkdtemp(prefix="activation-parked-"))
    dev = Dev(folder)
    report: dict[str, Any] = {"folder": str(folder), "checkpoints": []}
    ids: list[str] = []
    try:
        report["first_start_s"] = round(await dev.start(), 1)
        for checkpoint in args.checkpoints:
            began = time.perf_counter()
            http = LeanClient(dev.url, max_connections=args.concurrency)
            placed = await place_orders(http, len(ids), checkpoint - len(ids), args.concurrency)
            while unsent_mails(folder / "activation.db"):  # parked: every link is out
                await asyncio.sleep(1)
            rate = len(placed) / (time.perf_counter() - began)
            ids += placed
            await asyncio.sleep(5)  # the last tasks settle
            found = await measured(dev, ids) | {"orders_per_s": round(rate, 1)}
            report["checkpoints"].append(found)
            progress(f"{checkpoint} parked: {json.dumps(found)}")
            args.report.parent.mkdir(parents=True, exist_ok=True)
            args.report.write_text(json.dumps(report, indent=1))
    finally:
        await dev.stop()
    return report


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument(
        "--checkpoints",
        type=lambda text: [int(n) for n in text.split(",")],
        default=[10_000, 50_000, 100_000],
        help="parked activations at which to measure (default 10000,50000,100000)",
    )
    parser.add_argument("-c", "--concurrency", type=int, default=20, help="orders at a time")
    parser.add_argument("--report", type=Path, default=Path(".bench/parked-dev.json"))
    args = parser.parse_args()
    print(json.dumps(asyncio.run(main(args)), indent=1))
