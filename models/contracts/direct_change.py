"""Plain data that crosses the direct-change workflow boundary: one change to the database that
the API asks for (an account edit, an unregistration). The API never writes the database itself;
the change runs as this flow's one activity, visible to operators (docs/architecture.md)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from temporalio.common import WorkflowIDReusePolicy

from models.contracts.flow import FlowStart
from models.contracts.flow import Update

FLOW_KIND = "direct-change"
FLOW_ID_PREFIX = f"{FLOW_KIND}-"
# Named explicitly: running flows and saved histories know this name.
WORKFLOW = "DirectChangeWorkflow"


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


# -- how the API meets the flow (models/contracts/flow.py) --------------------------------------

# Sent with the start: answers once the change is done (or refused).
OUTCOME: Update[None, DirectChangeOutcome] = Update("outcome", None, DirectChangeOutcome)
# A new flow per change; its summary is the caller's (see `api.flow_clients.run_change`).
START: FlowStart[DirectChangeInput, DirectChangeOutcome] = FlowStart(
    WORKFLOW,
    OUTCOME,
    FLOW_KIND,
    "running",
    lambda input: f"Change {input.activity}",
    flow_id=lambda _: FLOW_ID_PREFIX + str(uuid.uuid4()),
    business_of=lambda input: input.business_id,
    reuse=WorkflowIDReusePolicy.REJECT_DUPLICATE,
)
