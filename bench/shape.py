"""What a run's flows did, read from their histories: the check that a baseline runs in the
product's shape, and what the product writes to the server besides."""

from __future__ import annotations

import random
from collections import Counter
from dataclasses import dataclass

from temporalio.client import Client

SAMPLE = 50  # histories read a run, after it is timed

# Temporal Cloud's billable Actions, estimated from the history by its published mapping
# (docs.temporal.io/cloud/actions) and checked against the server's own `action` counter
# (tests/bench/test_action_metric.py): a workflow started; a child workflow started (two: the
# parent's command and the child's start); an activity scheduled and each retry of it; a timer;
# a signal; an accepted update; a search attribute upsert; a memo upsert; and the markers a
# workflow task records (a local activity's, a patch's), one Action a task. An activity's
# heartbeats and a query are Actions too, but leave no event: the server's counter has them.
ACTION_EVENTS = (
    "workflow_execution_started_event_attributes",
    "start_child_workflow_execution_initiated_event_attributes",
    "activity_task_scheduled_event_attributes",
    "timer_started_event_attributes",
    "workflow_execution_signaled_event_attributes",
    "signal_external_workflow_execution_initiated_event_attributes",
    "workflow_execution_update_accepted_event_attributes",
    "upsert_workflow_search_attributes_event_attributes",
    "workflow_properties_modified_event_attributes",
)
CHILD = "start_child_workflow_execution_initiated_event_attributes"
# Each column: the history events it counts.
COLUMNS = {
    "events": (),
    "tasks": ("workflow_task_completed_event_attributes",),
    "timers": ("timer_started_event_attributes",),
    "acts": ("activity_task_scheduled_event_attributes",),
    "local": ("local_activity",),  # a marker, told apart by its name below
    "updates": ("workflow_execution_update_accepted_event_attributes",),
    "children": (CHILD,),
    "published": (  # the memo and the search attributes the product keeps current
        "workflow_properties_modified_event_attributes",
        "upsert_workflow_search_attributes_event_attributes",
    ),
    "actions": ACTION_EVENTS,  # and each activity retry, below
}
LOCAL_ACTIVITY_MARKER = "core_local_activity"


@dataclass
class Shape:
    """Events per flow, by column, and the kB of history they make, averaged over the flows read."""

    flows: int
    per_flow: dict[str, float]


async def shape_of(client: Client, workflow_ids: list[str]) -> Shape:
    """A flow's child workflows count as part of it (their whole histories)."""
    sample = random.sample(workflow_ids, min(SAMPLE, len(workflow_ids)))
    counts: Counter[str] = Counter()
    for workflow_id in sample:
        family = [workflow_id]
        while family:
            history = await client.get_workflow_handle(family.pop()).fetch_history()
            tasks_with_markers: set[int] = set()
            for event in history.events:
                kind: str = event.WhichOneof("attributes") or ""
                if kind == "marker_recorded_event_attributes":
                    marker = event.marker_recorded_event_attributes
                    tasks_with_markers.add(marker.workflow_task_completed_event_id)
                    kind = "local_activity" if marker.marker_name == LOCAL_ACTIVITY_MARKER else kind
                elif kind == CHILD:
                    family.append(
                        event.start_child_workflow_execution_initiated_event_attributes.workflow_id
                    )
                if kind == "activity_task_started_event_attributes":  # a retry is an Action too
                    counts["actions"] += event.activity_task_started_event_attributes.attempt - 1
                counts["events"] += 1
                counts["bytes"] += event.ByteSize()  # what the server stores
                for column, kinds in COLUMNS.items():
                    counts[column] += kind in kinds  # "events" names none: counted above
            counts["actions"] += len(tasks_with_markers)
    flows = len(sample)
    per_flow = {column: counts[column] / flows if flows else 0.0 for column in COLUMNS}
    return Shape(flows, per_flow | {"kB": counts["bytes"] / 1000 / flows if flows else 0.0})
