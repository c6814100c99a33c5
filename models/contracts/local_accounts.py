"""Plain data that crosses the local-account workflow boundary (one dataclass per call).

Only a link token's SHA-256 hash is here: these values are recorded in workflow history.
"""

from __future__ import annotations

from dataclasses import dataclass
from dataclasses import field
from datetime import datetime
from enum import StrEnum

from temporalio.common import WorkflowIDReusePolicy

from core.text import email_key
from core.tokens import mask_email
from models.contracts.answer_by_link import AnswerRules
from models.contracts.flow import FlowStart
from models.contracts.flow import Update
from models.contracts.flow_ids import flow_ids
from models.errors import LocalAccountError

FLOW_KIND = "local-account-activation"
# Named explicitly: running flows and saved histories know this name.
WORKFLOW = "LocalAccountActivationWorkflow"
# One flow per (Business, instance, address): the key is an HMAC of them, see `flow_key`.
FLOW_ID_PREFIX, flow_id_of = flow_ids(FLOW_KIND)


def flow_key_parts(business_id: str, instance_id: str, email: str) -> tuple[str, ...]:
    """What `core.tokens.domain_key` hashes: a repeated invitation converges on one flow."""
    return (FLOW_KIND, business_id, instance_id, email_key(email))


class InvitationStatus(StrEnum):
    PENDING = "pending"
    ACTIVE = "active"
    LAPSED = "lapsed"
    CANCELLED = "cancelled"
    REFUSED = "refused"  # not recorded: over the limit, or the account exists already


@dataclass
class StartInvitationInput:
    account_id: str
    business_id: str
    instance_id: str
    email: str
    display_name: str | None
    locale: str
    invited_by: str
    expires_in_seconds: int
    reminder_before_seconds: list[int] = field(default_factory=list)


@dataclass
class InvitationState:
    account_id: str
    business_id: str
    instance_id: str
    email: str
    display_name: str | None
    status: InvitationStatus
    invited_at: datetime
    expires_at: datetime
    activated_at: datetime | None = None
    problem: str | None = None


@dataclass
class RecordInvitationInput:
    start: StartInvitationInput
    invited_at: datetime
    expires_at: datetime


@dataclass
class InvitationContext:
    """What the invitation mail says about where the account is (read once, when recorded)."""

    company_name: str
    instance_label: str  # the instance's own name (before 2026-12: or "code (region)")
    # Named in the mail's language from these (empty in invitations recorded before).
    product_code: str = ""
    region: str = ""


@dataclass
class SendInvitationInput:
    flow_id: str
    link_number: int
    email: str
    display_name: str | None
    locale: str
    context: InvitationContext
    expires_at: datetime
    reminder: bool


@dataclass
class ActivateInput:
    token_hash: str


@dataclass
class ActivateAccountInput:
    account_id: str
    at: datetime


@dataclass
class CloseInvitationInput:
    account_id: str
    status: InvitationStatus  # lapsed | cancelled


# How an invitation that is no longer pending refuses an action.
CLOSED: dict[str, LocalAccountError] = {
    InvitationStatus.ACTIVE: LocalAccountError.ALREADY_ACTIVE,
    InvitationStatus.LAPSED: LocalAccountError.LAPSED,
    InvitationStatus.CANCELLED: LocalAccountError.CANCELLED,
    InvitationStatus.REFUSED: LocalAccountError.TOKEN_INVALID,
}

# How an invitation waits for the invited user's link, and refuses.
RULES = AnswerRules(
    pending=InvitationStatus.PENDING,
    lapsed=InvitationStatus.LAPSED,
    refused=InvitationStatus.REFUSED,
    cancelled=InvitationStatus.CANCELLED,
    closed=CLOSED,
    invalid_link=LocalAccountError.TOKEN_INVALID,
    not_recorded=LocalAccountError.NOT_RECORDED,
    what="invitation",
)


def account_status_now(status: str, invitation_expires_at: datetime | None, now: datetime) -> str:
    """An account's status at read time: a pending invitation past its expiry reads `lapsed`,
    even before its flow recorded the lapse (or when an operator ended that flow)."""
    if status == "pending" and invitation_expires_at is not None and invitation_expires_at <= now:
        return "lapsed"
    return status


# -- how the API meets the flow (models/contracts/flow.py) --------------------------------------

DESCRIBE: Update[None, InvitationState] = Update("describe", None, InvitationState)
ACTIVATE: Update[ActivateInput, InvitationState] = Update(
    "activate", ActivateInput, InvitationState
)
CANCEL: Update[None, InvitationState] = Update("cancel", None, InvitationState)


def summary(input: StartInvitationInput) -> str:
    """The one line an operator reads in the Temporal UI."""
    return (
        f"Local account for {mask_email(input.email)} on instance {input.instance_id[:8]} "
        f"(invited by {input.invited_by[:8]})"
    )


# Starts the invitation, or joins the pending one for the same address and instance (the
# caller's ID: an HMAC of `flow_key_parts`).
START: FlowStart[StartInvitationInput, InvitationState] = FlowStart(
    WORKFLOW,
    DESCRIBE,
    FLOW_KIND,
    InvitationStatus.PENDING,
    summary,
    business_of=lambda input: input.business_id,
    reuse=WorkflowIDReusePolicy.ALLOW_DUPLICATE,
)
