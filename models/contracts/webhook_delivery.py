"""Plain data that crosses the webhook-delivery workflow boundary: one event delivered to one
endpoint on the Standard Webhooks schedule, and an endpoint's replay (docs/webhooks.md).

Only ids cross it: the event's body and the endpoint's URL and secrets are read from the
database by the attempt itself, so nothing secret or personal reaches Temporal's history.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from temporalio.client import Client
from temporalio.common import SearchAttributePair
from temporalio.common import TypedSearchAttributes
from temporalio.common import WorkflowIDReusePolicy
from temporalio.exceptions import WorkflowAlreadyStartedError

from models.contracts.flow_ids import flow_ids
from models.contracts.search_attributes import ACTIVATION_FLOW
from models.contracts.search_attributes import BUSINESS_ID

WORKFLOW = "WebhookDelivery"
REPLAY_WORKFLOW = "WebhookReplay"
FLOW_KIND = "webhook-delivery"
REPLAY_KIND = "webhook-replay"
FLOW_ID_PREFIX, _flow_id_of = flow_ids(FLOW_KIND)
REPLAY_ID_PREFIX, replay_id_of = flow_ids(REPLAY_KIND)
RETRY_NOW = "retry_now"  # the signal that cuts a delivery's wait short

# Seconds before each attempt, after the one before (Standard Webhooks' schedule): at once,
# 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 14 h, 20 h, 24 h; each with jitter. About 3 days 3 hours.
SCHEDULE_SECONDS = (0, 5, 300, 1800, 7200, 18000, 36000, 50400, 72000, 86400)
JITTER = 0.1  # each wait is moved by up to this share, either way
LONGEST_WAIT_SECONDS = 86400  # a receiver's Retry-After is honoured up to this


def flow_id_of(endpoint_id: str, event_id: str) -> str:
    return _flow_id_of(f"{endpoint_id}-{event_id}")


class Trigger(StrEnum):
    EVENT = "event"  # the event was recorded: the whole schedule
    RETRY = "retry"  # a person asked for one more attempt now
    REPLAY = "replay"  # an endpoint's events since a time, again: the whole schedule


class AttemptOutcome(StrEnum):
    DELIVERED = "delivered"  # a 2xx
    FAILED = "failed"  # another status, or no answer: the schedule goes on
    GONE = "gone"  # 410: the endpoint is disabled, no more attempts
    STOPPED = "stopped"  # the endpoint was disabled or deleted, or the event is gone


@dataclass
class DeliveryStart:
    endpoint_id: str
    event_id: str
    trigger: Trigger = Trigger.EVENT


@dataclass
class AttemptInput:
    endpoint_id: str
    event_id: str
    trigger: Trigger
    at: datetime  # the workflow's time: what the log says, on the time-skipping server too
    # The wait the schedule gives before the next attempt should this one fail (None: this is
    # the last), for the log's `next_attempt_at`.
    next_wait_seconds: float | None


@dataclass
class AttemptResult:
    outcome: AttemptOutcome
    retry_after_seconds: float | None = None


@dataclass
class GiveUpInput:
    endpoint_id: str
    event_id: str
    gone: bool  # a 410, rather than a schedule run out
    at: datetime


@dataclass
class GiveUpResult:
    endpoint_disabled: bool


@dataclass
class ReplayInput:
    endpoint_id: str
    since: datetime
    after_seq: int = 0  # the last event started by the runs before (continue-as-new)
    started: int = 0


@dataclass
class ReplayBatchInput:
    endpoint_id: str
    since: datetime
    after_seq: int
    limit: int


@dataclass
class ReplayBatch:
    """The next events the endpoint wants, oldest first: (seq, event id)."""

    events: list[tuple[int, str]]


async def start_delivery(
    client: Client,
    start: DeliveryStart,
    *,
    task_queue: str,
    event_type: str,
    business_id: str | None,
) -> bool:
    """Start delivering an event to an endpoint: a recorded event once (False when it was
    started before); a manual retry starts a run of one attempt, or, when the delivery is still
    waiting for its next attempt, cuts that wait short (signal-with-start)."""
    attributes = [SearchAttributePair(ACTIVATION_FLOW, FLOW_KIND)]
    if business_id:
        attributes.append(SearchAttributePair(BUSINESS_ID, business_id))
    retry = start.trigger == Trigger.RETRY
    try:
        await client.start_workflow(
            WORKFLOW,
            start,
            id=flow_id_of(start.endpoint_id, start.event_id),
            task_queue=task_queue,
            id_reuse_policy=(
                WorkflowIDReusePolicy.ALLOW_DUPLICATE
                if retry
                else WorkflowIDReusePolicy.REJECT_DUPLICATE
            ),
            search_attributes=TypedSearchAttributes(attributes),
            static_summary=f"{event_type} to {start.endpoint_id} ({start.trigger.value})",
            start_signal=RETRY_NOW if retry else None,
        )
    except WorkflowAlreadyStartedError:
        return False
    return True


async def start_replay(
    client: Client, replay_id: str, endpoint_id: str, since: datetime, *, task_queue: str
) -> None:
    """Start replaying an endpoint's events since a time (`WebhookReplay`)."""
    await client.start_workflow(
        REPLAY_WORKFLOW,
        ReplayInput(endpoint_id, since),
        id=replay_id_of(replay_id),
        task_queue=task_queue,
        search_attributes=TypedSearchAttributes(
            [SearchAttributePair(ACTIVATION_FLOW, REPLAY_KIND)]
        ),
        static_summary=f"replay of {endpoint_id}'s events since {since.isoformat()}",
    )
