"""Bare Temporal programs with exactly the shape of the product's flows and nothing else: no API,
database, SMTP or codec. Run as their own worker process. In place of the link mail, the bare
link activity rings the load generator's doorbell (bench/doorbell.py), its cue to confirm.

- `BaselineWorkflow`, the email verification's shape: a start with an update answered at once
  (update-with-start), one regular activity, a wait with a timer (the link's expiry), one update,
  one local activity, result.
- `BaselineActivationWorkflow`, the license activation of a new customer (one service license):
  update-with-start answered once the order is recorded; regular activities for the order and
  the link mail; a wait with a timer; an update that starts the sign-up's child (a
  `BaselineWorkflow`, confirmed by its own update); two regular activities for the account; a
  second wait with a timer; an update running one activity (the acceptances); eight regular
  activities (matching, the four provisioning steps and the call to the product's backend,
  closing the order) and a lifecycle child
  that outlives it (a timer); the confirmation mail's activity; result.

With `--smtp-port` and `--database`, the email verification's activities do the product's external
work, written plainly (`SameWork`): the link mail is composed (text and HTML, a fresh token),
stored in an outbox row, delivered over SMTP and marked sent; the outcome is a row. That baseline
says what the product costs over the same work; the bare one, over Temporal alone.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import secrets
import signal
from collections.abc import Awaitable
from datetime import UTC
from datetime import datetime
from datetime import timedelta
from email.message import EmailMessage
from typing import Any

import aiosmtplib
import uvloop
from sqlalchemy import Column
from sqlalchemy import DateTime
from sqlalchemy import MetaData
from sqlalchemy import String
from sqlalchemy import Table
from sqlalchemy import Text
from sqlalchemy import insert
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.ext.asyncio import create_async_engine
from temporalio import activity
from temporalio import workflow
from temporalio.client import Client
from temporalio.common import RetryPolicy
from temporalio.worker import Worker
from temporalio.worker.workflow_sandbox import SandboxedWorkflowRunner
from temporalio.worker.workflow_sandbox import SandboxRestrictions

from bench.doorbell import Bell

RETRY = RetryPolicy(maximum_interval=timedelta(seconds=10))


class Bare:
    """`send` and `record` doing nothing, but for the doorbell `send` rings as the link "goes
    out": the load generator's cue to confirm (bench/doorbell.py)."""

    def __init__(self, bell: Bell) -> None:
        self._bell = bell

    @activity.defn(name="baseline.send")
    async def send(self, flow_id: str) -> str:
        self._bell.ring(flow_id)
        return "0" * 64

    @activity.defn(name="baseline.record")
    async def record(self, flow_id: str) -> None:
        return None


METADATA = MetaData()
OUTBOX = Table(
    "outbox",
    METADATA,
    Column("key", String(80), primary_key=True),
    Column("recipient", String(200)),
    Column("body", Text),
    Column("created_at", DateTime),
    Column("sent_at", DateTime),
)
OUTCOMES = Table(
    "outcomes",
    METADATA,
    Column("flow_id", String(80), primary_key=True),
    Column("status", String(20)),
    Column("finished_at", DateTime),
)
SMTP_CONNECTIONS = 8  # kept open, as the product's worker keeps its SMTP connections


