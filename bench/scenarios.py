"""What the bench drives, each a function of a client and returns `Timings`: email
verifications and license activations over HTTP (the product) and over the Temporal client (the
baselines), the customer's pages, and flows left parked."""

from __future__ import annotations

import asyncio
import hashlib
import random
import time
import uuid
from collections.abc import Awaitable
from collections.abc import Callable
from dataclasses import dataclass
from dataclasses import field
from datetime import UTC
from datetime import datetime
from datetime import timedelta
from typing import Any
from typing import TypeVar

from temporalio.client import Client
from temporalio.client import WithStartWorkflowOperation
from temporalio.client import WorkflowHandle
from temporalio.common import WorkflowIDConflictPolicy

from bench.baseline import BaselineActivationWorkflow
from bench.baseline import BaselineWorkflow
from bench.doorbell import Doorbell
from bench.http import LeanClient
from bench.stack import AUTH
from bench.stack import Inbox
from bench.stack import Product
from bench.stack import cpu_seconds
from bench.stack import rss_mb
from models.catalog import load_catalog
from models.contracts.license_activation import flow_id_of as activation_flow_id

T = TypeVar("T")


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


CPU_PROCESSES = ("server", "worker", "api", "driver")  # the driver runs the SMTP server too


async def with_cpu(pids: dict[str, int], work: Awaitable[Timings]) -> Timings:
    """Run `work` and record the CPU each process in `pids` spent meanwhile: the runs are
    CPU-bound, so where a run's CPU goes is what limits its throughput."""
    before = {name: cpu_seconds(pid) for name, pid in pids.items()}
    timings = await work
    timings.cpu = {name: cpu_seconds(pid) - before[name] for name, pid in pids.items()}
    return timings


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))] * 1000 if ordered else 0.0
