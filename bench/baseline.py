"""The bare Temporal program with exactly the email-verification flow's shape and nothing else:
a start with an update answered at once (update-with-start), one regular activity, a wait with a
timer (the link's expiry), one update, one local activity, result. No API, database or SMTP.
Run as its own worker process."""

from __future__ import annotations

import argparse
import asyncio
import signal
from datetime import timedelta

from temporalio import activity, workflow
from temporalio.client import Client
from temporalio.common import RetryPolicy
from temporalio.worker import Worker
from temporalio.worker.workflow_sandbox import SandboxedWorkflowRunner, SandboxRestrictions

RETRY = RetryPolicy(maximum_interval=timedelta(seconds=10))


@activity.defn(name="baseline.send")
async def send(flow_id: str) -> str:
    return "0" * 64


@activity.defn(name="baseline.record")
async def record(flow_id: str) -> None:
    return None


@workflow.defn
class BaselineWorkflow:
    def __init__(self) -> None:
        self._hash: str | None = None
        self._confirmed = False

    @workflow.run
    async def run(self, flow_id: str) -> str:
        self._hash = await workflow.execute_activity(
            send, flow_id, start_to_close_timeout=timedelta(seconds=30), retry_policy=RETRY
        )
        await workflow.wait_condition(lambda: self._confirmed, timeout=timedelta(hours=24))
        await workflow.execute_local_activity(
            record, flow_id, start_to_close_timeout=timedelta(seconds=30), retry_policy=RETRY
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


async def serve(address: str, task_queue: str) -> None:
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
        workflows=[BaselineWorkflow],
        activities=[send, record],
        workflow_runner=runner,
    ):
        await stop.wait()


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--address", required=True)
    parser.add_argument("--task-queue", required=True)
    args = parser.parse_args()
    # Run the definitions from `bench.baseline`, not `__main__`: the sandbox passes modules
    # through by name.
    from bench import baseline

    asyncio.run(baseline.serve(args.address, args.task_queue))
