"""How long a new customer waits after each click of a license activation, against the same step
of the bare program (its floor on this machine), with nothing else running (concurrency 1) and
at C:

- `order_to_link`: the vendor's order request → the Activation Link mail in the inbox (the bare
  program: its start → its link activity's doorbell);
- `verification_to_mail`: "Send verification email" → that mail in the inbox (the bare program:
  its `create_account` update → its child's link activity's doorbell);
- `confirm_to_agreements`: "Confirm" → the activation at the agreements step, where its page
  shows them (the bare program: the child's `confirm` update → the parent's status);
- `continue_to_success`: "Continue" on the agreements → the activation activated, its success
  page (the bare program: `accept_agreements` → its status).

The mails' arrivals are events; the two steps without a mail are followed by reading the status
every POLL seconds (the product's over its API, the bare program's by a query), so those waits
are late by up to POLL on both sides. The product's pages poll once a second, which a customer
feels on top of these (docs/pages.md)."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Awaitable
from collections.abc import Callable
from datetime import UTC
from datetime import datetime
from datetime import timedelta
from typing import Any

from temporalio.client import Client
from temporalio.client import WorkflowHandle

from bench.baseline import BaselineActivationWorkflow
from bench.baseline import BaselineWorkflow
from bench.doorbell import Doorbell
from bench.http import LeanClient
from bench.scenarios import AGREEMENTS
from bench.scenarios import SERVICE
from bench.scenarios import drive
from bench.scenarios import pct
from bench.scenarios import start_baseline
from bench.stack import AUTH
from bench.stack import Inbox
from bench.stack import progress

STEPS = ("order_to_link", "verification_to_mail", "confirm_to_agreements", "continue_to_success")
POLL = 0.01
Waits = dict[str, list[float]]  # seconds, by step


async def until(read: Callable[[], Awaitable[str]], status: str) -> None:
    for _ in range(int(120 / POLL)):
        if await read() == status:
            return
        await asyncio.sleep(POLL)
    raise RuntimeError(f"never reached {status}")


async def product_waits(http: LeanClient, inbox: Inbox, run: str, n: int, c: int) -> Waits:
    waits: Waits = {step: [] for step in STEPS}
    expires_on = (datetime.now(UTC) + timedelta(days=365)).date().isoformat()

    async def one(i: int) -> None:
        contact, it = f"buyer-{run}-{i}@example.com", f"it-{run}-{i}@example.com"
        link_mail = inbox.expect(contact)
        body = {
            "company_name": "Bench Corp",
            "contact_email": contact,
            "items": [SERVICE | {"expires_on": expires_on}],
        }
        clicked = time.perf_counter()
        (await http.post("/v1/orders", json=body, headers=AUTH)).raise_for_status()
        code, arrived = await asyncio.wait_for(link_mail, timeout=120)
        waits["order_to_link"].append(arrived - clicked)

        async def status() -> str:
            state: dict[str, Any] = (await http.get(f"/v1/activations/{code}")).json()
            return str(state["status"])

        verify_mail = inbox.expect(it)
        clicked = time.perf_counter()
        (await http.post(f"/v1/activations/{code}/account", json={"email": it})).raise_for_status()
        token, arrived = await asyncio.wait_for(verify_mail, timeout=120)
        waits["verification_to_mail"].append(arrived - clicked)

        clicked = time.perf_counter()
        confirmed = await http.post("/v1/email-verifications/confirm", json={"token": token})
        confirmed.raise_for_status()
        await until(status, "awaiting_agreements")
        waits["confirm_to_agreements"].append(time.perf_counter() - clicked)

        clicked = time.perf_counter()
        accepted = await http.post(
            f"/v1/activations/{code}/agreements", json={"agreements": AGREEMENTS}
        )
        accepted.raise_for_status()
        await until(status, "activated")
        waits["continue_to_success"].append(time.perf_counter() - clicked)

    await drive(n, c, one)
    return waits


async def baseline_waits(
    client: Client, task_queue: str, n: int, c: int, doorbell: Doorbell
) -> Waits:
    waits: Waits = {step: [] for step in STEPS}
    run = uuid.uuid4().hex[:8]

    async def one(i: int) -> None:
        order_id = f"activation-{run}-{i}"
        link_out = doorbell.expect(order_id)
        clicked = time.perf_counter()
        handle: WorkflowHandle[Any, Any] = await start_baseline(
            client,
            BaselineActivationWorkflow.run,
            BaselineActivationWorkflow.describe,
            order_id,
            task_queue,
        )
        _, rang = await asyncio.wait_for(link_out, timeout=120)
        waits["order_to_link"].append(rang - clicked)

        async def status() -> str:
            return str(await handle.query(BaselineActivationWorkflow.status))

        verification_id = f"baseline-signup-{run}-{i}"
        link_out = doorbell.expect(verification_id)
        clicked = time.perf_counter()
        await handle.execute_update(BaselineActivationWorkflow.create_account, verification_id)
        _, rang = await asyncio.wait_for(link_out, timeout=120)
        waits["verification_to_mail"].append(rang - clicked)

        child: WorkflowHandle[BaselineWorkflow, str] = client.get_workflow_handle_for(
            BaselineWorkflow.run, verification_id
        )
        clicked = time.perf_counter()
        await child.execute_update(BaselineWorkflow.confirm, "0" * 64)
        await until(status, "awaiting_agreements")
        waits["confirm_to_agreements"].append(time.perf_counter() - clicked)

        clicked = time.perf_counter()
        await handle.execute_update(BaselineActivationWorkflow.accept_agreements)
        await until(status, "activated")
        waits["continue_to_success"].append(time.perf_counter() - clicked)
        await handle.result()

    await drive(n, c, one)
    return waits


def compared(product: Waits, baseline: Waits) -> dict[str, dict[str, float]]:
    """By step: p50 and p99 of each (ms), and whether the product's p50 is within 1.5 times
    the floor's plus 50 ms (the target at concurrency 1)."""
    table = {}
    for step in STEPS:
        ours, floor = pct(product[step], 0.5), pct(baseline[step], 0.5)  # ms
        table[step] = {
            "p50_ms": round(ours, 1),
            "p99_ms": round(pct(product[step], 0.99), 1),
            "floor_p50_ms": round(floor, 1),
            "floor_p99_ms": round(pct(baseline[step], 0.99), 1),
            "within_target": ours <= 1.5 * floor + 50,
        }
    return table


async def customer_waits(
    http: LeanClient,
    inbox: Inbox,
    bare: tuple[Client, str, Doorbell],
    activations: int,
    concurrency: int,
) -> dict[str, Any]:
    """The product's waits and the bare program's (its client, task queue and doorbell): alone
    (concurrency 1), then `concurrency` at a time."""
    client, queue, doorbell = bare
    report = {}
    for c in sorted({1, concurrency}):
        n = max(2 * c, min(activations, 20 * c))
        progress(f"the customer's waits: {n} activations, concurrency {c}")
        product = await product_waits(http, inbox, f"waits-{c}", n, c)
        floor = await baseline_waits(client, queue, n, c, doorbell)
        report[f"c{c}"] = compared(product, floor)
    return report
