"""Primary change by support: the new address is proven first (a child email verification), then
the current primary is told and may stop the change by link during a waiting period (72 h by
default): a social-engineered request is caught by the real owner. With no objection, the swap
happens in one transaction. Support may cancel until then.

See docs/flows/primary-change.md.
"""

from __future__ import annotations

from datetime import datetime
from datetime import timedelta
from typing import Any

from temporalio import workflow
from temporalio.common import WorkflowIDConflictPolicy
from temporalio.exceptions import ApplicationError
from temporalio.exceptions import ChildWorkflowError

with workflow.unsafe.imports_passed_through():
    from activities.primary_change import PrimaryChangeActivities
    from models.contracts import email_verification as verification
    from models.contracts.primary_change import FLOW_KIND
    from models.contracts.primary_change import RULES
    from models.contracts.primary_change import ChangeParties
    from models.contracts.primary_change import ChangeState
    from models.contracts.primary_change import ChangeStatus
    from models.contracts.primary_change import ObjectInput
    from models.contracts.primary_change import OpenChangeInput
    from models.contracts.primary_change import SendObjectionLinkInput
    from models.contracts.primary_change import SendOutcomeInput
    from models.contracts.primary_change import StartChangeInput
    from models.contracts.primary_change import StepInput
    from models.contracts.primary_change import flow_id_of
    from models.errors import ChangeError
    from workflows.answer_by_link import AnswerByLink
    from workflows.answer_by_link import describe_update
    from workflows.email_verification import EmailVerificationWorkflow
    from workflows.email_verification import summary as verification_summary
    from workflows.flow_start import FlowStart
    from workflows.flow_start import cancel_child
    from workflows.flow_start import start_child_flow
    from workflows.kit import cancel_update
    from workflows.kit import refused
    from workflows.kit import run_step
    from workflows.kit import state_of
    from workflows.kit import state_query

Steps = PrimaryChangeActivities
WAITING = ChangeStatus.WAITING
OPEN = (ChangeStatus.VERIFYING, ChangeStatus.WAITING)


