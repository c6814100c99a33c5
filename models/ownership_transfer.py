"""Plain data that crosses the ownership-transfer workflow boundary (one dataclass per call).

Only a link token's SHA-256 hash is here: these values are recorded in workflow history.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

FLOW_KIND = "ownership-transfer"
FLOW_ID_PREFIX = f"{FLOW_KIND}-"
STATE_MEMO = "state"


def flow_id_of(transfer_id: str) -> str:
    """One flow per transfer; its id is random (and the public part of its link's token)."""
    return FLOW_ID_PREFIX + transfer_id


class TransferStatus(StrEnum):
    PENDING = "pending"
    ACCEPTED = "accepted"
    DECLINED = "declined"
    CANCELLED = "cancelled"
    EXPIRED = "expired"
    FAILED = "failed"  # accepted, but the target no longer qualified
    REFUSED = "refused"  # not recorded: the target does not qualify


class TransferError(StrEnum):
    """Stable `ApplicationError.type`s of the flow; the API maps each to an HTTP status."""

    PENDING_EXISTS = "ownership_transfer_pending"
    TARGET_NOT_FOUND = "transfer_target_not_found"
    TARGET_NOT_ELIGIBLE = "transfer_target_not_eligible"
    NOT_PRIMARY = "not_primary_account"
    TOKEN_INVALID = "transfer_token_invalid"
    COMPLETED = "ownership_transfer_completed"
    DECLINED = "ownership_transfer_declined"
    CANCELLED = "ownership_transfer_cancelled"
    EXPIRED = "ownership_transfer_expired"
    FAILED = "ownership_transfer_failed"
    NOT_RECORDED = "ownership_transfer_not_recorded"


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
    target_instance: str


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
