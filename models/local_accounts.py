"""Plain data that crosses the local-account workflow boundary (one dataclass per call).

Only a link token's SHA-256 hash is here: these values are recorded in workflow history.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from core.text import email_key

FLOW_KIND = "local-account-activation"
FLOW_ID_PREFIX = f"{FLOW_KIND}-"
STATE_MEMO = "state"


def flow_id_of(flow_key: str) -> str:
    """One flow per (Business, instance, address): the key is an HMAC of them, see `flow_key`."""
    return FLOW_ID_PREFIX + flow_key


def flow_key_parts(business_id: str, instance_id: str, email: str) -> tuple[str, ...]:
    """What `core.tokens.domain_key` hashes: a repeated invitation converges on one flow."""
    return (FLOW_KIND, business_id, instance_id, email_key(email))


class InvitationStatus(StrEnum):
    PENDING = "pending"
    ACTIVE = "active"
    LAPSED = "lapsed"
    CANCELLED = "cancelled"
    REFUSED = "refused"  # not recorded: over the limit, or the account exists already


class LocalAccountError(StrEnum):
    """Stable `ApplicationError.type`s of the flow; the API maps each to an HTTP status."""

    LIMIT_REACHED = "local_account_limit_reached"
    ACCOUNT_EXISTS = "local_account_exists"
    INSTANCE_NOT_FOUND = "instance_not_found"
    TOKEN_INVALID = "invitation_token_invalid"
    ALREADY_ACTIVE = "local_account_already_active"
    LAPSED = "invitation_lapsed"
    CANCELLED = "invitation_cancelled"
    NOT_RECORDED = "invitation_not_recorded"


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
    instance_label: str


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
