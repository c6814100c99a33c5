"""Plain data that crosses the primary-change workflow boundary (one dataclass per call):
support changes a Business's primary account; the new address is proven first, then the
current primary may object by link during a waiting period (docs/flows/primary-change.md).

Only a link token's SHA-256 hash is here: these values are recorded in workflow history."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from temporalio.common import WorkflowIDConflictPolicy

from models.contracts.answer_by_link import AnswerRules
from models.contracts.email_verification import StartVerificationInput
from models.contracts.flow import FlowStart
from models.contracts.flow import Update
from models.contracts.flow_ids import flow_ids
from models.errors import ChangeError

FLOW_KIND = "primary-change"
# Named explicitly: running flows and saved histories know this name.
WORKFLOW = "PrimaryChangeWorkflow"
FLOW_ID_PREFIX, flow_id_of = flow_ids(FLOW_KIND)
VERIFICATION_PURPOSE = "primary-change"


class ChangeStatus(StrEnum):
    VERIFYING = "verifying"  # the new address is being proven
    WAITING = "waiting"  # the current primary may object until `objection_ends_at`
    COMPLETED = "completed"
    OBJECTED = "objected"
    CANCELLED = "cancelled"
    FAILED = "failed"  # the address was not proven, or the accounts no longer qualified
    REFUSED = "refused"  # not recorded: see `problem`


PENDING_STATUSES = (ChangeStatus.VERIFYING, ChangeStatus.WAITING)


class OldPrimary(StrEnum):
    LOCAL = "local"  # stays, as a local account on the Business's first instance
    DISABLED = "disabled"


# How a change that no longer waits refuses an action.
CLOSED: dict[str, ChangeError] = {
    ChangeStatus.COMPLETED: ChangeError.COMPLETED,
    ChangeStatus.OBJECTED: ChangeError.OBJECTED,
    ChangeStatus.CANCELLED: ChangeError.CANCELLED,
    ChangeStatus.FAILED: ChangeError.FAILED,
    ChangeStatus.REFUSED: ChangeError.FAILED,
}

# How a change waits out its objection window: past it, the change completes.
RULES = AnswerRules(
    pending=ChangeStatus.WAITING,
    lapsed=ChangeStatus.COMPLETED,
    refused=ChangeStatus.REFUSED,
    cancelled=ChangeStatus.CANCELLED,
    closed=CLOSED,
    invalid_link=ChangeError.TOKEN_INVALID,
    not_recorded=ChangeError.NOT_RECORDED,
    what="primary change",
)


@dataclass
class StartChangeInput:
    change_id: str
    business_id: str
    new_email: str
    ticket: str
    requested_by: str
    old_primary: OldPrimary
    locale: str
    objection_seconds: int
    verification: StartVerificationInput  # the child that proves the new address
    verification_flow_id: str


@dataclass
class ChangeState:
    id: str
    business_id: str
    status: ChangeStatus
    new_email: str
    ticket: str
    requested_by: str
    old_primary: OldPrimary
    created_at: datetime
    objection_ends_at: datetime | None = None
    decided_at: datetime | None = None
    verification_id: str | None = None
    problem: str | None = None


@dataclass
class ChangeParties:
    """Who is told what: found when the change is recorded."""

    company_name: str
    owner_account_id: str
    owner_email: str
    owner_locale: str


@dataclass
class OpenChangeInput:
    start: StartChangeInput
    created_at: datetime


@dataclass
class StepInput:
    """A step of the change, kept in its audit trail at `at`."""

    change_id: str
    step: str
    at: datetime
    status: ChangeStatus | None = None  # the status it moves to, if any
    objection_ends_at: datetime | None = None


@dataclass
class SendObjectionLinkInput:
    parties: ChangeParties
    new_email: str
    objection_ends_at: datetime


@dataclass
class ObjectInput:
    token_hash: str


@dataclass
class SendOutcomeInput:
    parties: ChangeParties
    new_email: str
    new_locale: str
    status: ChangeStatus


# -- how the API meets the flow (models/contracts/flow.py) --------------------------------------

DESCRIBE: Update[None, ChangeState] = Update("describe", None, ChangeState)
OBJECT: Update[ObjectInput, ChangeState] = Update("object", ObjectInput, ChangeState)
CANCEL: Update[None, ChangeState] = Update("cancel", None, ChangeState)


def summary(input: StartChangeInput) -> str:
    """The one line an operator reads in the Temporal UI (no address, no ticket text)."""
    return (
        f"Primary change {input.change_id[:8]} of Business {input.business_id[:8]} "
        f"by support (old primary: {input.old_primary.value})"
    )


# Starts the change; its answer says whether it was recorded (or why not).
START: FlowStart[StartChangeInput, ChangeState] = FlowStart(
    WORKFLOW,
    DESCRIBE,
    FLOW_KIND,
    ChangeStatus.VERIFYING,
    summary,
    flow_id=lambda input: flow_id_of(input.change_id),
    business_of=lambda input: input.business_id,
    conflict=WorkflowIDConflictPolicy.FAIL,
)
