"""Reading a flow's published state: each workflow keeps its public state in its memo, so a read
is one `describe` on the Temporal server (no worker, no replay), running or finished."""

from __future__ import annotations

from typing import Any

from temporalio.client import WorkflowHandle
from temporalio.service import RPCError, RPCStatusCode


async def published_state(handle: WorkflowHandle[Any, Any], memo_key: str) -> dict[str, Any] | None:
    """The memo entry as a plain dict (validated by the caller's pydantic model; much cheaper
    than the converter's dataclass typing), or None when there is no such flow."""
    try:
        description = await handle.describe()
    except RPCError as err:
        if err.status == RPCStatusCode.NOT_FOUND:
            return None
        raise
    published: dict[str, Any] = await description.memo_value(memo_key, type_hint=dict)
    return published
