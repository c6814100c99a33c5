"""Webhook delivery: one event to one endpoint, on the Standard Webhooks schedule (at once, then
5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 14 h, 20 h and 24 h after each failure, with jitter; longer
when the receiver asks with `Retry-After`). The first 2xx ends it. A 410 ends it and disables
the endpoint; a schedule run out fails it, and disables an endpoint that has not taken a single
delivery meanwhile; either way operators find it by `ActivationProblem`. A person may ask for an
attempt now (`retry_now`). Replaying an endpoint's events since a time starts a delivery of each
again, in batches (`WebhookReplay`).

See docs/webhooks.md.
"""

from __future__ import annotations

from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.common import SearchAttributePair
from temporalio.common import TypedSearchAttributes
from temporalio.common import WorkflowIDReusePolicy
from temporalio.exceptions import ActivityError
from temporalio.exceptions import ChildWorkflowError
from temporalio.exceptions import WorkflowAlreadyStartedError

with workflow.unsafe.imports_passed_through():
    from activities.webhooks import WebhookActivities
    from models.contracts.search_attributes import ACTIVATION_FLOW
    from models.contracts.webhook_delivery import FLOW_KIND
    from models.contracts.webhook_delivery import JITTER
    from models.contracts.webhook_delivery import LONGEST_WAIT_SECONDS
    from models.contracts.webhook_delivery import RETRY_NOW
    from models.contracts.webhook_delivery import SCHEDULE_SECONDS
    from models.contracts.webhook_delivery import AttemptInput
    from models.contracts.webhook_delivery import AttemptOutcome
    from models.contracts.webhook_delivery import AttemptResult
    from models.contracts.webhook_delivery import DeliveryStart
    from models.contracts.webhook_delivery import GiveUpInput
    from models.contracts.webhook_delivery import ReplayBatchInput
    from models.contracts.webhook_delivery import ReplayInput
    from models.contracts.webhook_delivery import Trigger
    from models.contracts.webhook_delivery import flow_id_of
    from workflows.steps import report_problem
    from workflows.steps import run_step

Steps = WebhookActivities
# One attempt: the receiver has 15 s (`webhook_timeout_seconds`); a worker lost mid-call is
# noticed by its missing heartbeat within 10 s, and the attempt runs again (the same
# `webhook-id`: at least once). A database that is down fails the attempt after a few tries;
# the schedule goes on.
ATTEMPT_TIMEOUT = timedelta(seconds=90)
ATTEMPT_HEARTBEAT = timedelta(seconds=10)
ATTEMPT_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=2),
    maximum_interval=timedelta(seconds=10),
    maximum_attempts=3,
)
REPLAY_BATCH = 100  # events a replay run starts before it continues as new


@workflow.defn(name="WebhookDelivery")
class WebhookDelivery:
    def __init__(self) -> None:
        self._retry_now = False

    @workflow.run
    async def run(self, start: DeliveryStart) -> str:
        schedule = (0,) if start.trigger == Trigger.RETRY else SCHEDULE_SECONDS
        waits = [self._jittered(seconds) for seconds in schedule[1:]] + [None]
        wait = 0.0
        for next_wait in waits:
            await self._wait(wait)
            result = await self._attempt(start, next_wait)
            if result.outcome in (AttemptOutcome.DELIVERED, AttemptOutcome.STOPPED):
                return result.outcome.value
            if result.outcome == AttemptOutcome.GONE or next_wait is None:
                return await self._give_up(start, gone=result.outcome == AttemptOutcome.GONE)
            wait = min(max(next_wait, result.retry_after_seconds or 0), LONGEST_WAIT_SECONDS)
        raise AssertionError("the last wait is None")  # the loop returns at its last attempt

    @workflow.signal(name=RETRY_NOW)
    def retry_now(self) -> None:
        """A person asked for an attempt now: the wait before the next one ends."""
        self._retry_now = True

    def _jittered(self, seconds: float) -> float:
        return seconds * (1 + JITTER * (2 * workflow.random().random() - 1))

    async def _wait(self, seconds: float) -> None:
        if seconds <= 0:
            return
        self._retry_now = False
        try:
            await workflow.wait_condition(
                lambda: self._retry_now, timeout=timedelta(seconds=seconds)
            )
        except TimeoutError:
            pass

    async def _attempt(self, start: DeliveryStart, next_wait: float | None) -> AttemptResult:
        attempt = AttemptInput(
            start.endpoint_id, start.event_id, start.trigger, workflow.now(), next_wait
        )
        try:
            return await workflow.execute_activity_method(
                Steps.attempt,
                attempt,
                start_to_close_timeout=ATTEMPT_TIMEOUT,
                heartbeat_timeout=ATTEMPT_HEARTBEAT,
                retry_policy=ATTEMPT_RETRY,
            )
        except ActivityError as error:
            workflow.logger.warning("a webhook attempt could not run: %s", error.cause)
            return AttemptResult(AttemptOutcome.FAILED)

    async def _give_up(self, start: DeliveryStart, *, gone: bool) -> str:
        result = await run_step(
            Steps.give_up, GiveUpInput(start.endpoint_id, start.event_id, gone, workflow.now())
        )
        problem = "webhook_endpoint_disabled" if result.endpoint_disabled else "webhook_failed"
        report_problem(problem)
        return "failed"


@workflow.defn(name="WebhookReplay")
class WebhookReplay:
    """Start a delivery of each event since a time that the endpoint wants, oldest first, a
    batch a run; one of an event already being delivered is left to go on."""

    @workflow.run
    async def run(self, replay: ReplayInput) -> int:
        batch = await run_step(
            Steps.replay_batch,
            ReplayBatchInput(replay.endpoint_id, replay.since, replay.after_seq, REPLAY_BATCH),
        )
        for seq, event_id in batch.events:
            await self._start(replay.endpoint_id, event_id)
            replay.after_seq, replay.started = seq, replay.started + 1
        if len(batch.events) == REPLAY_BATCH:
            workflow.continue_as_new(replay)
        return replay.started

    async def _start(self, endpoint_id: str, event_id: str) -> None:
        try:
            await workflow.start_child_workflow(
                WebhookDelivery.run,
                DeliveryStart(endpoint_id, event_id, Trigger.REPLAY),
                id=flow_id_of(endpoint_id, event_id),
                parent_close_policy=workflow.ParentClosePolicy.ABANDON,
                id_reuse_policy=WorkflowIDReusePolicy.ALLOW_DUPLICATE,
                search_attributes=TypedSearchAttributes(
                    [SearchAttributePair(ACTIVATION_FLOW, FLOW_KIND)]
                ),
                static_summary=f"{FLOW_KIND}: replay of {event_id} to {endpoint_id}",
            )
        except (WorkflowAlreadyStartedError, ChildWorkflowError):
            pass  # being delivered already
