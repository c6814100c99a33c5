"""How a flow is met from outside its worker: its workflow type, the updates it answers and how it
is started, declared by name and type in each flow's contract. The API, the tests and the bench
start and act on flows through these and never import a workflow module (which would load its
activities); `tests/test_contracts.py` checks each declaration against the workflow's handlers.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any
from typing import Generic
from typing import TypeVar

from temporalio.client import Client
from temporalio.client import WithStartWorkflowOperation
from temporalio.common import SearchAttributePair
from temporalio.common import TypedSearchAttributes
from temporalio.common import WorkflowIDConflictPolicy
from temporalio.common import WorkflowIDReusePolicy

from models.contracts.search_attributes import ACTIVATION_FLOW
from models.contracts.search_attributes import ACTIVATION_STATUS
from models.contracts.search_attributes import BUSINESS_ID

ArgT = TypeVar("ArgT")
AnswerT = TypeVar("AnswerT")
InputT = TypeVar("InputT")


@dataclass(frozen=True)
class Update(Generic[ArgT, AnswerT]):
    """An update a flow answers (`@workflow.update def <name>` in its workflow): the type of its
    one argument (`None`: it takes none) and of its answer."""

    name: str
    arg: type[ArgT] | None
    answer: type[AnswerT]


@dataclass(frozen=True)
class Query(Generic[ArgT, AnswerT]):
    """A query a flow answers (`@workflow.query def <name>`), typed as an `Update`."""

    name: str
    arg: type[ArgT] | None
    answer: type[AnswerT]


@dataclass(frozen=True)
class FlowStart(Generic[InputT, AnswerT]):
    """How one kind of flow is started: update-with-start with its `describe` update, so the
    caller gets the flow's first answer atomically; its kind and first status as search
    attributes, its one-line summary (operators read it), its ID (`flow_id` of the input, or
    the caller's), and what a start meets where a flow has that ID: by default it joins a
    running one and is refused once that one has closed."""

    workflow: str  # the workflow type's name
    describe: Update[None, AnswerT]
    kind: str
    status: StrEnum | str
    summary: Callable[[InputT], str]
    flow_id: Callable[[InputT], str] | None = None
    business_of: Callable[[InputT], str | None] | None = None  # when its input names one
    conflict: WorkflowIDConflictPolicy = WorkflowIDConflictPolicy.USE_EXISTING
    reuse: WorkflowIDReusePolicy = WorkflowIDReusePolicy.REJECT_DUPLICATE

    async def __call__(
        self,
        client: Client,
        input: InputT,
        *,
        task_queue: str,
        flow_id: str | None = None,
        business_id: str | None = None,
        summary: str | None = None,
    ) -> AnswerT:
        """Start the flow (or join it) and return its answer to `describe`. Operators find it by
        kind, status and Business (`business_id`, else the one its input names), and read its
        summary (`summary`, else the flow kind's for this input)."""
        if flow_id is None:
            if self.flow_id is None:
                raise TypeError("this flow's ID is the caller's: pass flow_id")
            flow_id = self.flow_id(input)
        attributes = [
            SearchAttributePair(ACTIVATION_FLOW, self.kind),
            SearchAttributePair(ACTIVATION_STATUS, str(self.status)),
        ]
        business = business_id or (self.business_of(input) if self.business_of else None)
        if business:
            attributes.append(SearchAttributePair(BUSINESS_ID, business))
        operation: WithStartWorkflowOperation[Any, Any] = WithStartWorkflowOperation(
            self.workflow,
            input,
            id=flow_id,
            task_queue=task_queue,
            id_conflict_policy=self.conflict,
            id_reuse_policy=self.reuse,
            search_attributes=TypedSearchAttributes(attributes),
            static_summary=summary or self.summary(input),
        )
        answer: AnswerT = await client.execute_update_with_start_workflow(
            self.describe.name, start_workflow_operation=operation, result_type=self.describe.answer
        )
        return answer
