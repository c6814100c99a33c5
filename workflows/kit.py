"""The flow kit: what every flow shares, written once (docs/architecture.md).

- Starting: `workflows/flow_start.py`.
- Publishing: the public state in the memo and the status in a search attribute (`publish`,
  `publish_status`), so reads are a `describe` on the server, no worker, no replay.
- Steps: one timeout and retry policy for database steps; business refusals handed back as the
  activity's own ApplicationError so its stable type reaches the caller (`run_step`). Mail steps
  that give up without failing the flow, and mark it for operators (`send_mail`).
- Serialising updates: one update at a time writes the flow's records (`Turns`).
- Links: the wait for a link still being sent (`link_known`), and for the first record an update
  sent with the start must see (`wait_until_recorded`).
- What the flows that wait for one person's answer by link share: `workflows/answer_by_link.py`.
"""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator
from collections.abc import Awaitable
from collections.abc import Callable
from contextlib import asynccontextmanager
from datetime import timedelta
from enum import StrEnum
from typing import Any
from typing import Generic
from typing import TypeVar

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError
from temporalio.exceptions import ApplicationError
from temporalio.exceptions import RetryState
from temporalio.exceptions import is_cancelled_exception
from temporalio.workflow import UpdateMethodMultiParam

with workflow.unsafe.imports_passed_through():
    from activities.mail import PERMANENT_MAIL_ERRORS
    from models.errors import DomainError
    from workflows.search_attributes import ACTIVATION_PROBLEM
    from workflows.search_attributes import ACTIVATION_STATUS

SelfT = TypeVar("SelfT")
InputT = TypeVar("InputT")
StateT = TypeVar("StateT")
StatusT = TypeVar("StatusT", bound=StrEnum)

STATE_MEMO = "state"  # the memo key under which every flow publishes its state
# Transient failures (database down) are retried until an operator fixes them; business
# failures are non-retryable and end the step at once.
RETRY = RetryPolicy(initial_interval=timedelta(seconds=1), maximum_interval=timedelta(minutes=1))
STEP_TIMEOUT = timedelta(seconds=30)
STEP_TIMED_OUT = "step_timed_out"
RECORD_WAIT = timedelta(seconds=30)
# How long a link's action waits for the link being sent (see `link_known`).
LINK_SETTLE = timedelta(seconds=30)
# A refused, unbuildable or rate-limited mail will not change on retry; anything else is
# retried until the deadline, backing off: a retry may send the same message again.
MAIL_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=5),
    maximum_interval=timedelta(minutes=5),
    non_retryable_error_types=PERMANENT_MAIL_ERRORS,
)
# A mail server may take 10 minutes to accept a message (RFC 5321): a send may last that long,
# heartbeating, so a lost worker is still noticed within MAIL_HEARTBEAT.
MAIL_STEP_TIMEOUT = timedelta(minutes=12)
MAIL_HEARTBEAT = timedelta(seconds=30)


# -- publishing -------------------------------------------------------------------------------


def publish(state: Any) -> None:
    """Keep the public state in the memo: a status read is then a `describe` on the server,
    answered without a worker or a replay, however many flows are parked."""
    workflow.upsert_memo({STATE_MEMO: state})


def publish_status(status: str, state: Any) -> None:
    workflow.upsert_search_attributes([ACTIVATION_STATUS.value_set(status)])
    publish(state)


class Published(Generic[StatusT, StateT]):
    """A flow that publishes its state (`_state()`, its own) and its status as it moves."""

    _status: StatusT

    def _state(self) -> StateT:  # defined by each flow
        raise TypeError(f"{type(self).__name__} defines _state()")

    def _require_cancellable(self) -> None:  # defined by each flow that declares `cancel`
        raise TypeError(f"{type(self).__name__} defines _require_cancellable()")

    async def _cancel(self) -> StateT:
        """Withdrawn: by default it just reads cancelled (every flow's statuses have one)."""
        self._set_status(type(self._status)("cancelled"))
        return self._state()

    def _set_status(self, status: StatusT) -> None:
        self._status = status
        publish_status(status.value, self._state())

    def _publish(self) -> None:
        publish(self._state())


_NOTHING = object()


def state_of(state_type: type[StateT], flow: Any, **given: Any) -> StateT:
    """A flow's public state: each field as `given`, else the flow's own `_<field>`, else the
    field of its input (what it was started with), else the field's default."""
    values = {}
    for name in (field.name for field in dataclasses.fields(state_type)):  # type: ignore[arg-type]
        own = getattr(flow, f"_{name}", _NOTHING)
        if name in given:
            values[name] = given[name]
        elif own is not _NOTHING and not callable(own):
            values[name] = own
        elif hasattr(flow._input, name):
            values[name] = getattr(flow._input, name)
    return state_type(**values)