class SameWork:
    """`send` and `record` doing the product's external work: the mail goes to
    `<flow_id>@example.com`, carrying `token=<token>`; the workflow gets the token's hash."""

    def __init__(self, engine: AsyncEngine, smtp_port: int) -> None:
        self._engine = engine
        self._smtp: asyncio.Queue[aiosmtplib.SMTP] = asyncio.Queue()
        for _ in range(SMTP_CONNECTIONS):
            self._smtp.put_nowait(aiosmtplib.SMTP(hostname="127.0.0.1", port=smtp_port))

    @activity.defn(name="baseline.send")
    async def send(self, flow_id: str) -> str:
        token = secrets.token_urlsafe(32)
        link = f"http://127.0.0.1/verify?token={token}"
        mail = EmailMessage()
        mail["From"] = "Activation <no-reply@example.com>"
        mail["To"] = f"{flow_id}@example.com"
        mail["Subject"] = "Verify your email address"
        mail["Message-ID"] = f"<{hashlib.sha256(flow_id.encode()).hexdigest()[:40]}@example.com>"
        mail.set_content(f"Hello,\n\nconfirm your address: {link}\n\nIt expires in 24 hours.\n")
        mail.add_alternative(f'<p>Hello,</p><p><a href="{link}">Verify</a></p>', subtype="html")
        key = f"link-{flow_id}"
        async with self._engine.begin() as db:
            await db.execute(
                insert(OUTBOX).values(
                    key=key, recipient=mail["To"], body=str(mail), created_at=datetime.now(UTC)
                )
            )
        smtp = await self._smtp.get()
        try:
            if not smtp.is_connected:
                await smtp.connect()
            await smtp.send_message(mail)
        finally:
            self._smtp.put_nowait(smtp)
        async with self._engine.begin() as db:
            await db.execute(
                update(OUTBOX)
                .where(OUTBOX.c.key == key)
                .values(sent_at=datetime.now(UTC), body=None)
            )
        return hashlib.sha256(token.encode()).hexdigest()

    @activity.defn(name="baseline.record")
    async def record(self, flow_id: str) -> None:
        async with self._engine.begin() as db:
            await db.execute(
                insert(OUTCOMES).values(
                    flow_id=flow_id, status="verified", finished_at=datetime.now(UTC)
                )
            )

    @classmethod
    async def open(cls, database: str, smtp_port: int) -> SameWork:
        engine = create_async_engine(f"sqlite+aiosqlite:///{database}")
        async with engine.begin() as db:
            await db.exec_driver_sql("PRAGMA journal_mode=WAL")  # as the product's SQLite
            await db.run_sync(METADATA.create_all)
        return cls(engine, smtp_port)


@activity.defn(name="baseline.step")
async def step(name: str) -> str:
    return name


@workflow.defn
class BaselineWorkflow:
    def __init__(self) -> None:
        self._hash: str | None = None
        self._confirmed = False

    @workflow.run
    async def run(self, flow_id: str) -> str:
        self._hash = await workflow.execute_activity_method(
            Bare.send, flow_id, start_to_close_timeout=timedelta(seconds=30), retry_policy=RETRY
        )
        await workflow.wait_condition(lambda: self._confirmed, timeout=timedelta(hours=24))
        await workflow.execute_local_activity_method(
            Bare.record, flow_id, start_to_close_timeout=timedelta(seconds=30), retry_policy=RETRY
        )
        return "verified"

    @workflow.update
    def describe(self) -> str:
        """Sent with the start, as the product's flows answer their start."""
        return "pending"

    @workflow.update
    async def confirm(self, token_hash: str) -> str:
        await workflow.wait_condition(lambda: self._hash is not None)
        self._confirmed = token_hash == self._hash
        return "verified" if self._confirmed else "invalid"


def run_step(name: str) -> Awaitable[str]:
    return workflow.execute_activity(
        step, name, start_to_close_timeout=timedelta(seconds=30), retry_policy=RETRY
    )


PROVISIONING = (
    "match",
    "create_instances",
    "take_over",
    "add_credits",
    "assign_addons",
    "provision_in_product",
)
LINK_EXPIRY = timedelta(days=30)
RECORD_WAIT = timedelta(seconds=10)  # the product's start waits this long for its record


@workflow.defn
class BaselineLifecycleWorkflow:
    @workflow.run
    async def run(self, license_id: str) -> str:
        await workflow.sleep(timedelta(days=365))
        return "expired"


