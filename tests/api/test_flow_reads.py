"""Reading a flow's published state (api/flow_clients): a flow that has not published yet (a
child in its first moments) reads as not there, never as an error. On the dev server: a flow no
worker ever picks up would hold the time-skipping server's clock for good."""

from __future__ import annotations

import pytest
from temporalio.testing import WorkflowEnvironment

from api.flow_clients import published_state

pytestmark = pytest.mark.asyncio


async def test_a_flow_that_has_not_published_yet_reads_as_not_there(
    dev_env: WorkflowEnvironment,
) -> None:
    handle = await dev_env.client.start_workflow(
        "EmailVerificationWorkflow",
        id="email-verification-" + "a" * 24,
        task_queue="nobody-polls-this",  # its first task never runs: nothing is published
    )
    try:
        assert await published_state(handle) is None
    finally:
        await handle.terminate("test finished")
