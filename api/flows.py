"""Talking to flows: reading a flow's published state (each workflow keeps its public state in
its memo, so a read is one `describe` on the Temporal server, no worker, no replay, running or
finished), and turning a flow's business refusal into an HTTP error."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from temporalio.client import WorkflowHandle, WorkflowUpdateFailedError
from temporalio.exceptions import ApplicationError
from temporalio.service import RPCError, RPCStatusCode

from api.errors import ApiError, ErrorCode


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


def refusal(
    err: WorkflowUpdateFailedError, errors: Mapping[str, tuple[int, ErrorCode]]
) -> ApiError:
    """The flow's refusal (an ApplicationError of a known type) as a clear 4xx, or a 503 to
    repeat; anything else is raised again: it is a defect to see, not an answer to give."""
    cause = err.cause
    if not isinstance(cause, ApplicationError) or (cause.type or "") not in errors:
        raise err
    http_status, code = errors[cause.type or ""]
    headers = {"Retry-After": "5"} if http_status == 503 else None
    return ApiError(http_status, code, cause.message, headers=headers)
