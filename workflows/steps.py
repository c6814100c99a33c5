"""Running a flow's activities: one timeout and retry policy for its steps, a business refusal
handed back as the step's answer (its stable type reaches the caller), a step still failing at
its deadline failed as `step_timed_out`, the undo of a step sequence that fails for good, and
mail steps that give up without failing the flow and mark it for operators."""

from __future__ import annotations

from collections.abc import Awaitable
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any
from typing import TypeVar

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError
from temporalio.exceptions import ApplicationError
from temporalio.exceptions import RetryState
from temporalio.exceptions import is_cancelled_exception

with workflow.unsafe.imports_passed_through():
    from models.contracts.search_attributes import ACTIVATION_PROBLEM
    from models.errors import FlowProblem
    from models.errors import MailProblem
    from workflows.changes import PROBLEM_ATTRIBUTE
    from workflows.changes import taken

ArgT = TypeVar("ArgT")
ResultT = TypeVar("ResultT")
# An activity method (`Activities.step`), as the SDK types it: its argument, its answer.
Step = Callable[[Any, ArgT], Awaitable[ResultT]]

# Transient failures (database down) are retried until an operator fixes them; business
# failures are non-retryable and end the step at once.
RETRY = RetryPolicy(initial_interval=timedelta(seconds=1), maximum_interval=timedelta(minutes=1))
STEP_TIMEOUT = timedelta(seconds=30)
# A refused, unbuildable or rate-limited mail will not change on retry; anything else is
# retried until the deadline, backing off: a retry may send the same message again.
MAIL_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=5),
    maximum_interval=timedelta(minutes=5),
    non_retryable_error_types=[problem.value for problem in MailProblem],
)
# A mail server may take 10 minutes to accept a message (RFC 5321): a send may last that long,
# heartbeating, so a lost worker is still noticed within MAIL_HEARTBEAT.
MAIL_STEP_TIMEOUT = timedelta(minutes=12)
MAIL_HEARTBEAT = timedelta(seconds=30)


@dataclass(frozen=True)
class Calls:
    """The timeouts of a step that calls another system (a vendor's backend): one attempt may
    take `timeout`, and a lost worker is noticed within `heartbeat`."""

    timeout: timedelta
    heartbeat: timedelta


async def run_step(
    activity: Step[ArgT, ResultT],
    arg: ArgT,
    *,
    deadline: timedelta | None = None,
    calls: Calls | None = None,
) -> ResultT:
    """Run one activity method; past `deadline` (if any) it fails as `step_timed_out`. A step
    that `calls` another system has the time that needs, and heartbeats meanwhile."""
    try:
        return await workflow.execute_activity_method(
            activity,
            arg,
            start_to_close_timeout=calls.timeout if calls else STEP_TIMEOUT,
            heartbeat_timeout=calls.heartbeat if calls else None,
            schedule_to_close_timeout=deadline,
            retry_policy=RETRY,
        )
    except ActivityError as err:
        # A business refusal is the answer; a step still failing (or hanging) when its time
        # ran out has timed out, whatever its last error was.
        if isinstance(err.cause, ApplicationError) and err.retry_state != RetryState.TIMEOUT:
            raise err.cause from None
        raise ApplicationError(
            f"a step did not complete in time ({err.cause})", type=FlowProblem.STEP_TIMED_OUT
        ) from None


class Undo:
    """The compensations of the steps done so far, run newest first when a later one fails."""

    def __init__(self) -> None:
        self._compensations: list[tuple[Step[Any, Any], Any, Calls | None]] = []

    def push(self, compensation: Step[ArgT, Any], arg: ArgT, *, calls: Calls | None = None) -> None:
        self._compensations.append((compensation, arg, calls))

    async def run(self) -> None:
        while self._compensations:
            compensation, arg, calls = self._compensations.pop()
            await run_step(compensation, arg, calls=calls)


async def run_with_compensation(
    steps: list[tuple[Step[ArgT, Any], Step[ArgT, Any]]], arg: ArgT, *, deadline: timedelta
) -> ApplicationError | None:
    """Run each (step, its undo) in order; a step failing for good (or past `deadline`) undoes
    the steps before it, newest first, and is returned. None: every step is done."""
    undo = Undo()
    failure = await run_undoable(steps, arg, undo, deadline=deadline)
    if failure is not None:
        await undo_after(failure, undo)
    return failure


async def run_undoable(
    steps: list[tuple[Step[ArgT, Any], Step[ArgT, Any]]],
    arg: ArgT,
    undo: Undo,
    *,
    deadline: timedelta,
) -> ApplicationError | None:
    """Run each (step, its undo) in order, each undo pushed on `undo`, until one fails for good
    (or past `deadline`): that failure is returned, and undoing is the caller's."""
    try:
        for step, compensation in steps:
            undo.push(compensation, arg)  # first: a step that timed out may still have committed
            await run_step(step, arg, deadline=deadline)
    except ApplicationError as failure:
        return failure
    return None


async def undo_after(failure: ApplicationError, undo: Undo) -> None:
    workflow.logger.warning("a step failed for good, undoing the others: %s", failure.message)
    await undo.run()


async def send_mail(
    activity: Step[ArgT, ResultT], arg: ArgT, *, details: str, deadline: timedelta
) -> ResultT | None:
    """Run one mail activity; a mail that cannot go out by `deadline` (or is refused) is
    reported (see `mail_not_sent`) and the flow goes on (returns None). A cancelled flow's
    send is cancelled with it."""
    try:
        return await workflow.execute_activity_method(
            activity,
            arg,
            start_to_close_timeout=MAIL_STEP_TIMEOUT,
            heartbeat_timeout=MAIL_HEARTBEAT,
            schedule_to_close_timeout=max(deadline, STEP_TIMEOUT),
            retry_policy=MAIL_RETRY,
        )
    except ActivityError as err:
        if is_cancelled_exception(err):
            raise
        mail_not_sent(err, details)
        return None


def report_problem(problem: str) -> None:
    """What an operator should look at, as the flow's `ActivationProblem` (the Web UI finds it)."""
    workflow.upsert_search_attributes([ACTIVATION_PROBLEM.value_set(problem)])


def mail_not_sent(err: ActivityError, details: str) -> None:
    """A mail step gave up (refused, unbuildable, rate-limited, or out of time): the flow goes on,
    and operators find it by `ActivationProblem` (the failure's type) and its details."""
    cause = err.cause
    problem = (cause.type if isinstance(cause, ApplicationError) else None) or "mail_not_sent"
    workflow.logger.warning("%s (%s)", details, problem)
    workflow.set_current_details(details)
    # Flows that failed a mail before this attribute existed replay without it.
    if taken(PROBLEM_ATTRIBUTE):
        report_problem(problem)
