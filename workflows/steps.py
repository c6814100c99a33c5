"""How the flows run their steps: one timeout and retry policy for database steps, business
refusals handed back as the activity's own ApplicationError (so its stable type reaches the
caller), and mail steps that give up without failing the flow."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError, ApplicationError

with workflow.unsafe.imports_passed_through():
    from activities.mail import PERMANENT_MAIL_ERRORS
    from workflows.search_attributes import ACTIVATION_PROBLEM

# Transient failures (database down) are retried until an operator fixes them; business
# failures are non-retryable and end the step at once.
RETRY = RetryPolicy(initial_interval=timedelta(seconds=1), maximum_interval=timedelta(minutes=1))
STEP_TIMEOUT = timedelta(seconds=30)
STEP_TIMED_OUT = "step_timed_out"
RECORD_WAIT = timedelta(seconds=30)
# How long a link's action waits for the link being sent (see `link_known`).
LINK_SETTLE = timedelta(seconds=30)
# A refused address will not change on retry; anything else is retried until the deadline.
MAIL_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=1),
    maximum_interval=timedelta(minutes=1),
    non_retryable_error_types=PERMANENT_MAIL_ERRORS,
)


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


async def send_mail(
    activity: Callable[..., Awaitable[Any]], arg: Any, *, what: str, deadline: timedelta
) -> Any | None:
    """Run one mail activity; a mail that cannot go out by `deadline` (or is refused) is
    reported in the flow's details and the log, and the flow goes on (returns None)."""
    try:
        return await workflow.execute_activity_method(
            activity,
            arg,
            start_to_close_timeout=STEP_TIMEOUT,
            schedule_to_close_timeout=max(deadline, STEP_TIMEOUT),
            retry_policy=MAIL_RETRY,
        )
    except ActivityError as err:
        mail_not_sent(err, f"The {what} could not be sent.")
        return None


def mail_not_sent(err: ActivityError, details: str) -> None:
    """A mail step gave up (refused, unbuildable, rate-limited, or out of time): the flow goes on,
    and operators find it by `ActivationProblem` (the failure's type) and its details."""
    cause = err.cause
    problem = (cause.type if isinstance(cause, ApplicationError) else None) or "mail_not_sent"
    workflow.logger.warning("%s (%s)", details, problem)
    workflow.set_current_details(details)
    # Flows that failed a mail before this attribute existed replay without it.
    if workflow.patched("activation-problem-attribute"):
        workflow.upsert_search_attributes([ACTIVATION_PROBLEM.value_set(problem)])


async def link_known(known: Callable[[], bool], sending: Callable[[], bool]) -> bool:
    """Whether a link's token hash is one this flow sent. A link's mail can arrive before its
    send is recorded here: while a link is being sent, wait for it (LINK_SETTLE at most)."""
    if known():
        return True
    try:
        await workflow.wait_condition(lambda: not sending(), timeout=LINK_SETTLE)
    except TimeoutError:
        pass
    return known()
