"""Plain data that crosses the license-lifecycle workflow boundary: what happens to an activated
license or credit grant until its expiry date (docs/flows/license-lifecycle.md)."""

from __future__ import annotations

from dataclasses import dataclass
from dataclasses import field
from datetime import datetime
from enum import StrEnum

from models.contracts.flow_ids import flow_ids

FLOW_KIND = "license-lifecycle"
FLOW_ID_PREFIX, flow_id_of = flow_ids(FLOW_KIND)


class LifecycleStatus(StrEnum):
    ACTIVE = "active"
    EXPIRED = "expired"
    CONVERTED = "converted"  # a trial a paid order took over


@dataclass
class LifecycleInput:
    license_id: str
    business_id: str
    product_name: str
    kind: str  # service | addon | credits
    amount: int  # units, or credits
    expires_on: str  # ISO date: the last day it is valid (UTC)
    reminder_days: list[int] = field(default_factory=lambda: [30, 7, 1])
    trial: bool = False


@dataclass
class LifecycleState:
    license_id: str
    status: LifecycleStatus
    expires_on: str
    reminders_sent: list[int]  # of the current term
    renewals: int = 0


@dataclass
class Term:
    """The license as the database has it now: a renewal moves its last day, a conversion ends
    a trial."""

    status: str  # active | expired | converted
    expires_on: str


@dataclass
class ReminderInput:
    license: LifecycleInput
    days_left: int


@dataclass
class ExpireInput:
    license: LifecycleInput
    at: datetime
