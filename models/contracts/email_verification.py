"""Plain data that crosses the email-verification workflow boundary (one dataclass per call).

Never put a plain token here: these values are recorded in workflow history.
"""

from __future__ import annotations

from dataclasses import dataclass
from dataclasses import field
from datetime import datetime
from enum import StrEnum

from temporalio.common import WorkflowIDReusePolicy

from core.tokens import domain_key
from core.tokens import mask_email
from models.contracts.flow import FlowStart
from models.contracts.flow import Query
from models.contracts.flow import Update
from models.errors import VerificationError

FLOW_KIND = "email-verification"
FLOW_ID_PREFIX = f"{FLOW_KIND}-"
# Named explicitly: running flows and saved histories know this name.
WORKFLOW = "EmailVerificationWorkflow"


class VerificationStatus(StrEnum):
    PENDING = "pending"
    VERIFIED = "verified"
    EXPIRED = "expired"
    LOCKED = "locked"
    CANCELLED = "cancelled"


class TokenCheck(StrEnum):
    """What a token hash means to a flow, answered without consuming anything."""

    VALID = "valid"  # the current link of a pending flow
    USED = "used"  # the link that verified this flow
    DEAD = "dead"  # superseded, or the flow is no longer pending
    # A link is being sent and its hash is not known here yet (the mail can arrive first).
    SENDING = "sending"


@dataclass
class StartVerificationInput:
    email: str
    purpose: str
    locale: str
    expiry_seconds: int
    resend_cooldown_seconds: int
    max_resends: int
    max_attempts: int
    business_id: str | None = None
    # What the address is proven for, in the mail's words (e.g. the company and products of an
    # activation); without it, the mail says what the purpose means.
    about: str | None = None
    # The products activated, by catalog code: the mail names them in its language. (Before
    # 2026-12, `about` carried "company: product names" in English instead.)
    products: list[str] = field(default_factory=list)


@dataclass
class VerificationState:
    id: str
    status: VerificationStatus
    email: str
    purpose: str
    expires_at: datetime
    resend_available_at: datetime | None
    resends_left: int
    attempts_left: int
    locale: str = "en"  # the pages' language; memos of flows started before it say nothing
    last_sent_at: datetime | None = None  # when the newest link was asked for


@dataclass
class ConfirmInput:
    token_hash: str


@dataclass
class ChangeEmailInput:
    email: str


@dataclass
class SendLinkInput:
    flow_id: str
    link_number: int
    email: str
    purpose: str
    locale: str
    expires_at: datetime
    about: str | None = None
    products: list[str] = field(default_factory=list)


@dataclass
class RecordOutcomeInput:
    flow_id: str
    email: str
    purpose: str
    status: VerificationStatus
    business_id: str | None
    finished_at: datetime


# How a verification that is no longer pending refuses an action.
CLOSED: dict[str, VerificationError] = {
    VerificationStatus.VERIFIED: VerificationError.NOT_PENDING,
    VerificationStatus.EXPIRED: VerificationError.EXPIRED,
    VerificationStatus.LOCKED: VerificationError.LOCKED,
    VerificationStatus.CANCELLED: VerificationError.NOT_PENDING,
}


# -- how the API meets the flow (models/contracts/flow.py) --------------------------------------

DESCRIBE: Update[None, VerificationState] = Update("describe", None, VerificationState)
CONFIRM: Update[ConfirmInput, VerificationState] = Update(
    "confirm", ConfirmInput, VerificationState
)
RESEND: Update[None, VerificationState] = Update("resend", None, VerificationState)
CHANGE_EMAIL: Update[ChangeEmailInput, VerificationState] = Update(
    "change_email", ChangeEmailInput, VerificationState
)
CANCEL: Update[None, VerificationState] = Update("cancel", None, VerificationState)
CHECK_TOKEN: Query[ConfirmInput, TokenCheck] = Query("check_token", ConfirmInput, TokenCheck)


def summary(input: StartVerificationInput) -> str:
    """The one line an operator reads in the Temporal UI (no full address, no token)."""
    return f"Email verification ({input.purpose}) for {mask_email(input.email)}"


def flow_id_for(secret_key: str, purpose: str, email: str) -> str:
    """Same pending address and purpose, same workflow ID: duplicate starts converge on one flow."""
    return FLOW_ID_PREFIX + domain_key(secret_key, "email-verification", purpose, email.lower())


# Starts the flow, or joins the pending one with the same ID (the caller's: `flow_id_for`).
START: FlowStart[StartVerificationInput, VerificationState] = FlowStart(
    WORKFLOW,
    DESCRIBE,
    FLOW_KIND,
    VerificationStatus.PENDING,
    summary,
    business_of=lambda input: input.business_id,
    reuse=WorkflowIDReusePolicy.ALLOW_DUPLICATE,
)
