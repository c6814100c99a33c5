"""The daily reset of the sandbox submission quota: a Temporal Schedule starts this flow at 00:00
UTC (workers/schedules.py creates it), and operators see it in the Temporal UI (Schedules) with
its runs (docs/domain.md)."""

from __future__ import annotations

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from activities.credits import CreditActivities
    from models.contracts.credits import ResetInput
    from workflows.publishing import publish_status
    from workflows.steps import RETRY
    from workflows.steps import STEP_TIMEOUT


# Named explicitly: running flows and saved histories know this name, whatever the class is called.
@workflow.defn(name="SandboxQuotaResetWorkflow")
class SandboxQuotaResetWorkflow:
    @workflow.run
    async def run(self) -> int:
        # The day that begins: the schedule's nominal time, so a late run resets the right day.
        period = workflow.now().date().isoformat()
        reset: int = await workflow.execute_activity_method(
            CreditActivities.reset_sandbox_usage,
            ResetInput(period),
            start_to_close_timeout=STEP_TIMEOUT,
            retry_policy=RETRY,
        )
        publish_status("done", {"period": period, "reset": reset})
        return reset
