"""Plain data that crosses the account-lookup workflow boundary: "do I already have an account?"
answered by mail to the address itself, never in the HTTP answer (docs/flows/account-lookup.md)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from enum import StrEnum

from core.tokens import mask_email
from models.contracts.flow import FlowStart
from models.contracts.flow import Update

FLOW_KIND = "account-lookup"
FLOW_ID_PREFIX = f"{FLOW_KIND}-"
# Named explicitly: running flows and saved histories know this name.
WORKFLOW = "AccountLookupWorkflow"


class LookupStatus(StrEnum):
    SENDING = "sending"
    SENT = "sent"
    NOT_SENT = "not_sent"  # the mail could not go out (see ActivationProblem)


@dataclass
class LookupInput:
    email: str
    locale: str


@dataclass
class LookupState:
    id: str
    status: LookupStatus


DESCRIBE: Update[None, LookupState] = Update("describe", None, LookupState)


def summary(input: LookupInput) -> str:
    """The one line an operator reads in the Temporal UI (no full address)."""
    return f"Account lookup for {mask_email(input.email)}"


# A new lookup each time (its own mail limit per address bounds how often one is mailed).
START: FlowStart[LookupInput, LookupState] = FlowStart(
    WORKFLOW,
    DESCRIBE,
    FLOW_KIND,
    LookupStatus.SENDING,
    summary,
    flow_id=lambda _: FLOW_ID_PREFIX + str(uuid.uuid4()),
)
