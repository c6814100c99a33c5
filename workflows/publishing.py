"""What a flow shows without being asked: its public state in its memo and its status in a search
attribute, so a status read is a `describe` on the Temporal server (no worker, no replay,
however many flows are parked) and operators find it by status."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from temporalio import workflow
from temporalio.common import SearchAttributeUpdate

with workflow.unsafe.imports_passed_through():
    from core.metric_names import FLOW_STATUS
    from core.metric_names import FLOW_TIME
    from models.contracts.search_attributes import ACTIVATION_STATUS

STATE_MEMO = "state"  # the memo key under which every flow publishes its state


def publish(state: Any) -> None:
    """Keep the public state in the memo (a dataclass, or a plain dict)."""
    workflow.upsert_memo({STATE_MEMO: state})


def publish_status(
    status: str, state: Any, also: Sequence[SearchAttributeUpdate[Any]] = ()
) -> None:
    """A new status: the search attribute (with `also`, in the same upsert: each upsert is a
    billable Action), then the state; and the metrics of flows reaching a status, with the time
    since the flow started (docs/operations.md; skipped on replay)."""
    workflow.upsert_search_attributes([ACTIVATION_STATUS.value_set(status), *also])
    publish(state)
    info, meter = workflow.info(), workflow.metric_meter()
    labels = {"flow": info.workflow_type, "status": status}
    meter.create_counter(FLOW_STATUS, "flows that reached a status").add(1, labels)
    meter.create_histogram_timedelta(
        FLOW_TIME, "from a flow's start to a status it reached", "ms"
    ).record(workflow.now() - info.start_time, labels)
