"""Plain data that crosses the direct-change workflow boundary: one change to the database that
the API asks for (an account edit, an unregistration). The API never writes the database itself;
the change runs as this flow's one activity, visible to operators (docs/architecture.md)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

FLOW_KIND = "direct-change"
FLOW_ID_PREFIX = f"{FLOW_KIND}-"


@dataclass
class DirectChangeInput:
    activity: str  # the activity's registered name
    arg: Any  # its input dataclass (a dict in the flow; typed again by the activity)
    business_id: str


@dataclass
class DirectChangeOutcome:
    refusal: str | None = None  # a declared error's code, when the activity refused
    message: str | None = None


# The changes (their activities' names) and their inputs.
CHANGE_ACCOUNT = "local_accounts.change_account"
UNREGISTER_INSTANCE = "product_registration.unregister_instance"
ALLOCATE_CREDITS = "credits.allocate"
RECORD_SANDBOX_SUBMISSIONS = "credits.record_sandbox_submissions"


@dataclass
class ChangeAccountInput:
    account_id: str
    expected_status: str  # changed only as it was read: a transfer may have made it primary
    display_name: str | None = None
    status: str | None = None


@dataclass
class UnregisterInstanceInput:
    instance_id: str


@dataclass
class AllocateCreditsInput:
    business_id: str
    sensor_code: str
    units: int
    credits_per_unit: int  # the catalog's price when the request was made


@dataclass
class SandboxSubmissionsInput:
    business_id: str
    count: int