@workflow.defn
class BaselineActivationWorkflow:
    def __init__(self) -> None:
        self._status = "recording"
        self._child: workflow.ChildWorkflowHandle[Any, str] | None = None

    @workflow.run
    async def run(self, order_id: str) -> str:
        await run_step("record_order")
        self._status = "sending"
        # The link "goes out" as the verification's does: it rings the load generator.
        await workflow.execute_activity_method(
            Bare.send, order_id, start_to_close_timeout=timedelta(seconds=30), retry_policy=RETRY
        )
        self._status = "awaiting_account"
        await workflow.wait_condition(
            lambda: self._child is not None and self._child.done(), timeout=LINK_EXPIRY
        )
        assert self._child is not None
        await self._child
        await run_step("find_primary_account")
        await run_step("create_primary_account")
        self._status = "awaiting_agreements"
        await workflow.wait_condition(lambda: self._status == "provisioning", timeout=LINK_EXPIRY)
        for name in PROVISIONING:
            await run_step(name)
        await run_step("close_order")
        self._status = "activated"
        await workflow.start_child_workflow(
            BaselineLifecycleWorkflow.run,
            order_id,
            id=f"lifecycle-{order_id}",
            parent_close_policy=workflow.ParentClosePolicy.ABANDON,
        )
        await run_step("send_confirmation")
        return "activated"

    @workflow.update
    async def describe(self) -> str:
        """Sent with the start: answers once the order is recorded, as the product's does."""
        await workflow.wait_condition(lambda: self._status != "recording", timeout=RECORD_WAIT)
        return self._status

    @workflow.query
    def status(self) -> str:
        """What the customer's page would show (a query leaves nothing in the history)."""
        return self._status

    @workflow.update
    async def create_account(self, verification_id: str) -> str:
        # The customer acts on the mailed link: the link has gone out by then.
        await workflow.wait_condition(lambda: self._status == "awaiting_account")
        self._child = await workflow.start_child_workflow(
            BaselineWorkflow.run, verification_id, id=verification_id
        )
        return "verifying_email"

    @workflow.update
    async def accept_agreements(self) -> str:
        # The product's client polls the state until this step; here the update waits for it.
        await workflow.wait_condition(lambda: self._status == "awaiting_agreements")
        await run_step("record_acceptances")
        self._status = "provisioning"
        return self._status


@workflow.defn
class BaselineSeatsWorkflow:
    """An Activation Code's seats, as `LicenseCodeWorkflow` holds them: an update per
    activation takes a seat, records it and signs the file (two activities)."""

    @workflow.init
    def __init__(self, seats: int) -> None:
        self._room = seats
        self._taken: set[str] = set()

    @workflow.run
    async def run(self, seats: int) -> str:
        await workflow.sleep(timedelta(days=365))  # the end of the term
        return "expired"

    @workflow.update
    async def activate(self, fingerprint: str) -> str:
        self._taken.add(fingerprint)
        await run_step("record_installation")
        return await run_step("sign_license_file")

    @activate.validator
    def _seat_left(self, fingerprint: str) -> None:
        if len(self._taken) >= self._room:
            raise ValueError("no seat left")


async def serve(address: str, task_queue: str, work: Bare | SameWork) -> None:
    client = await Client.connect(address)
    stop = asyncio.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        asyncio.get_running_loop().add_signal_handler(sig, stop.set)
    # The same sandbox setting as the product's worker, so the ratio measures the product.
    runner = SandboxedWorkflowRunner(
        restrictions=SandboxRestrictions.default.with_passthrough_all_modules()
    )
    async with Worker(
        client,
        task_queue=task_queue,
        workflows=[
            BaselineWorkflow,
            BaselineActivationWorkflow,
            BaselineLifecycleWorkflow,
            BaselineSeatsWorkflow,
        ],
        activities=[work.send, work.record, step],
        workflow_runner=runner,
    ):
        await stop.wait()


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--address", required=True)
    parser.add_argument("--task-queue", required=True)
    parser.add_argument("--smtp-port", type=int, help="with --database: do the same work")
    parser.add_argument("--database", help="a SQLite file for the same work's rows")
    parser.add_argument("--doorbell-port", type=int, help="without --database: the doorbell's")
    args = parser.parse_args()
    # Run the definitions from `bench.baseline`, not `__main__`: the sandbox passes modules
    # through by name.
    from bench import baseline

    # The product's worker runs on uvloop too: the ratio measures the product, not the loop.
    async def main() -> None:
        if args.database:
            work: baseline.Bare | baseline.SameWork = await baseline.SameWork.open(
                args.database, args.smtp_port
            )
        else:
            work = baseline.Bare(Bell(args.doorbell_port))
        await baseline.serve(args.address, args.task_queue, work)

    uvloop.run(main())
