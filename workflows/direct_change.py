"""A direct change: one database write the API asks for, run as one activity so the API never
writes the database and an operator sees each change (docs/architecture.md). A business refusal
is the flow's answer, not its failure.
"""

from __future__ import annotations

import uuid

from temporalio import workflow
from temporalio.client import Client
from temporalio.common import WorkflowIDReusePolicy
from temporalio.exceptions import ActivityError
from temporalio.exceptions import ApplicationError

with workflow.unsafe.imports_passed_through():
    from models.contracts.direct_change import FLOW_ID_PREFIX
    from models.contracts.direct_change import FLOW_KIND
    from models.contracts.direct_change import DirectChangeInput
    from models.contracts.direct_change import DirectChangeOutcome
    from workflows.flow_start import start_flow
    from workflows.kit import RETRY
    from workflows.kit import STEP_TIMEOUT
    from workflows.kit import publish_status


# Named explicitly: running flows and saved histories know this name, whatever the class is called.
@workflow.defn(name="DirectChangeWorkflow")
class DirectChangeWorkflow:
    @workflow.init
    def __init__(self, input: DirectChangeInput) -> None:
        self._outcome: DirectChangeOutcome | None = None

    @workflow.run
    async def run(self, input: DirectChangeInput) -> DirectChangeOutcome:
        outcome = DirectChangeOutcome()
        try:
            await workflow.execute_activity(
                input.activity, input.arg, start_to_close_timeout=STEP_TIMEOUT, retry_policy=RETRY
            )
        except ActivityError as err:
            if not isinstance(err.cause, ApplicationError):
                raise
            outcome = DirectChangeOutcome(err.cause.type, err.cause.message)
        self._outcome = outcome
        publish_status("refused" if outcome.refusal else "done", outcome)
        return outcome

    @workflow.update
    async def outcome(self) -> DirectChangeOutcome:
        """Sent with the start: answers once the change is done (or refused)."""
        await workflow.wait_condition(lambda: self._outcome is not None)
        return self._outcome or DirectChangeOutcome()


async def change(
    client: Client,
    activity: str,
    arg: object,
    *,
    business_id: str,
    summary: str,
    task_queue: str,
    flow_id: str | None = None,
) -> DirectChangeOutcome:
    """Run one change and return its outcome (the caller answers a refusal)."""
    return await start_flow(
        client,
        DirectChangeWorkflow.run,
        DirectChangeWorkflow.outcome,
        DirectChangeInput(activity, arg, business_id),
        flow_id=flow_id or FLOW_ID_PREFIX + str(uuid.uuid4()),
        task_queue=task_queue,
        kind=FLOW_KIND,
        status="running",
        summary=summary,
        business_id=business_id,
        reuse=WorkflowIDReusePolicy.REJECT_DUPLICATE,
    )
