"""Child flows: started by a flow, found by operators like any other, and cancelled with it
unless they are meant to outlive it."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from collections.abc import Callable
from typing import Any
from typing import TypeVar

from temporalio import workflow
from temporalio.common import SearchAttributePair
from temporalio.common import TypedSearchAttributes
from temporalio.exceptions import ChildWorkflowError

with workflow.unsafe.imports_passed_through():
    from models.contracts.search_attributes import ACTIVATION_FLOW
    from models.contracts.search_attributes import ACTIVATION_STATUS
    from models.contracts.search_attributes import BUSINESS_ID

SelfT = TypeVar("SelfT")
StateT = TypeVar("StateT")


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
