"""Online activations of an on-premises product (docs/on-premises.md): installations taking the
seats of one certificate's Activation Code over HTTP, C at a time, each answered with its signed
license file; against the bare Temporal program of the same shape (one flow holding the seats,
an update per activation running two activities: record the seat, sign the file)."""

from __future__ import annotations

import asyncio
import time
import uuid
from datetime import UTC
from datetime import datetime
from datetime import timedelta
from typing import Any

from temporalio.client import Client
from temporalio.client import WorkflowHandle

from bench.baseline import BaselineSeatsWorkflow
from bench.http import LeanClient
from bench.report import shape
from bench.scenarios import Timings
from bench.scenarios import drive
from bench.shape import Shape
from bench.shape import shape_of
from bench.stack import AUTH
from bench.stack import Inbox
from models.contracts.on_premises import certificate_flow_id

AGREEMENT = {"id": "business-software-agreement", "version": "2026-01"}


async def installation_throughput(
    http: LeanClient, inbox: Inbox, run: str, n: int, concurrency: int
) -> Timings:
    """One certificate with N seats (not timed), then N installations activate online."""
    contact = f"sensor-{run}@example.com"
    certificate = inbox.expect(contact)
    expires_on = (datetime.now(UTC) + timedelta(days=365)).date().isoformat()
    item = {"product": "network-sensor", "units": n, "expires_on": expires_on}
    body = {"company_name": "Bench Corp", "contact_email": contact, "items": [item]}
    ordered = await http.post("/v1/orders", json=body, headers=AUTH)
    ordered.raise_for_status()
    code, _ = await asyncio.wait_for(certificate, timeout=120)
    answer = ordered.json()
    order_id = answer["id"] if "codes" in answer else answer["order_id"]
    timings = Timings(count=n, ids=[certificate_flow_id(order_id)])  # its code's flow, a child

    async def one(i: int) -> None:
        seat = {"activation_code": code, "fingerprint": f"HOST-{run}-{i:06d}",
                "agreement": AGREEMENT}  # fmt: skip
        t0 = time.perf_counter()
        (await http.post("/v1/installations", json=seat)).raise_for_status()
        timings.start.append(time.perf_counter() - t0)

    timings.wall = await drive(n, concurrency, one)
    return timings


async def baseline_installation_throughput(
    client: Client, task_queue: str, n: int, concurrency: int
) -> Timings:
    """The same against `BaselineSeatsWorkflow`: one flow with N seats, an update each."""
    handle: WorkflowHandle[Any, Any] = await client.start_workflow(
        BaselineSeatsWorkflow.run, n, id=f"seats-{uuid.uuid4().hex[:8]}", task_queue=task_queue
    )
    timings = Timings(count=n, ids=[handle.id])

    async def one(i: int) -> None:
        t0 = time.perf_counter()
        await handle.execute_update(BaselineSeatsWorkflow.activate, f"HOST-{i:06d}")
        timings.start.append(time.perf_counter() - t0)

    timings.wall = await drive(n, concurrency, one)
    await handle.terminate("measured")
    return timings


async def per_installation(client: Client, run: Timings) -> dict[str, Any]:
    """The history per installation: that of the flows holding the seats (a certificate with
    its code's flow; the bare program's seats flow), shared among the installations."""
    held = await shape_of(client, run.ids)
    share = len(run.ids) / run.count if run.count else 0.0
    return shape(Shape(held.flows, {column: v * share for column, v in held.per_flow.items()}))
