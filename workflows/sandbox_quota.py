"""The daily reset of the sandbox submission quota: a Temporal Schedule starts this flow at 00:00
UTC; the worker creates the schedule at start, idempotently, and operators see it in the Temporal
UI (Schedules) with its runs (docs/domain.md)."""

from __future__ import annotations

from datetime import timedelta

from temporalio import workflow
from temporalio.client import (
    Client,
    Schedule,
    ScheduleActionStartWorkflow,
    ScheduleAlreadyRunningError,
    ScheduleOverlapPolicy,
    SchedulePolicy,
    ScheduleSpec,
)
from temporalio.common import SearchAttributePair, TypedSearchAttributes

with workflow.unsafe.imports_passed_through():
    from activities.credits import CreditActivities
    from models.credits import RESET_FLOW_KIND, RESET_SCHEDULE_ID, ResetInput
    from workflows.kit import RETRY, STEP_TIMEOUT, publish_status
    from workflows.search_attributes import ACTIVATION_FLOW, ACTIVATION_STATUS


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


async def ensure_reset_schedule(client: Client, task_queue: str) -> None:
    """Create the daily schedule unless it exists (every worker calls this at start)."""
    try:
        await client.create_schedule(
            RESET_SCHEDULE_ID,
            Schedule(
                action=ScheduleActionStartWorkflow(
                    SandboxQuotaResetWorkflow.run,
                    id=f"{RESET_FLOW_KIND}",
                    task_queue=task_queue,
                    execution_timeout=timedelta(hours=1),
                    typed_search_attributes=TypedSearchAttributes(
                        [
                            SearchAttributePair(ACTIVATION_FLOW, RESET_FLOW_KIND),
                            SearchAttributePair(ACTIVATION_STATUS, "running"),
                        ]
                    ),
                ),
                spec=ScheduleSpec(cron_expressions=["0 0 * * *"]),  # 00:00 UTC
                # A run missed while the cluster was down still happens (within a day).
                policy=SchedulePolicy(
                    overlap=ScheduleOverlapPolicy.SKIP, catchup_window=timedelta(days=1)
                ),
            ),
        )
    except ScheduleAlreadyRunningError:
        pass