def state_query(state_type: type[StateT]) -> Callable[[Any], StateT]:
    """The `state` query of a flow whose state is `state_type`: a client decodes the answer by
    the type the handler declares, so each flow declares its own, written here once."""

    def state(self: Published[Any, StateT]) -> StateT:
        return self._state()

    state.__annotations__ = {"return": state_type}  # what Temporal reads at run time
    return workflow.query(state)


def state_update(
    name: str,
    state_type: type[StateT],
    handle: Callable[[Any], Awaitable[StateT]],
    validate: Callable[[Any], None] | None = None,
) -> UpdateMethodMultiParam[[Any], StateT]:
    """An update `name` without arguments that answers the flow's state (typed as
    `state_query`): `validate(flow)` may refuse it before it is accepted, then `handle(flow)`."""

    async def update(self: Any) -> StateT:
        return await handle(self)

    def validator(self: Any) -> None:
        if validate is not None:
            validate(self)

    # What Temporal reads at run time: the update's name, the concrete answer type, and `self`
    # unannotated on both (the validator's parameters must match the update's).
    update.__name__ = update.__qualname__ = name
    update.__annotations__, validator.__annotations__ = {"return": state_type}, {}
    defined = workflow.update(update)
    if validate is not None:
        defined.validator(validator)
    return defined


def cancel_update(state_type: type[StateT]) -> UpdateMethodMultiParam[[Any], StateT]:
    """The `cancel` update: refused unless the flow's `_require_cancellable` lets it, then the
    flow's `_cancel`."""
    return state_update(
        "cancel", state_type, lambda flow: flow._cancel(), lambda flow: flow._require_cancellable()
    )


# -- steps ------------------------------------------------------------------------------------


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
        # A business refusal is the answer; a step still failing (or hanging) when its time
        # ran out has timed out, whatever its last error was.
        if isinstance(err.cause, ApplicationError) and err.retry_state != RetryState.TIMEOUT:
            raise err.cause from None
        raise ApplicationError(
            f"a step did not complete in time ({err.cause})", type=STEP_TIMED_OUT
        ) from None


async def run_with_compensation(
    steps: list[tuple[Callable[..., Awaitable[Any]], Callable[..., Awaitable[Any]]]],
    arg: Any,
    *,
    deadline: timedelta,
) -> ApplicationError | None:
    """Run each (step, its undo) in order; a step failing for good (or past `deadline`) undoes
    the steps before it, newest first, and is returned. None: every step is done."""
    undo: list[Callable[..., Awaitable[Any]]] = []
    try:
        for step, compensation in steps:
            undo.append(compensation)  # first: a step that timed out may still have committed
            await run_step(step, arg, deadline=deadline)
    except ApplicationError as failure:
        workflow.logger.warning("a step failed for good, undoing the others: %s", failure.message)
        for compensation in reversed(undo):
            await run_step(compensation, arg)
        return failure
    return None


async def send_mail(
    activity: Callable[..., Awaitable[Any]], arg: Any, *, details: str, deadline: timedelta
) -> Any | None:
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


# -- updates ----------------------------------------------------------------------------------


def refused(error: DomainError, message: str | None = None) -> ApplicationError:
    """An update's refusal: a declared error (models/errors.py), whose type the API answers."""
    return ApplicationError(message or error.message, type=error)


class Turns:
    """One update at a time writes the flow's records: the others wait for their turn, then
    check again that the flow still allows them (it may have moved on meanwhile)."""

    def __init__(self) -> None:
        self.busy = False

    @asynccontextmanager
    async def take(self, check: Callable[[], None]) -> AsyncIterator[None]:
        await workflow.wait_condition(lambda: not self.busy)
        # The SDK wakes every satisfied wait in one pass: updates that arrived in one workflow
        # task all see "not busy", and the first to run takes the turn. The others wait again.
        while self.busy:
            await workflow.wait_condition(lambda: not self.busy)
        check()
        self.busy = True
        try:
            yield
        finally:
            self.busy = False


async def wait_until_recorded(recorded: Callable[[], bool], error_type: str, what: str) -> None:
    """For the update sent with a start: answer only once the flow's first record is written,
    so the caller can rely on it; past RECORD_WAIT, ask the caller to repeat the request."""
    try:
        await workflow.wait_condition(recorded, timeout=RECORD_WAIT)
    except TimeoutError:
        raise ApplicationError(
            f"the {what} is not recorded yet; repeat the request shortly", type=error_type
        ) from None


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