# Named explicitly: running flows and saved histories know this name, whatever the class is called.
@workflow.defn(name="PrimaryChangeWorkflow")
class PrimaryChangeWorkflow(AnswerByLink[ChangeStatus, ChangeState]):
    @workflow.init
    def __init__(self, input: StartChangeInput) -> None:
        self._input = input
        self._created_at = workflow.now()
        # The objection link works while the change waits; past its window it is too late.
        self._await_answer(RULES, expires_at=self._created_at)  # set when the window opens
        self._status = ChangeStatus.VERIFYING
        self._objection_ends_at: datetime | None = None
        self._decided_at: datetime | None = None
        self._parties: ChangeParties | None = None
        self._child: workflow.ChildWorkflowHandle[Any, verification.VerificationState] | None
        self._child = None

    @workflow.run
    async def run(self, input: StartChangeInput) -> ChangeState:
        # Refused: it may not happen now, and nothing was recorded.
        parties: ChangeParties | None = await self._record(
            Steps.open_change, OpenChangeInput(input, self._created_at)
        )
        if parties is None:
            return await self._finish()
        self._parties = parties
        if await self._address_proven():
            await self._open_window(parties)
            # Returns at once if the change closed meanwhile; past the window, it completes.
            await self._wait_for_answer(self._complete)
        await self._mail_outcome(
            Steps.send_outcome,
            lambda status: SendOutcomeInput(parties, input.new_email, input.locale, status),
            details="The primary change outcome email could not be sent.",
        )
        return await self._finish()

    describe = describe_update(ChangeState)

    @workflow.update
    async def object(self, input: ObjectInput) -> ChangeState:
        """The current primary's link: the change stops; nothing changes."""
        await self._check_link(input.token_hash)
        async with self._turns.take(self._require_pending):
            await self._close(ChangeStatus.OBJECTED)
        return self._state()

    @object.validator
    def _validate_object(self, input: ObjectInput) -> None:
        self._validate_link(input.token_hash)

    # Support withdraws it (while the address is proven or the window is open).
    cancel = cancel_update(ChangeState)
    state = state_query(ChangeState)

    def _require_cancellable(self) -> None:
        """While the address is proven or the window is open (past it, it completes instead)."""
        if not self._recorded and self._status == ChangeStatus.VERIFYING:
            raise refused(ChangeError.NOT_RECORDED)
        if self._status == WAITING:
            self._require_pending()  # past the window it completes instead
        elif self._status not in OPEN:
            raise refused(self._rules.closed[self._status])

    async def _address_proven(self) -> bool:
        """The child verification of the new address; False if it ended otherwise (the change
        is then closed: failed, or cancelled by support meanwhile)."""
        start = self._input.verification
        self._child = await start_child_flow(
            EmailVerificationWorkflow.run,
            start,
            flow_id=self._input.verification_flow_id,
            kind=verification.FLOW_KIND,
            status=verification.VerificationStatus.PENDING.value,
            summary=verification_summary(start),
            business_id=self._input.business_id,
        )
        self._publish()
        try:
            outcome: verification.VerificationState | None = await self._child
        except ChildWorkflowError:
            outcome = None
        if outcome is not None and outcome.status == verification.VerificationStatus.VERIFIED:
            return True
        async with self._turns.take(lambda: None):  # a cancel in flight goes first
            if self._status == ChangeStatus.VERIFYING:
                self._problem = "the new address was not confirmed in time"
                await self._close(ChangeStatus.FAILED)
        return False

    async def _open_window(self, parties: ChangeParties) -> None:
        now = workflow.now()
        ends = now + timedelta(seconds=self._input.objection_seconds)
        # One turn with support's cancel: the window opens only if the change is still open.
        async with self._turns.take(lambda: None):
            if self._status != ChangeStatus.VERIFYING:
                return
            await run_step(
                Steps.record_step,
                StepInput(self._input.change_id, "verified", now, WAITING, ends),
            )
            self._objection_ends_at = self._expires_at = ends
            self._set_status(WAITING)
        link_hash = await self._mail_link(
            Steps.send_objection_link,
            SendObjectionLinkInput(parties, self._input.new_email, ends),
            details="The objection link email could not be sent.",
        )
        if link_hash is None:
            # Never change an owner who was not told: a change nobody could object to stops.
            async with self._turns.take(lambda: None):
                if self._status == WAITING:
                    self._problem = "the current primary could not be told; the change stopped"
                    await self._close(ChangeStatus.FAILED)
            return
        await run_step(
            Steps.record_step, StepInput(self._input.change_id, "owner_told", workflow.now())
        )
        self._publish()

    async def _complete(self) -> None:
        at = workflow.now()
        try:
            await run_step(
                Steps.complete_change,
                StepInput(self._input.change_id, "completed", at, ChangeStatus.COMPLETED),
            )
        except ApplicationError as refusal:  # the accounts changed meanwhile
            self._problem = refusal.message
            await self._close(ChangeStatus.FAILED)
            return
        self._decided_at = at
        self._set_status(ChangeStatus.COMPLETED)

    async def _close(self, status: ChangeStatus) -> None:
        if status == ChangeStatus.CANCELLED and self._child is not None:
            await cancel_child(self._child)  # support's cancel while the address is proven
        at = workflow.now()  # one time for the flow and the database
        await run_step(
            Steps.record_step, StepInput(self._input.change_id, status.value, at, status)
        )
        self._decided_at = at
        self._set_status(status)

    def _state(self) -> ChangeState:
        # Known from the start (the API derives it): operators can follow it at once.
        verification_id = self._input.verification_flow_id
        return state_of(
            ChangeState, self, id=self._input.change_id, verification_id=verification_id
        )


def summary(input: StartChangeInput) -> str:
    """The one line an operator reads in the Temporal UI (no address, no ticket text)."""
    return (
        f"Primary change {input.change_id[:8]} of Business {input.business_id[:8]} "
        f"by support (old primary: {input.old_primary.value})"
    )


# Starts the change; its answer says whether it was recorded (or why not).
start = FlowStart(
    PrimaryChangeWorkflow.run,
    PrimaryChangeWorkflow.describe,
    FLOW_KIND,
    ChangeStatus.VERIFYING,
    summary,
    lambda input: flow_id_of(input.change_id),
    conflict=WorkflowIDConflictPolicy.FAIL,
)
