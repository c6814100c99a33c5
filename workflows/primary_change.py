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
from temporalio.exceptions import ApplicationError
from temporalio.exceptions import ChildWorkflowError

with workflow.unsafe.imports_passed_through():
    from activities.primary_change import PrimaryChangeActivities as Steps
    from models.contracts import email_verification as verification
    from models.contracts.primary_change import RULES
    from models.contracts.primary_change import WORKFLOW
    from models.contracts.primary_change import ChangeParties
    from models.contracts.primary_change import ChangeState
    from models.contracts.primary_change import ChangeStatus
    from models.contracts.primary_change import ObjectInput
    from models.contracts.primary_change import OpenChangeInput
    from models.contracts.primary_change import SendObjectionLinkInput
    from models.contracts.primary_change import SendOutcomeInput
    from models.contracts.primary_change import StartChangeInput
    from models.contracts.primary_change import StepInput
    from models.errors import ChangeError
    from models.errors import refuse
    from workflows.children import cancel_child
    from workflows.children import start_child_flow
    from workflows.email_verification import EmailVerificationWorkflow
    from workflows.links import AnswerByLink
    from workflows.publishing import publish
    from workflows.publishing import publish_status
    from workflows.recording import FirstRecord
    from workflows.steps import run_step
    from workflows.waiting import Waited
    from workflows.waiting import wait_for_answer

WAITING = ChangeStatus.WAITING
OPEN = (ChangeStatus.VERIFYING, ChangeStatus.WAITING)


@workflow.defn(name=WORKFLOW)
class PrimaryChangeWorkflow:
    @workflow.init
    def __init__(self, input: StartChangeInput) -> None:
        self._input = input
        self._status = ChangeStatus.VERIFYING
        self._created_at = workflow.now()
        # The objection link works while the change waits; its deadline is set when the window
        # opens (past it, it is too late to object: the change completes).
        self._answer = AnswerByLink(RULES, expires_at=self._created_at)
        self._record = FirstRecord(RULES.not_recorded, RULES.what)
        self._objection_ends_at: datetime | None = None
        self._decided_at: datetime | None = None
        self._problem: str | None = None
        self._child: workflow.ChildWorkflowHandle[Any, verification.VerificationState] | None
        self._child = None

    @workflow.run
    async def run(self, input: StartChangeInput) -> ChangeState:
        # 1. Record the change; refused when it may not happen now (nothing is recorded).
        publish(self._state())
        parties = await self._record.write(
            Steps.open_change, OpenChangeInput(input, self._created_at)
        )
        if parties is None:
            self._problem = self._record.refusal.message if self._record.refusal else None
            self._set_status(ChangeStatus.REFUSED)
            return await self._finish()
        # 2. The new address is proven (a child verification), or the change fails.
        if await self._address_proven():
            # 3. The current primary is told and may object until the window closes.
            await self._open_window(parties)
            waited = await wait_for_answer(
                lambda: self._status != WAITING, lambda: self._answer.expires_at
            )
            if waited is Waited.EXPIRED:  # 4. No objection: the swap, in one transaction.
                async with self._answer.turns.take():
                    if self._status == WAITING:
                        await self._complete()
        # 5. Both addresses are told how it ended, once no update holds its turn.
        await self._answer.turns.until_free()
        await self._answer.mail_outcome(
            Steps.send_outcome,
            SendOutcomeInput(parties, input.new_email, input.locale, self._status),
            details="The primary change outcome email could not be sent.",
        )
        return await self._finish()

    # -- handlers --------------------------------------------------------------------------------

    @workflow.update
    async def describe(self) -> ChangeState:
        """Sent with the start: answers once the change is recorded, or why it was not."""
        await self._record.answer()
        return self._state()

    @workflow.update
    async def object(self, input: ObjectInput) -> ChangeState:
        """The current primary's link: the change stops; nothing changes."""
        await self._answer.check_link(input.token_hash)
        async with self._answer.turns.take(lambda: self._answer.require_pending(self._status)):
            await self._close(ChangeStatus.OBJECTED)
        return self._state()

    @object.validator
    def _validate_object(self, input: ObjectInput) -> None:
        self._answer.validate_link(input.token_hash, self._status)

    @workflow.update
    async def cancel(self) -> ChangeState:
        """Support withdraws it, while the address is proven or the window is open."""
        async with self._answer.turns.take(self._validate_cancel):
            await self._close(ChangeStatus.CANCELLED)
        return self._state()

    @cancel.validator
    def _validate_cancel(self) -> None:
        if not self._record.written and self._status == ChangeStatus.VERIFYING:
            raise refuse(ChangeError.NOT_RECORDED)
        if self._status == WAITING:
            self._answer.require_pending(self._status)  # past the window it completes instead
        elif self._status not in OPEN:
            raise refuse(RULES.closed[self._status])

    @workflow.query
    def state(self) -> ChangeState:
        return self._state()

    # -- steps -----------------------------------------------------------------------------------

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
            summary=verification.summary(start),
            business_id=self._input.business_id,
        )
        publish(self._state())
        try:
            outcome: verification.VerificationState | None = await self._child
        except ChildWorkflowError:
            outcome = None
        if outcome is not None and outcome.status == verification.VerificationStatus.VERIFIED:
            return True
        async with self._answer.turns.take():  # a cancel in flight goes first
            if self._status == ChangeStatus.VERIFYING:
                self._problem = "the new address was not confirmed in time"
                await self._close(ChangeStatus.FAILED)
        return False

    async def _open_window(self, parties: ChangeParties) -> None:
        now = workflow.now()
        ends = now + timedelta(seconds=self._input.objection_seconds)
        # One turn with support's cancel: the window opens only if the change is still open.
        async with self._answer.turns.take():
            if self._status != ChangeStatus.VERIFYING:
                return
            await run_step(
                Steps.record_step,
                StepInput(self._input.change_id, "verified", now, WAITING, ends),
            )
            self._objection_ends_at = self._answer.expires_at = ends
            self._set_status(WAITING)
        link_hash = await self._answer.mail_link(
            Steps.send_objection_link,
            SendObjectionLinkInput(parties, self._input.new_email, ends),
            details="The objection link email could not be sent.",
        )
        if link_hash is None:
            # Never change an owner who was not told: a change nobody could object to stops.
            async with self._answer.turns.take():
                if self._status == WAITING:
                    self._problem = "the current primary could not be told; the change stopped"
                    await self._close(ChangeStatus.FAILED)
            return
        await run_step(
            Steps.record_step, StepInput(self._input.change_id, "owner_told", workflow.now())
        )
        publish(self._state())

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

    async def _finish(self) -> ChangeState:
        """The flow's result, once every update in flight has had its answer."""
        await workflow.wait_condition(workflow.all_handlers_finished)
        return self._state()

    def _set_status(self, status: ChangeStatus) -> None:
        self._status = status
        publish_status(status.value, self._state())

    def _state(self) -> ChangeState:
        input = self._input
        return ChangeState(
            id=input.change_id,
            business_id=input.business_id,
            status=self._status,
            new_email=input.new_email,
            ticket=input.ticket,
            requested_by=input.requested_by,
            old_primary=input.old_primary,
            created_at=self._created_at,
            objection_ends_at=self._objection_ends_at,
            decided_at=self._decided_at,
            # Known from the start (the API derives it): operators can follow it at once.
            verification_id=input.verification_flow_id,
            problem=self._problem,
        )
