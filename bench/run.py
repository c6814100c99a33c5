"""`make bench`: what the product costs on top of the Temporal server it runs on.

In one run, on one Temporal dev server started here:
1. throughput: N complete email verifications over HTTP by C concurrent clients (start -> the mail
   reaches a real SMTP server on loopback -> the token is confirmed -> verified), against the
   bare Temporal program of the same shape (bench/baseline.py), same N and C, and against that
   program with its activities doing the product's external work (mail, outbox and outcome rows);
2. license activation: A new customers over HTTP (order -> the Activation Link mail -> sign-up ->
   the verification mail, confirmed -> agreements -> provisioning -> the confirmation mail),
   against its same-shape baseline;
3. the customer's pages: p50/p99 of each page's GET at concurrency C;
4. parked flows: M pending verifications left waiting; worker and API peak RSS, worker CPU while
   idle, and p99 of `GET /v1/email-verifications/{id}` under that load;
5. the payload codec's cost: the email verifications of 1 again with plain payloads;
6. on SQLite, and (1 and 4) on PostgreSQL when 127.0.0.1:5432 answers;
7. the CPU each process spent per flow in 1, 2 and 5 (server, worker, API, load generator), and
   what the product may spend per flow for a ratio of 0.8.
On SQLite, 1, 2 and 5 run in R rounds, each run taking its turn in every round, so that a machine
whose speed drifts during the bench (a shared VM's does) moves the product and its baseline alike.
The last line is the summary: ratio=… flows_per_s=… baseline_per_s=… p50_inbox_ms=… p99_inbox_ms=…
activation_ratio=… start_ratio=… (the product's start p50 over the same-shape baseline's)
page_p99_ms=… (the slowest customer page's p99) codec_cost=…% (throughput lost to encryption)
work_ratio=… (the product's flows/s over the same-work baseline's)
"""

from __future__ import annotations

import argparse
import asyncio
import email
import hashlib
import os
import random
import re
import shutil
import signal
import socket
import sys
import tempfile
import time
import uuid
from collections.abc import Awaitable
from collections.abc import Callable
from dataclasses import dataclass
from dataclasses import field
from datetime import UTC
from datetime import datetime
from datetime import timedelta
from pathlib import Path
from typing import Any
from typing import TypeVar

from aiosmtpd.controller import Controller
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine
from temporalio.client import Client
from temporalio.client import WithStartWorkflowOperation
from temporalio.client import WorkflowHandle
from temporalio.common import WorkflowIDConflictPolicy

from bench.baseline import BaselineActivationWorkflow
from bench.baseline import BaselineWorkflow
from bench.doorbell import Doorbell
from bench.http import LeanClient
from bench.shape import header as shape_header
from bench.shape import shape_of
from core.payload_codec import new_key_entry
from models.catalog import load_catalog
from models.contracts.license_activation import flow_id_of as activation_flow_id
from models.contracts.search_attributes import ALL as SEARCH_ATTRIBUTES
from models.records.migrate import upgrade
from workers.dev_temporal import DevTemporalServer

API_KEY = "bench-api-key-0123456789"
AUTH = {"Authorization": f"Bearer {API_KEY}"}
PG_ADMIN = "postgresql+asyncpg://postgres@127.0.0.1:5432/postgres"
TOKEN = re.compile(r"token=([A-Za-z0-9_.\-]+)")
ACTIVATION_LINK = re.compile(r"/activate/([A-Za-z0-9_.\-]+)")
BIN = Path(sys.executable).parent
T = TypeVar("T")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def progress(text: str) -> None:
    """Progress goes to stderr; stdout holds only the report."""
    print(f"[bench] {text}", file=sys.stderr, flush=True)


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))] * 1000 if ordered else 0.0


# -- the mail server the flows send to ---------------------------------------------------------


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
        match = TOKEN.search(body) or ACTIVATION_LINK.search(body)
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


# -- processes ---------------------------------------------------------------------------------


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
                    if (await http.get("/health")).status_code == 200:
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


# -- drivers -----------------------------------------------------------------------------------


