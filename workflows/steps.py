"""How the flows run their database steps: one timeout and retry policy, and business refusals
handed back as the activity's own ApplicationError (so its stable type reaches the caller)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError, ApplicationError

# Transient failures (database down) are retried until an operator fixes them; business
# failures are non-retryable and end the step at once.
RETRY = RetryPolicy(initial_interval=timedelta(seconds=1), maximum_interval=timedelta(minutes=1))
STEP_TIMEOUT = timedelta(seconds=30)
STEP_TIMED_OUT = "step_timed_out"
RECORD_WAIT = timedelta(seconds=30)


async def wait_until_recorded(recorded: Callable[[], bool], error_type: str, what: str) -> None:
    """For the update sent with a start: answer only once the flow's first record is written,
    so the caller can rely on it; past RECORD_WAIT, ask the caller to repeat the request."""
    try:
        await workflow.wait_condition(recorded, timeout=RECORD_WAIT)
    except TimeoutError:
        raise ApplicationError(
            f"the {what} is not recorded yet; repeat the request shortly", type=error_type
        ) from None


async def run_step(
    activity: Callable[..., Awaitable[Any]], arg: Any, *, deadline: timedelta | None = None
) -> Any:
    """Run one activity method; past `deadline` (if any) it fails as `step_timed_out`."""
    try:
        return await workflow.execute_activity_method(
            activity,
            arg,
            start_to_close_timeout=STEP_TIMEOUT,
            schedule_to_close_timeout=deadline,
            retry_policy=RETRY,
        )
    except ActivityError as err:
        if isinstance(err.cause, ApplicationError):
            raise err.cause from None
        raise ApplicationError(
            f"a step did not complete in time ({err.cause})", type=STEP_TIMED_OUT
        ) from None
