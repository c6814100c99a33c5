"""Plain data that crosses the ownership-transfer workflow boundary (one dataclass per call).

Only a link token's SHA-256 hash is here: these values are recorded in workflow history.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from temporalio.common import WorkflowIDConflictPolicy

from models.contracts.answer_by_link import AnswerRules
from models.contracts.flow import FlowStart
from models.contracts.flow import Update
from models.contracts.flow_ids import flow_ids
from models.errors import TransferError

FLOW_KIND = "ownership-transfer"
# Named explicitly: running flows and saved histories know this name.
WORKFLOW = "OwnershipTransferWorkflow"
# One flow per transfer; its id is random (and the public part of its link's token).
FLOW_ID_PREFIX, flow_id_of = flow_ids(FLOW_KIND)


class TransferStatus(StrEnum):
    PENDING = "pending"
    ACCEPTED = "accepted"
    DECLINED = "declined"
    CANCELLED = "cancelled"
    EXPIRED = "expired"
    FAILED = "failed"  # accepted, but the target no longer qualified
    REFUSED = "refused"  # not recorded: the target does not qualify
    # Only in the database: a pending row whose flow an operator ended, set aside at the next
    # offer so it cannot block the Business; it reads as cancelled.
    ABANDONED = "abandoned"


@dataclass
class StartTransferInput:
    transfer_id: str
    business_id: str
    from_account_id: str
    to_account_id: str
    expires_in_seconds: int


@dataclass
class TransferState:
    transfer_id: str
    business_id: str
    from_account_id: str
    to_account_id: str
    status: TransferStatus
    created_at: datetime
    expires_at: datetime
    decided_at: datetime | None = None
    problem: str | None = None


@dataclass
class OpenTransferInput:
    start: StartTransferInput
    created_at: datetime
    expires_at: datetime


@dataclass
class TransferParties:
    """Who the mails go to (read once, when the transfer is recorded)."""

    company_name: str
    owner_email: str
    owner_locale: str
    target_email: str
    target_name: str | None
    target_locale: str
    target_instance: str  # the instance's own name (before 2026-12: or "code (region)")
    # Its product and region, which the mails name in the reader's language; empty in the
    # parties of transfers recorded before 2026-12.
    target_product_code: str = ""
    target_region: str = ""


@dataclass
class SendTransferLinkInput:
    flow_id: str
    transfer_id: str
    parties: TransferParties
    expires_at: datetime


@dataclass
class DecisionInput:
    token_hash: str


@dataclass
class CompleteTransferInput:
    transfer_id: str
    at: datetime


@dataclass
class CloseTransferInput:
    transfer_id: str
    status: TransferStatus
    at: datetime


@dataclass
class SendTransferOutcomeInput:
    transfer_id: str
    parties: TransferParties
    status: TransferStatus


# How a transfer that is no longer pending refuses an action.
CLOSED: dict[str, TransferError] = {
    TransferStatus.ACCEPTED: TransferError.COMPLETED,
    TransferStatus.DECLINED: TransferError.DECLINED,
    TransferStatus.CANCELLED: TransferError.CANCELLED,
    TransferStatus.EXPIRED: TransferError.EXPIRED,
    TransferStatus.FAILED: TransferError.FAILED,
    TransferStatus.REFUSED: TransferError.FAILED,
}

# How a transfer waits for the target's link, and refuses.
RULES = AnswerRules(
    pending=TransferStatus.PENDING,
    lapsed=TransferStatus.EXPIRED,
    refused=TransferStatus.REFUSED,
    cancelled=TransferStatus.CANCELLED,
    closed=CLOSED,
    invalid_link=TransferError.TOKEN_INVALID,
    not_recorded=TransferError.NOT_RECORDED,
    what="transfer",
)


def transfer_status_now(status: str, expires_at: datetime, now: datetime) -> TransferStatus:
    """A transfer's status at read time: past its expiry a pending one reads `expired`, even
    before its flow recorded it; one set aside after its flow was ended reads `cancelled`."""
    if status == TransferStatus.PENDING and expires_at <= now:
        return TransferStatus.EXPIRED
    if status == TransferStatus.ABANDONED:
        return TransferStatus.CANCELLED
    return TransferStatus(status)


# -- how the API meets the flow (models/contracts/flow.py) --------------------------------------

DESCRIBE: Update[None, TransferState] = Update("describe", None, TransferState)
ACCEPT: Update[DecisionInput, TransferState] = Update("accept", DecisionInput, TransferState)
DECLINE: Update[DecisionInput, TransferState] = Update("decline", DecisionInput, TransferState)
CANCEL: Update[None, TransferState] = Update("cancel", None, TransferState)


def summary(input: StartTransferInput) -> str:
    """The one line an operator reads in the Temporal UI."""
    return (
        f"Ownership transfer {input.transfer_id[:8]}: primary account "
        f"{input.from_account_id[:8]} → local account {input.to_account_id[:8]}"
    )


# Starts the transfer; its answer says whether it was recorded (or why not).
START: FlowStart[StartTransferInput, TransferState] = FlowStart(
    WORKFLOW,
    DESCRIBE,
    FLOW_KIND,
    TransferStatus.PENDING,
    summary,
    flow_id=lambda input: flow_id_of(input.transfer_id),
    business_of=lambda input: input.business_id,
    conflict=WorkflowIDConflictPolicy.FAIL,
)