@dataclass
class Timings:
    start: list[float] = field(default_factory=list)
    inbox: list[float] = field(default_factory=list)
    confirm: list[float] = field(default_factory=list)
    wall: float = 0.0
    count: int = 0
    cpu: dict[str, float] = field(default_factory=dict)  # CPU seconds spent, by process
    ids: list[str] = field(default_factory=list)  # the flows' workflow ids
    reads: int = 0  # the status reads the client made to follow its flows

    @property
    def per_s(self) -> float:
        return self.count / self.wall if self.wall else 0.0

    def cpu_ms_per_flow(self, process: str) -> float:
        return self.cpu.get(process, 0.0) * 1000 / self.count if self.count else 0.0

    def add(self, other: Timings) -> None:
        """One more round of the same runs: its flows and its wall time count in the totals."""
        self.start += other.start
        self.inbox += other.inbox
        self.confirm += other.confirm
        self.wall += other.wall
        self.count += other.count
        self.ids += other.ids
        self.reads += other.reads
        for process, seconds in other.cpu.items():
            self.cpu[process] = self.cpu.get(process, 0.0) + seconds


def split(total: int, rounds: int) -> list[int]:
    """`total` flows in `rounds` rounds as even as they go (10 in 3: 4, 3, 3)."""
    return [total // rounds + (r < total % rounds) for r in range(rounds)]


async def drive(n: int, concurrency: int, one: Callable[[int], Awaitable[None]]) -> float:
    """Run `one(i)` for i in range(n) on `concurrency` clients; return the wall time."""
    counter = iter(range(n))

    async def client() -> None:
        for i in counter:
            await one(i)

    began = time.perf_counter()
    await asyncio.gather(*(client() for _ in range(concurrency)))
    return time.perf_counter() - began


async def product_throughput(
    http: LeanClient, inbox: Inbox, run: str, n: int, concurrency: int
) -> Timings:
    timings = Timings(count=n)

    async def one(i: int) -> None:
        address = f"bench-{run}-{i}@example.com"
        delivered = inbox.expect(address)
        t0 = time.perf_counter()
        started = await http.post("/v1/email-verifications", json={"email": address}, headers=AUTH)
        started.raise_for_status()
        t1 = time.perf_counter()
        token, arrived = await asyncio.wait_for(delivered, timeout=120)
        t2 = time.perf_counter()
        confirmed = await http.post("/v1/email-verifications/confirm", json={"token": token})
        t3 = time.perf_counter()
        if confirmed.json().get("status") != "verified":
            raise RuntimeError(f"confirm failed: {confirmed.text}")
        timings.ids.append(started.json()["id"])
        timings.start.append(t1 - t0)
        timings.inbox.append(arrived - t0)
        timings.confirm.append(t3 - t2)

    timings.wall = await drive(n, concurrency, one)
    return timings


async def start_baseline(
    client: Client, run: Any, describe: Any, flow_id: str, task_queue: str
) -> WorkflowHandle[Any, Any]:
    """Start a baseline flow as the product starts its flows: with an update (update-with-start)."""
    start = WithStartWorkflowOperation(
        run,
        flow_id,
        id=f"baseline-{flow_id}",
        id_conflict_policy=WorkflowIDConflictPolicy.FAIL,
        task_queue=task_queue,
    )
    await client.execute_update_with_start_workflow(describe, start_workflow_operation=start)
    return await start.workflow_handle()


async def baseline_throughput(
    client: Client, task_queue: str, n: int, concurrency: int, links: Doorbell | Inbox
) -> Timings:
    """A baseline driven as the product is: confirmed once its link is out. The bare one rings
    `links`, a doorbell; the one doing the same work mails its token to `links`, an inbox."""
    timings = Timings(count=n)
    run = uuid.uuid4().hex[:8]

    async def one(i: int) -> None:
        flow_id = f"b-{run}-{i}"
        if isinstance(links, Inbox):
            delivered = links.expect(f"{flow_id}@example.com")
        else:
            delivered = links.expect(flow_id)
        t0 = time.perf_counter()
        handle: WorkflowHandle[Any, Any] = await start_baseline(
            client, BaselineWorkflow.run, BaselineWorkflow.describe, flow_id, task_queue
        )
        t1 = time.perf_counter()
        token, arrived = await asyncio.wait_for(delivered, timeout=120)
        token_hash = hashlib.sha256(token.encode()).hexdigest() if token else "0" * 64
        t2 = time.perf_counter()
        if await handle.execute_update(BaselineWorkflow.confirm, token_hash) != "verified":
            raise RuntimeError(f"the baseline {flow_id} was not verified")
        t3 = time.perf_counter()
        await handle.result()
        timings.ids.append(handle.id)
        timings.start.append(t1 - t0)
        timings.inbox.append(arrived - t0)
        timings.confirm.append(t3 - t2)

    timings.wall = await drive(n, concurrency, one)
    return timings


SERVICE = {"product": "endpoint-protection", "units": 5}
AGREEMENTS = [
    {"id": agreement.id, "version": agreement.version}
    for agreement in load_catalog().required_agreements(["endpoint-protection"])
]


async def until_step(http: LeanClient, code: str, status: str) -> int:
    """What the customer's page does: follow the activation until it reaches `status`; the
    number of reads it took."""
    for reads in range(1, 2401):  # 2 minutes
        state = (await http.get(f"/v1/activations/{code}")).json()
        if state["status"] == status:
            return reads
        await asyncio.sleep(0.05)
    raise RuntimeError(f"the activation never reached {status}: {state}")


async def activation_throughput(
    http: LeanClient, inbox: Inbox, run: str, n: int, concurrency: int
) -> Timings:
    """N new customers activate over HTTP: order -> the Activation Link mail -> sign-up -> the
    verification mail, confirmed -> agreements -> provisioning -> the confirmation mail.
    `inbox` holds order -> link mail; `confirm` holds order -> confirmation mail (activated)."""
    timings = Timings(count=n)
    expires_on = (datetime.now(UTC) + timedelta(days=365)).date().isoformat()

    async def one(i: int) -> None:
        contact, it = f"buyer-{run}-{i}@example.com", f"it-{run}-{i}@example.com"
        link_mail = inbox.expect(contact)
        t0 = time.perf_counter()
        body = {
            "company_name": "Bench Corp",
            "contact_email": contact,
            "items": [SERVICE | {"expires_on": expires_on}],
        }
        ordered = await http.post("/v1/orders", json=body, headers=AUTH)
        ordered.raise_for_status()
        t1 = time.perf_counter()
        code, linked = await asyncio.wait_for(link_mail, timeout=120)
        verify_mail = inbox.expect(it)
        (await http.post(f"/v1/activations/{code}/account", json={"email": it})).raise_for_status()
        token, _ = await asyncio.wait_for(verify_mail, timeout=120)
        confirmation = inbox.expect(it)
        confirmed = await http.post("/v1/email-verifications/confirm", json={"token": token})
        confirmed.raise_for_status()
        timings.reads += await until_step(http, code, "awaiting_agreements")
        accepted = await http.post(
            f"/v1/activations/{code}/agreements", json={"agreements": AGREEMENTS}
        )
        accepted.raise_for_status()
        _, activated = await asyncio.wait_for(confirmation, timeout=120)
        timings.start.append(t1 - t0)
        timings.inbox.append(linked - t0)
        timings.confirm.append(activated - t0)
        timings.ids.append(activation_flow_id(ordered.json()["order_id"]))

    timings.wall = await drive(n, concurrency, one)
    return timings


async def baseline_activation_throughput(
    client: Client, task_queue: str, n: int, concurrency: int, doorbell: Doorbell
) -> Timings:
    """The same journey against `BaselineActivationWorkflow`, driven by its updates; the
    sign-up's verification is confirmed once its link is out, as the product's is."""
    timings = Timings(count=n)
    run = uuid.uuid4().hex[:8]

    async def one(i: int) -> None:
        t0 = time.perf_counter()
        handle: WorkflowHandle[Any, Any] = await start_baseline(
            client,
            BaselineActivationWorkflow.run,
            BaselineActivationWorkflow.describe,
            f"activation-{run}-{i}",
            task_queue,
        )
        t1 = time.perf_counter()
        verification_id = f"baseline-signup-{run}-{i}"
        link_out = doorbell.expect(verification_id)
        await handle.execute_update(BaselineActivationWorkflow.create_account, verification_id)
        t2 = time.perf_counter()
        child: WorkflowHandle[BaselineWorkflow, str] = client.get_workflow_handle_for(
            BaselineWorkflow.run, verification_id
        )
        await asyncio.wait_for(link_out, timeout=120)
        await child.execute_update(BaselineWorkflow.confirm, "0" * 64)
        await handle.execute_update(BaselineActivationWorkflow.accept_agreements)
        await handle.result()
        timings.start.append(t1 - t0)
        timings.inbox.append(t2 - t0)  # the link is out once the account step is taken
        timings.confirm.append(time.perf_counter() - t0)
        timings.ids.append(handle.id)

    timings.wall = await drive(n, concurrency, one)
    return timings


PAGES = ("landing", "activate", "status")


async def page_latencies(
    http: LeanClient, inbox: Inbox, run: str, count: int, concurrency: int
) -> dict[str, list[float]]:
    """The customer's pages, each GET timed at `concurrency`: the Activation Link's landing
    (the code moves into a cookie), the activation page, and the progress script's status."""
    codes: list[str] = []
    expires_on = (datetime.now(UTC) + timedelta(days=365)).date().isoformat()

    async def order(i: int) -> None:
        contact = f"pages-{run}-{i}@example.com"
        delivered = inbox.expect(contact)
        item = {"product": "endpoint-protection", "units": 5, "expires_on": expires_on}
        body = {"company_name": "Bench Corp", "contact_email": contact, "items": [item]}
        (await http.post("/v1/orders", json=body, headers=AUTH)).raise_for_status()
        code, _ = await asyncio.wait_for(delivered, timeout=120)
        codes.append(code)

    await drive(count, concurrency, order)
    timings: dict[str, list[float]] = {page: [] for page in PAGES}

    async def visit(i: int) -> None:
        t0 = time.perf_counter()
        landing = await http.get(f"/activate/{codes[i]}")
        t1 = time.perf_counter()
        if landing.status_code != 303:
            raise RuntimeError(f"landing answered {landing.status_code}")
        cookies = landing.cookies
        page = await http.get("/activate", cookies=cookies)
        t2 = time.perf_counter()
        status = await http.get("/activate/status", cookies=cookies)
        t3 = time.perf_counter()
        if page.status_code != 200 or status.status_code != 200:
            raise RuntimeError(f"pages answered {page.status_code}, {status.status_code}")
        timings["landing"].append(t1 - t0)
        timings["activate"].append(t2 - t1)
        timings["status"].append(t3 - t2)

    await drive(count, concurrency, visit)
    return timings


@dataclass
class Parked:
    count: int
    start_per_s: float
    worker_rss_mb: float
    worker_peak_mb: float
    api_peak_mb: float
    worker_idle_cpu_pct: float
    status_p50_ms: float
    status_p99_ms: float


async def parked_flows(
    http: LeanClient,
    inbox: Inbox,
    product: Product,
    run: str,
    m: int,
    concurrency: int,
    idle_seconds: float,
) -> Parked:
    ids: list[str] = []
    before = inbox.received

    async def park(i: int) -> None:
        response = await http.post(
            "/v1/email-verifications", json={"email": f"parked-{run}-{i}@example.com"}, headers=AUTH
        )
        response.raise_for_status()
        ids.append(response.json()["id"])

    wall = await drive(m, concurrency, park)
    while inbox.received - before < m:  # every link is out: the worker has nothing left to do
        await asyncio.sleep(0.1)
    await asyncio.sleep(1)
    cpu_before = cpu_seconds(product.worker.pid)
    await asyncio.sleep(idle_seconds)
    idle_cpu = (cpu_seconds(product.worker.pid) - cpu_before) / idle_seconds * 100

    latencies: list[float] = []
    sample = [random.choice(ids) for _ in range(min(1000, max(100, m)))]

    async def read(i: int) -> None:
        t0 = time.perf_counter()
        response = await http.get(f"/v1/email-verifications/{sample[i]}", headers=AUTH)
        response.raise_for_status()
        latencies.append(time.perf_counter() - t0)

    await drive(len(sample), 10, read)
    worker_rss, worker_peak = rss_mb(product.worker.pid)
    return Parked(
        m,
        m / wall,
        worker_rss,
        worker_peak,
        rss_mb(product.api.pid)[1],
        idle_cpu,
        pct(latencies, 0.5),
        pct(latencies, 0.99),
    )


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


CPU_PROCESSES = ("server", "worker", "api", "driver")  # the driver runs the SMTP server too


async def with_cpu(pids: dict[str, int], work: Awaitable[Timings]) -> Timings:
    """Run `work` and record the CPU each process in `pids` spent meanwhile: the runs are
    CPU-bound, so where a run's CPU goes is what limits its throughput."""
    before = {name: cpu_seconds(pid) for name, pid in pids.items()}
    timings = await work
    timings.cpu = {name: cpu_seconds(pid) - before[name] for name, pid in pids.items()}
    return timings


def cpu_row(name: str, t: Timings) -> str:
    per_flow = [t.cpu_ms_per_flow(process) for process in CPU_PROCESSES]
    return f"{name:<14}" + "".join(f"{ms:>8.1f}" for ms in per_flow) + f"{sum(per_flow):>8.1f}"


TARGET_RATIO = 0.8


def cpu_budget(name: str, product: Timings, baseline: Timings) -> str:
    """What the product may spend per flow for the target ratio (a CPU-bound run's throughput
    follows its CPU per flow), what it spends, and where it spends more than the baseline."""
    allowed = sum(baseline.cpu_ms_per_flow(p) for p in CPU_PROCESSES) / TARGET_RATIO
    spent = sum(product.cpu_ms_per_flow(p) for p in CPU_PROCESSES)
    extra = ", ".join(
        f"{p} {product.cpu_ms_per_flow(p) - baseline.cpu_ms_per_flow(p):+.1f}"
        for p in CPU_PROCESSES
    )
    return (
        f"{name:<14}may spend {allowed:.1f} for ratio {TARGET_RATIO}, spends {spent:.1f} "
        f"(over the baseline: {extra})"
    )


# -- stores ------------------------------------------------------------------------------------


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


# -- the run -----------------------------------------------------------------------------------


def row(name: str, t: Timings, n: int, c: int) -> str:
    return (
        f"{name:<10} {n:>6} {c:>5} {t.per_s:>8.1f} "
        f"{pct(t.start, 0.5):>7.1f}/{pct(t.start, 0.99):<7.1f} "
        f"{pct(t.inbox, 0.5):>7.1f}/{pct(t.inbox, 0.99):<7.1f} "
        f"{pct(t.confirm, 0.5):>7.1f}/{pct(t.confirm, 0.99):<7.1f}"
    )


async def main(args: argparse.Namespace) -> None:
    work = Path(tempfile.mkdtemp(prefix="activation-bench-"))
    address = f"127.0.0.1:{free_port()}"
    temporal = await DevTemporalServer.start(
        address=address,
        namespace="default",
        ui_port=None,
        database_file=work / "temporal.db",
        search_attributes=SEARCH_ATTRIBUTES,
        log_file=work / "temporal.log",
    )
    inbox = Inbox(asyncio.get_running_loop())
    doorbell = await Doorbell.open()
    base_env = os.environ | {
        "ACTIVATION_ENVIRONMENT": "test",
        "ACTIVATION_TEMPORAL_ADDRESS": address,
        "ACTIVATION_SMTP_PORT": str(inbox.port),
        "ACTIVATION_API_KEYS": API_KEY,
        "ACTIVATION_SECRET_KEY": "bench-secret-key-with-more-than-32-characters",
        "ACTIVATION_DATA_DIR": str(work),
    }
    base_env["ACTIVATION_PAYLOAD_KEYS"] = new_key_entry("bench")  # as in production
    results: dict[str, tuple[Timings, Parked]] = {}
    pages: dict[str, list[float]] = {}
    rounds: dict[str, Timings] = {
        name: Timings() for name in ("baseline", "work", "sqlite", "plain", "baseline_acts", "acts")
    }
    ratios: list[float] = []
    work_ratios: list[float] = []
    activation_ratios: list[float] = []
    c = args.concurrency
    queue, work_queue = (f"{kind}-{uuid.uuid4().hex[:8]}" for kind in ("baseline", "same-work"))

    def baseline_process(task_queue: str, *options: str) -> Awaitable[asyncio.subprocess.Process]:
        command = ("-m", "bench.baseline", "--address", address, "--task-queue", task_queue)
        return asyncio.create_subprocess_exec(sys.executable, *command, *options)

    baseline_worker = await baseline_process(queue, "--doorbell-port", str(doorbell.port))
    # The email verification's baseline once more, its activities doing the product's work.
    work_worker = await baseline_process(
        work_queue, "--smtp-port", str(inbox.port), "--database", str(work / "same-work.db")
    )
    baselines = {"baseline": baseline_worker, "work": work_worker}
    products: dict[str, Product] = {}
    try:
        # SQLite first; "plain" is the same product with every payload in plain text (the
        # codec's cost).
        for name in ("sqlite", "plain"):
            url = f"sqlite+aiosqlite:///{work}/{name}.db"
            await asyncio.to_thread(upgrade, url)
            env = base_env | {
                "ACTIVATION_DATABASE_URL": url,
                "ACTIVATION_TEMPORAL_TASK_QUEUE": f"bench-{name}-{uuid.uuid4().hex[:6]}",
            }
            if name == "plain":
                env.pop("ACTIVATION_PAYLOAD_KEYS")
            products[name] = await Product.start(env, work)
        async with http_client(products["sqlite"]) as http, http_client(products["plain"]) as raw:
            worker = products["sqlite"].worker
            clients = {"sqlite": http, "plain": raw}

            async def measured(name: str, work: Awaitable[Timings]) -> Timings:
                """A run of `name` (a product, or the baseline), with the CPU of the processes
                it works in; it fails at once if its worker dies."""
                pids = {"server": temporal.process.pid, "driver": os.getpid()}
                if name in baselines:
                    worker_process = baselines[name]
                else:
                    worker_process = products[name].worker
                    pids["api"] = products[name].api.pid
                pids["worker"] = worker_process.pid
                return await until_exit(worker_process, with_cpu(pids, work))

            async def product_round(name: str, label: str, n: int, conc: int) -> Timings:
                return await measured(
                    name, product_throughput(clients[name], inbox, label, n, conc)
                )

            # Untimed warm-up at full concurrency, alike for every run: workers poll, caches and
            # pools are filled before the clock runs.
            warm, warm_acts = max(3, args.n // 10), max(2, args.activations // 10)
            await until_exit(
                baseline_worker, baseline_throughput(temporal.client, queue, warm, c, doorbell)
            )
            await until_exit(
                work_worker, baseline_throughput(temporal.client, work_queue, warm, c, inbox)
            )
            await until_exit(
                baseline_worker,
                baseline_activation_throughput(temporal.client, queue, warm_acts, c, doorbell),
            )
            for name in ("sqlite", "plain"):
                await product_round(name, f"{name}-w", warm, c)
            await until_exit(worker, activation_throughput(http, inbox, "sqlite-w", warm_acts, c))
            # The runs take turns, a round each, so a machine that slows down or speeds up
            # during the bench does so for the product and its baseline alike.
            for r, (n, a) in enumerate(
                zip(split(args.n, args.rounds), split(args.activations, args.rounds), strict=True)
            ):
                progress(
                    f"round {r + 1}/{args.rounds}: {n} flows, {a} activations, concurrency {c}"
                )
                baseline = await measured(
                    "baseline", baseline_throughput(temporal.client, queue, n, c, doorbell)
                )
                same_work = await measured(
                    "work", baseline_throughput(temporal.client, work_queue, n, c, inbox)
                )
                flows = await product_round("sqlite", f"sqlite-{r}", n, c)
                rounds["plain"].add(await product_round("plain", f"plain-{r}", n, c))
                baseline_acts = await measured(
                    "baseline",
                    baseline_activation_throughput(temporal.client, queue, a, c, doorbell),
                )
                acts = await measured("sqlite", activation_throughput(http, inbox, f"r{r}", a, c))
                ratios.append(flows.per_s / baseline.per_s)
                work_ratios.append(flows.per_s / same_work.per_s)
                activation_ratios.append(acts.per_s / baseline_acts.per_s)
                rounds["baseline_acts"].add(baseline_acts)
                rounds["acts"].add(acts)
                rounds["baseline"].add(baseline)
                rounds["work"].add(same_work)
                rounds["sqlite"].add(flows)
            for process in baselines.values():
                process.send_signal(signal.SIGTERM)
                await process.wait()
            await products.pop("plain").stop()
            shapes = {
                name: await shape_of(temporal.client, rounds[key].ids)
                for name, key in (
                    ("baseline", "baseline"),
                    ("same work", "work"),
                    ("sqlite", "sqlite"),
                )
            }
            activation_shapes = {
                name: await shape_of(temporal.client, rounds[key].ids)
                for name, key in (("baseline", "baseline_acts"), ("sqlite", "acts"))
            }
            progress(f"sqlite: the customer's pages, concurrency {c}")
            count = max(20, args.n // 5)
            pages = await until_exit(worker, page_latencies(http, inbox, "sqlite", count, c))
            progress(f"sqlite: parking {args.parked} flows")
            parked = await until_exit(
                worker,
                parked_flows(
                    http,
                    inbox,
                    products["sqlite"],
                    "sqlite",
                    args.parked,
                    max(c, 20),
                    args.idle_seconds,
                ),
            )
        results["sqlite"] = (rounds["sqlite"], parked)
        await products.pop("sqlite").stop()

        if postgres_reachable() and not args.sqlite_only:
            url = f"postgresql+asyncpg://postgres@127.0.0.1:5432/bench_{uuid.uuid4().hex[:8]}"
            await pg_admin(f'CREATE DATABASE "{url.rsplit("/", 1)[1]}"')
            try:
                await asyncio.to_thread(upgrade, url)
                env = base_env | {
                    "ACTIVATION_DATABASE_URL": url,
                    "ACTIVATION_TEMPORAL_TASK_QUEUE": f"bench-postgres-{uuid.uuid4().hex[:6]}",
                }
                products["postgres"] = product = await Product.start(env, work)
                async with http_client(product) as http:
                    await until_exit(
                        product.worker, product_throughput(http, inbox, "postgres-w", 3, 1)
                    )
                    progress(f"postgres: {args.n} flows, concurrency {c}")
                    flows = await until_exit(
                        product.worker, product_throughput(http, inbox, "postgres", args.n, c)
                    )
                    progress(f"postgres: parking {args.parked} flows")
                    parked = await until_exit(
                        product.worker,
                        parked_flows(
                            http,
                            inbox,
                            product,
                            "postgres",
                            args.parked,
                            max(c, 20),
                            args.idle_seconds,
                        ),
                    )
                results["postgres"] = (flows, parked)
                await products.pop("postgres").stop()
            finally:
                await pg_admin(f'DROP DATABASE IF EXISTS "{url.rsplit("/", 1)[1]}" WITH (FORCE)')
    finally:
        for product in products.values():
            await product.stop()
        for process in baselines.values():
            if process.returncode is None:
                process.send_signal(signal.SIGTERM)
                await process.wait()
        inbox.stop()
        doorbell.close()
        await temporal.stop()
        shutil.rmtree(work, ignore_errors=True)

    baseline, same_work, activations = rounds["baseline"], rounds["work"], rounds["acts"]
    baseline_activations, plain = rounds["baseline_acts"], rounds["plain"]
    a = args.activations
    print(
        f"\nThroughput: N={args.n} flows in {args.rounds} rounds taking turns with the baseline, "
        f"concurrency={args.concurrency} (latencies p50/p99 ms)"
    )
    print(
        f"{'run':<10} {'flows':>6} {'conc':>5} {'flows/s':>8} {'start':>15} "
        f"{'to inbox':>15} {'confirm':>15}"
    )
    print(row("baseline", baseline, args.n, args.concurrency))
    print(row("same work", same_work, args.n, args.concurrency))
    for name, (flows, _) in results.items():
        print(row(name, flows, args.n, args.concurrency))
    print("ratio by round (SQLite): " + " ".join(f"{ratio:.2f}" for ratio in ratios))
    print("work_ratio by round: " + " ".join(f"{ratio:.2f}" for ratio in work_ratios))
    print("\nHistory events per email verification (a sample of each run's flows):")
    print(shape_header())
    for name, shape in shapes.items():
        print(shape.row(name))
    print(f"\nParked flows (M={args.parked}):")
    print(
        f"{'store':<10} {'parked':>7} {'start/s':>8} {'worker RSS':>11} {'peak':>7} "
        f"{'API peak':>9} {'idle CPU':>9} {'status p50':>11} {'p99':>7}"
    )
    for name, (_, p) in results.items():
        print(
            f"{name:<10} {p.count:>7} {p.start_per_s:>8.1f} {p.worker_rss_mb:>8.0f} MB "
            f"{p.worker_peak_mb:>4.0f} MB {p.api_peak_mb:>6.0f} MB {p.worker_idle_cpu_pct:>8.1f}% "
            f"{p.status_p50_ms:>8.1f} ms {p.status_p99_ms:>4.1f} ms"
        )
    print(f"\nCustomer pages (SQLite, concurrency={args.concurrency}; ms):")
    print(f"{'page':<10} {'p50':>8} {'p99':>8}")
    for page in PAGES:
        print(f"{page:<10} {pct(pages[page], 0.5):>8.1f} {pct(pages[page], 0.99):>8.1f}")
    page_p99 = max(pct(pages[page], 0.99) for page in PAGES)
    print(
        f"\nLicense activation, new customer over HTTP: A={a}, concurrency={c} "
        "(ms p50/p99; the baseline answers by its updates, without mail)"
    )
    print(f"{'run':<10} {'acts':>6} {'acts/s':>8} {'start':>15} {'to link':>15} {'activated':>15}")
    for name, t in (("baseline", baseline_activations), ("sqlite", activations)):
        print(
            f"{name:<10} {a:>6} {t.per_s:>8.2f} "
            f"{pct(t.start, 0.5):>7.1f}/{pct(t.start, 0.99):<7.1f} "
            f"{pct(t.inbox, 0.5):>7.1f}/{pct(t.inbox, 0.99):<7.1f} "
            f"{pct(t.confirm, 0.5):>7.1f}/{pct(t.confirm, 0.99):<7.1f}"
        )
    print("ratio by round: " + " ".join(f"{ratio:.2f}" for ratio in activation_ratios))
    print(
        f"status reads per activation: {activations.reads / max(1, activations.count):.1f} (the "
        "product's client follows the flow to the agreements step, every 50 ms; the baseline's "
        "update waits for it instead)"
    )
    print("\nHistory events per license activation, its child workflows included (a sample):")
    print(shape_header())
    for name, shape in activation_shapes.items():
        print(shape.row(name))
    print(
        "\nCPU per flow by process (SQLite, ms; the runs are CPU-bound, so the ratios follow the "
        "totals):"
    )
    print(f"{'run':<14}" + "".join(f"{process:>8}" for process in (*CPU_PROCESSES, "total")))
    for name, t in (
        ("baseline", baseline),
        ("same work", same_work),
        ("sqlite", rounds["sqlite"]),
        ("plain", plain),
        ("baseline acts", baseline_activations),
        ("sqlite acts", activations),
    ):
        print(cpu_row(name, t))
    print(cpu_budget("sqlite", rounds["sqlite"], baseline))
    print(cpu_budget("sqlite ~ work", rounds["sqlite"], same_work))
    print(cpu_budget("sqlite acts", activations, baseline_activations))
    flows, _ = results["sqlite"]
    codec_cost = (plain.per_s / flows.per_s - 1) * 100
    print(f"\nPayload codec (SQLite, email verifications, N={args.n}, concurrency={c}):")
    print(f"{'payloads':<10} {'flows/s':>8} {'start':>10} {'to inbox':>10} {'confirm':>12}")
    for name, t in (("plain", plain), ("encrypted", flows)):
        print(
            f"{name:<10} {t.per_s:>8.1f} {pct(t.start, 0.5):>10.1f} {pct(t.inbox, 0.5):>10.1f} "
            f"{pct(t.confirm, 0.5):>12.1f}"
        )
    print(
        f"\nratio={flows.per_s / baseline.per_s:.2f} flows_per_s={flows.per_s:.1f} "
        f"baseline_per_s={baseline.per_s:.1f} p50_inbox_ms={pct(flows.inbox, 0.5):.0f} "
        f"p99_inbox_ms={pct(flows.inbox, 0.99):.0f} "
        f"activation_ratio={activations.per_s / baseline_activations.per_s:.2f} "
        f"start_ratio={pct(flows.start, 0.5) / pct(baseline.start, 0.5):.2f} "
        f"page_p99_ms={page_p99:.0f} codec_cost={codec_cost:.1f}% "
        f"work_ratio={flows.per_s / same_work.per_s:.2f}"
    )


def parse(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="make bench", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("-n", type=int, default=300, help="complete flows per run (default 300)")
    parser.add_argument("-c", "--concurrency", type=int, default=10, help="concurrent clients")
    parser.add_argument("-m", "--parked", type=int, default=10_000, help="parked flows")
    parser.add_argument("--idle-seconds", type=float, default=5.0)
    parser.add_argument(
        "-r", "--rounds", type=int, default=3, help="rounds the product and the baseline alternate"
    )
    parser.add_argument("--sqlite-only", action="store_true", help="skip PostgreSQL")
    parser.add_argument("--quick", action="store_true", help="a smoke run: tiny N and M")
    parser.add_argument(
        "-a", "--activations", type=int, default=100, help="license activations (default 100)"
    )
    args = parser.parse_args(argv)
    if args.quick:
        args.n, args.concurrency, args.parked, args.idle_seconds = 10, 5, 20, 0.5
        args.activations, args.rounds = 5, 2
    return args


if __name__ == "__main__":
    asyncio.run(main(parse()))
