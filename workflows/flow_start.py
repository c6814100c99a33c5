"""Starting flows, the same way for every flow (docs/architecture.md): update-with-start with
the flow's search attributes and summary (`start_flow`), as each flow declares it (`FlowStart`);
and child flows, found by operators like any other (`start_child_flow`, `cancel_child`)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from collections.abc import Callable
from enum import StrEnum
from typing import Any
from typing import Generic
from typing import TypeVar

from temporalio import workflow
from temporalio.client import Client
from temporalio.client import WithStartWorkflowOperation
from temporalio.common import SearchAttributePair
from temporalio.common import TypedSearchAttributes
from temporalio.common import WorkflowIDConflictPolicy
from temporalio.common import WorkflowIDReusePolicy
from temporalio.exceptions import ChildWorkflowError

with workflow.unsafe.imports_passed_through():
    from workflows.search_attributes import ACTIVATION_FLOW
    from workflows.search_attributes import ACTIVATION_STATUS
    from workflows.search_attributes import BUSINESS_ID

SelfT = TypeVar("SelfT")
InputT = TypeVar("InputT")
StateT = TypeVar("StateT")


async def start_flow(
    client: Client,
    run: Callable[[SelfT, Any], Awaitable[Any]],
    describe: workflow.UpdateMethodMultiParam[[SelfT], StateT],
    input: Any,
    *,
    flow_id: str,
    task_queue: str,
    kind: str,
    status: str,
    summary: str,
    business_id: str | None = None,
    conflict: WorkflowIDConflictPolicy = WorkflowIDConflictPolicy.USE_EXISTING,
    reuse: WorkflowIDReusePolicy = WorkflowIDReusePolicy.ALLOW_DUPLICATE,
) -> StateT:
    """Start the flow (or join it, by `conflict`) and return its state from `describe`,
    atomically. Operators find it by kind, status and Business, and read `summary`."""
    attributes = [
        SearchAttributePair(ACTIVATION_FLOW, kind),
        SearchAttributePair(ACTIVATION_STATUS, status),
    ]
    if business_id:
        attributes.append(SearchAttributePair(BUSINESS_ID, business_id))
    operation = WithStartWorkflowOperation(
        run,
        input,
        id=flow_id,
        task_queue=task_queue,
        id_conflict_policy=conflict,
        id_reuse_policy=reuse,
        search_attributes=TypedSearchAttributes(attributes),
        static_summary=summary,
    )
    return await client.execute_update_with_start_workflow(
        describe, start_workflow_operation=operation
    )


class FlowStart(Generic[SelfT, InputT, StateT]):
    """How the API starts one kind of flow (`start_flow`): its kind and first status, its summary,
    its ID (`flow_id` of the input, or the caller's), and what a start meets where a flow has that
    ID: by default it joins a running one and is refused once that one has closed."""

    def __init__(
        self,
        run: Callable[[SelfT, InputT], Awaitable[Any]],
        describe: workflow.UpdateMethodMultiParam[[SelfT], StateT],
        kind: str,
        status: StrEnum | str,
        summary: Callable[[InputT], str],
        flow_id: Callable[[InputT], str] | None = None,
        *,
        conflict: WorkflowIDConflictPolicy = WorkflowIDConflictPolicy.USE_EXISTING,
        reuse: WorkflowIDReusePolicy = WorkflowIDReusePolicy.REJECT_DUPLICATE,
    ) -> None:
        self.run, self.describe, self.kind, self.status = run, describe, kind, str(status)
        self.summary, self.flow_id, self.conflict, self.reuse = summary, flow_id, conflict, reuse

    async def __call__(
        self, client: Client, input: InputT, *, task_queue: str, flow_id: str | None = None
    ) -> StateT:
        """Start the flow (or join it) and return its state, atomically."""
        if flow_id is None:
            if self.flow_id is None:
                raise TypeError("this flow's ID is the caller's: pass flow_id")
            flow_id = self.flow_id(input)
        return await start_flow(
            client,
            self.run,
            self.describe,
            input,
            flow_id=flow_id,
            task_queue=task_queue,
            kind=self.kind,
            status=self.status,
            summary=self.summary(input),
            business_id=getattr(input, "business_id", None),
            conflict=self.conflict,
            reuse=self.reuse,
        )


async def start_child_flow(
    run: Callable[[SelfT, Any], Awaitable[StateT]],
    input: Any,
    *,
    flow_id: str,
    kind: str,
    status: str,
    summary: str,
    business_id: str | None = None,
    outlives_parent: bool = False,
) -> workflow.ChildWorkflowHandle[SelfT, StateT]:
    """Start a flow as a child, found by operators like any other (by its Business too, when
    it has one). By default it is cancelled when its parent ends, so a parent never leaves a
    live link behind; `outlives_parent` (a license's lifecycle) lets it run on."""
    policy = workflow.ParentClosePolicy.REQUEST_CANCEL
    if outlives_parent:
        policy = workflow.ParentClosePolicy.ABANDON
    attributes = [
        SearchAttributePair(ACTIVATION_FLOW, kind),
        SearchAttributePair(ACTIVATION_STATUS, status),
    ]
    if business_id:
        attributes.append(SearchAttributePair(BUSINESS_ID, business_id))
    return await workflow.start_child_workflow(
        run,
        input,
        id=flow_id,
        parent_close_policy=policy,
        search_attributes=TypedSearchAttributes(attributes),
        static_summary=summary,
    )


async def cancel_child(child: workflow.ChildWorkflowHandle[Any, Any]) -> None:
    """Cancel a child flow and wait for it to close (it records itself as cancelled)."""
    if child.done():
        return
    child.cancel()
    try:
        await child
    except (ChildWorkflowError, asyncio.CancelledError):
        pass
