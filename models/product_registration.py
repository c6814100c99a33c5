"""Plain data that crosses the product-registration workflow boundary (one dataclass per call).

Only a token's SHA-256 hash is here: these values are recorded in workflow history.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

FLOW_KIND = "product-registration"
FLOW_ID_PREFIX = f"{FLOW_KIND}-"
STATE_MEMO = "state"


def flow_id_of(token_id: str) -> str:
    """One flow per token; the token's public id is its key (random, never the secret)."""
    return FLOW_ID_PREFIX + token_id


class TokenStatus(StrEnum):
    ACTIVE = "active"
    USED = "used"
    EXPIRED = "expired"
    REVOKED = "revoked"


class RegistrationError(StrEnum):
    """Stable `ApplicationError.type`s of the flow; the API maps each to an HTTP status."""

    TOKEN_INVALID = "enrollment_token_invalid"
    TOKEN_USED = "enrollment_token_used"
    TOKEN_EXPIRED = "enrollment_token_expired"
    TOKEN_REVOKED = "enrollment_token_revoked"
    TOKEN_NOT_ACTIVE = "enrollment_token_not_active"
    BUSINESS_MISMATCH = "enrollment_token_business_mismatch"
    INSTANCE_TYPE_MISMATCH = "instance_type_mismatch"
    INSTANCE_NOT_FOUND = "instance_not_found"
    NOT_RECORDED = "enrollment_token_not_recorded"


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
