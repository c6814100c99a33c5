"""A flow's first record: the step that writes it (or refuses it), and the answer to the update
sent with the flow's start, which the caller gets only once the record is there."""

from __future__ import annotations

from datetime import timedelta
from typing import TypeVar

from temporalio import workflow
from temporalio.exceptions import ApplicationError

with workflow.unsafe.imports_passed_through():
    from models.errors import DomainError
    from models.errors import refuse
    from workflows.steps import Step
    from workflows.steps import run_step

ArgT = TypeVar("ArgT")
ResultT = TypeVar("ResultT")
RECORD_WAIT = timedelta(seconds=30)


class FirstRecord:
    def __init__(self, not_recorded: DomainError, what: str) -> None:
        """`not_recorded`: the refusal of an answer still waiting after RECORD_WAIT; `what`
        the flow records, in its words ("transfer")."""
        self.written = False
        self.refusal: ApplicationError | None = None
        self._not_recorded, self._what = not_recorded, what

    async def write(self, step: Step[ArgT, ResultT], arg: ArgT) -> ResultT | None:
        """Run the step that records the flow. None: it was refused (`refusal` says why)."""
        try:
            record = await run_step(step, arg)
        except ApplicationError as refusal:
            self.refusal = refusal
            return None
        self.written = True
        return record

    def done(self) -> None:
        """For a first step that cannot be refused: the record is there."""
        self.written = True

    async def answer(self) -> None:
        """For the update sent with the start: return once the record is written, raise its
        refusal if it was refused; past RECORD_WAIT, ask the caller to repeat the request."""
        try:
            await workflow.wait_condition(
                lambda: self.written or self.refusal is not None, timeout=RECORD_WAIT
            )
        except TimeoutError:
            raise refuse(
                self._not_recorded,
                f"the {self._what} is not recorded yet; repeat the request shortly",
            ) from None
        if self.refusal is not None:
            raise ApplicationError(self.refusal.message, type=self.refusal.type)
