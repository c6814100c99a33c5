"""Plain data that crosses the product-registration workflow boundary (one dataclass per call).

Only a token's SHA-256 hash is here: these values are recorded in workflow history.
"""

from __future__ import annotations

from dataclasses import dataclass
from dataclasses import field
from datetime import datetime
from enum import StrEnum

from temporalio.common import WorkflowIDConflictPolicy

from models.contracts.flow import FlowStart
from models.contracts.flow import Update
from models.contracts.flow_ids import flow_ids
from models.errors import RegistrationError

FLOW_KIND = "product-registration"
# Named explicitly: running flows and saved histories know this name.
WORKFLOW = "ProductRegistrationWorkflow"
# One flow per token; the token's public id is its key (random, never the secret).
FLOW_ID_PREFIX, flow_id_of = flow_ids(FLOW_KIND)


class TokenStatus(StrEnum):
    ACTIVE = "active"
    USED = "used"
    EXPIRED = "expired"
    REVOKED = "revoked"


@dataclass
class StartRegistrationInput:
    token_id: str
    token_hash: str
    business_id: str
    instance_type: str
    description: str
    created_by: str
    expires_in_seconds: int
    max_uses: int


@dataclass
class TokenState:
    id: str
    business_id: str
    instance_type: str
    description: str
    status: TokenStatus
    created_at: datetime
    expires_at: datetime
    max_uses: int
    uses: int
    registered_instances: list[str] = field(default_factory=list)


@dataclass
class RegisterInput:
    token_hash: str
    instance_id: str


@dataclass
class RecordTokenInput:
    start: StartRegistrationInput
    created_at: datetime
    expires_at: datetime


@dataclass
class RegisterInstanceInput:
    token_id: str
    business_id: str
    instance_type: str
    description: str
    instance_id: str
    at: datetime


@dataclass
class CloseTokenInput:
    token_id: str
    status: TokenStatus
    at: datetime


# How a token that is no longer active refuses a registration.
CLOSED: dict[str, RegistrationError] = {
    TokenStatus.USED: RegistrationError.TOKEN_USED,
    TokenStatus.EXPIRED: RegistrationError.TOKEN_EXPIRED,
    TokenStatus.REVOKED: RegistrationError.TOKEN_REVOKED,
}


def token_status_now(
    status: str, uses: int, max_uses: int, expires_at: datetime, now: datetime
) -> TokenStatus:
    """A token's status at read time: used up or past its expiry, an active one reads so even
    before its flow recorded how it closed."""
    if status == TokenStatus.ACTIVE and uses >= max_uses:
        return TokenStatus.USED
    if status == TokenStatus.ACTIVE and expires_at <= now:
        return TokenStatus.EXPIRED
    return TokenStatus(status)


# -- how the API meets the flow (models/contracts/flow.py) --------------------------------------

DESCRIBE: Update[None, TokenState] = Update("describe", None, TokenState)
REGISTER: Update[RegisterInput, TokenState] = Update("register", RegisterInput, TokenState)
REVOKE: Update[None, TokenState] = Update("revoke", None, TokenState)


def summary(input: StartRegistrationInput) -> str:
    """The one line an operator reads in the Temporal UI (never the token)."""
    uses = "single use" if input.max_uses == 1 else f"{input.max_uses} uses"
    kind = input.instance_type
    return f"Enrollment token {input.token_id[:6]}… for {kind} ({uses}): {input.description}"


# Starts the token's flow; its answer says whether it was recorded (or why not).
START: FlowStart[StartRegistrationInput, TokenState] = FlowStart(
    WORKFLOW,
    DESCRIBE,
    FLOW_KIND,
    TokenStatus.ACTIVE,
    summary,
    flow_id=lambda input: flow_id_of(input.token_id),
    business_of=lambda input: input.business_id,
    conflict=WorkflowIDConflictPolicy.FAIL,
)
