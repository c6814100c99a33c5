"""Plain data that crosses the account-lookup workflow boundary: "do I already have an account?"
answered by mail to the address itself, never in the HTTP answer (docs/flows/account-lookup.md)."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

FLOW_KIND = "account-lookup"
FLOW_ID_PREFIX = f"{FLOW_KIND}-"


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
