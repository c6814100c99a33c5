"""The tests' Temporal side: the keys every test flow runs encrypted with, the flows a test
started (ended afterwards), and the check that none keeps personal data readable."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import re
from typing import Any

from temporalio.client import WorkflowExecutionStatus
from temporalio.client import WorkflowHandle
from temporalio.client import WorkflowUpdateFailedError
from temporalio.service import RPCError
from temporalio.testing import WorkflowEnvironment

# Every test's flows run encrypted, as in production (docs/security.md): the newest key first.
TEST_PAYLOAD_KEYS = [
    "test-2:" + base64.b64encode(b"2" * 32).decode(),
    "test-1:" + base64.b64encode(b"1" * 32).decode(),
]


TEST_OPERATOR_KEY = "test-operator-key-of-32-characters-or-more"


TEST_CODEC_KEY = "test-codec-key-of-32-characters-or-more-too"


# Flows a test left running would keep the shared time-skipping clock locked for the next tests.
STARTED_FLOWS: list[WorkflowHandle[Any, Any]] = []


# How each kind of flow is ended early: verifications and activations cancel, tokens revoke.
ENDING_UPDATES = ("cancel", "revoke")


async def end_started_flows(env: WorkflowEnvironment) -> None:
    """Cancel what is still pending and let each flow finish on its own (a terminate while an
    activity is in flight leaves the test server's clock locked); then check that the server
    holds no personal data of the flow or of its children. No time passes meanwhile: a
    time-skipping server left idle while a result is awaited jumps its clock by years, and later
    tests' dates would lie in its past."""
    with env.auto_time_skipping_disabled():
        while STARTED_FLOWS:
            handle = STARTED_FLOWS.pop()
            await _end(handle)
            await assert_no_personal_data(handle)


# What the tests use as personal data: full addresses (a masked one, `a***@x.example`, is no
# longer one), company names, display names and instance descriptions.
PERSONAL_DATA = re.compile(
    r"[a-z0-9._%+-]+@[a-z0-9-]+\.(?:example|com)\b|Acme Corp|Grace Hopper|Taipei office"
    r"|Lab appliances|Site 1",
    re.IGNORECASE,
)


def stored_text(history_json: str) -> str:
    """A history's JSON plus every payload's base64 data decoded: what anyone who can read the
    Temporal server or its database sees."""
    found = [history_json]

    def visit(node: Any) -> None:
        if isinstance(node, dict):
            for key, value in node.items():
                if key == "data" and isinstance(value, str):
                    found.append(base64.b64decode(value).decode("utf-8", "replace"))
                else:
                    visit(value)
        elif isinstance(node, list):
            for item in node:
                visit(item)

    visit(json.loads(history_json))
    return "\n".join(found)


async def assert_no_personal_data(handle: WorkflowHandle[Any, Any]) -> None:
    """No personal data readable in the history (memos and summaries included) of a flow and
    of the child flows it started (docs/security.md)."""
    history = await handle.fetch_history()
    readable = PERSONAL_DATA.findall(stored_text(history.to_json()))
    assert not readable, f"{handle.id} keeps personal data readable in Temporal: {readable[:3]}"
    for event in history.events:
        if event.HasField("child_workflow_execution_started_event_attributes"):
            child = event.child_workflow_execution_started_event_attributes.workflow_execution
            await assert_no_personal_data(
                handle._client.get_workflow_handle(child.workflow_id, run_id=child.run_id)
            )


async def _end(handle: WorkflowHandle[Any, Any]) -> None:
    await _end_flow(handle)
    # Children that outlive their parent (a license's lifecycle) would keep timers running on
    # the shared time-skipping clock: they end with the test too.
    history = await handle.fetch_history()
    for event in history.events:
        if event.HasField("child_workflow_execution_started_event_attributes"):
            child = event.child_workflow_execution_started_event_attributes.workflow_execution
            running = handle._client.get_workflow_handle(child.workflow_id, run_id=child.run_id)
            if (await running.describe()).status == WorkflowExecutionStatus.RUNNING:
                # It may complete meanwhile (a revoked code's flow closing): then it is done.
                with contextlib.suppress(RPCError):
                    await running.terminate("test finished")


async def _end_flow(handle: WorkflowHandle[Any, Any]) -> None:
    try:
        for ending in ENDING_UPDATES:
            if (await handle.describe()).status != WorkflowExecutionStatus.RUNNING:
                return
            with contextlib.suppress(WorkflowUpdateFailedError, RPCError):
                await handle.execute_update(ending)
        await asyncio.wait_for(handle.result(), timeout=10)
    except Exception:
        if (await handle.describe()).status == WorkflowExecutionStatus.RUNNING:
            await handle.terminate("test finished")
