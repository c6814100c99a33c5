"""The Temporal Schedules the service runs; every worker creates them at start if missing."""

from __future__ import annotations

from datetime import timedelta

from temporalio.client import Client
from temporalio.client import Schedule
from temporalio.client import ScheduleActionStartWorkflow
from temporalio.client import ScheduleAlreadyRunningError
from temporalio.client import ScheduleOverlapPolicy
from temporalio.client import SchedulePolicy
from temporalio.client import ScheduleSpec
from temporalio.common import SearchAttributePair
from temporalio.common import TypedSearchAttributes

from models.contracts.credits import RESET_FLOW_KIND
from models.contracts.credits import RESET_SCHEDULE_ID
from models.contracts.search_attributes import ACTIVATION_FLOW
from models.contracts.search_attributes import ACTIVATION_STATUS
from workflows.sandbox_quota import SandboxQuotaResetWorkflow


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
