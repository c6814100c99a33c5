"""A direct change: one database write the API asks for, run as one activity so the API never
writes the database and an operator sees each change (docs/architecture.md). A business refusal
is the flow's answer, not its failure.
"""

from __future__ import annotations

from temporalio import workflow
from temporalio.exceptions import ActivityError
from temporalio.exceptions import ApplicationError

with workflow.unsafe.imports_passed_through():
    from models.contracts.direct_change import WORKFLOW
    from models.contracts.direct_change import DirectChangeInput
    from models.contracts.direct_change import DirectChangeOutcome
    from workflows.publishing import publish_status
    from workflows.steps import RETRY
    from workflows.steps import STEP_TIMEOUT


@workflow.defn(name=WORKFLOW)
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
