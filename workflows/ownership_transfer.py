"""Ownership transfer: the primary account offers the Business to one of its active local accounts;
the target accepts or declines from an emailed link within 24 h, the primary can cancel. One
flow per transfer; the database admits one pending transfer per Business.

See docs/flows/ownership-transfer.md.
"""

from __future__ import annotations

from datetime import datetime
from datetime import timedelta

from temporalio import workflow
from temporalio.exceptions import ApplicationError

with workflow.unsafe.imports_passed_through():
    from activities.ownership_transfer import OwnershipTransferActivities as Steps
    from models.contracts.ownership_transfer import RULES
    from models.contracts.ownership_transfer import WORKFLOW
    from models.contracts.ownership_transfer import CloseTransferInput
    from models.contracts.ownership_transfer import CompleteTransferInput
    from models.contracts.ownership_transfer import DecisionInput
    from models.contracts.ownership_transfer import OpenTransferInput
    from models.contracts.ownership_transfer import SendTransferLinkInput
    from models.contracts.ownership_transfer import SendTransferOutcomeInput
    from models.contracts.ownership_transfer import StartTransferInput
    from models.contracts.ownership_transfer import TransferParties
    from models.contracts.ownership_transfer import TransferState
    from models.contracts.ownership_transfer import TransferStatus
    from workflows.links import AnswerByLink
    from workflows.publishing import publish
    from workflows.publishing import publish_status
    from workflows.recording import FirstRecord
    from workflows.steps import run_step
    from workflows.waiting import Waited
    from workflows.waiting import wait_for_answer

PENDING = TransferStatus.PENDING


@workflow.defn(name=WORKFLOW)
class OwnershipTransferWorkflow:
    @workflow.init
    def __init__(self, input: StartTransferInput) -> None:
        self._input = input
        self._status = PENDING
        self._created_at = workflow.now()
        expires_at = self._created_at + timedelta(seconds=input.expires_in_seconds)
        self._answer = AnswerByLink(RULES, expires_at=expires_at)
        self._record = FirstRecord(RULES.not_recorded, RULES.what)
        self._decided_at: datetime | None = None
        self._problem: str | None = None

    @workflow.run
    async def run(self, input: StartTransferInput) -> TransferState:
        # 1. Record the offer; refused when the target does not qualify.
        publish(self._state())
        opened = OpenTransferInput(input, self._created_at, self._answer.expires_at)
        parties = await self._record.write(Steps.open_transfer, opened)
        if parties is None:
            self._refused()
            return await self._finish()
        publish(self._state())  # (flows in flight publish here: their histories replay it)
        # 2. Mail the target its link.
        await self._send_link(parties)
        # 3. Wait for the answer (accept, decline, cancel) until the offer lapses.
        answered = await wait_for_answer(
            lambda: self._status != PENDING, lambda: self._answer.expires_at
        )
        if answered is Waited.EXPIRED:
            async with self._answer.turns.take():
                if self._status == PENDING:
                    await self._close(TransferStatus.EXPIRED)
        # 4. Tell both parties how it ended, once no answer holds its turn.
        await self._answer.turns.until_free()
        await self._answer.mail_outcome(
            Steps.send_outcome,
            SendTransferOutcomeInput(input.transfer_id, parties, self._status),
            details="The transfer outcome email could not be sent.",
        )
        return await self._finish()

    # -- handlers --------------------------------------------------------------------------------

    @workflow.update
    async def describe(self) -> TransferState:
        """Sent with the start: answers once the transfer is recorded, or why it was not."""
        await self._record.answer()
        return self._state()

    @workflow.update
    async def accept(self, input: DecisionInput) -> TransferState:
        """The target's link: the swap happens now, in one transaction."""
        await self._answer.check_link(input.token_hash)
        async with self._answer.turns.take(lambda: self._answer.require_pending(self._status)):
            at = workflow.now()
            try:
                await run_step(
                    Steps.complete_transfer, CompleteTransferInput(self._input.transfer_id, at)
                )
            except ApplicationError as refusal:  # the target or the owner changed meanwhile
                self._problem = refusal.message
                await self._close(TransferStatus.FAILED)
                raise
        self._decided_at = at
        self._set_status(TransferStatus.ACCEPTED)
        return self._state()

    @accept.validator
    def _validate_accept(self, input: DecisionInput) -> None:
        self._answer.validate_link(input.token_hash, self._status)

    @workflow.update
    async def decline(self, input: DecisionInput) -> TransferState:
        await self._answer.check_link(input.token_hash)
        async with self._answer.turns.take(lambda: self._answer.require_pending(self._status)):
            await self._close(TransferStatus.DECLINED)
        return self._state()

    @decline.validator
    def _validate_decline(self, input: DecisionInput) -> None:
        self._answer.validate_link(input.token_hash, self._status)

    @workflow.update
    async def cancel(self) -> TransferState:
        """The primary withdraws the offer."""
        async with self._answer.turns.take(self._validate_cancel):
            await self._close(TransferStatus.CANCELLED)
        return self._state()

    @cancel.validator
    def _validate_cancel(self) -> None:
        self._answer.require_cancellable(self._status, recorded=self._record.written)

    @workflow.query
    def state(self) -> TransferState:
        return self._state()

    # -- steps -----------------------------------------------------------------------------------

    async def _send_link(self, parties: TransferParties) -> None:
        flow_id, transfer_id = workflow.info().workflow_id, self._input.transfer_id
        sent = await self._answer.mail_link(
            Steps.send_link,
            SendTransferLinkInput(flow_id, transfer_id, parties, self._answer.expires_at),
            details="The transfer link email could not be sent.",
        )
        if sent is None:
            self._problem = "the email to the target account could not be sent"
        publish(self._state())

    async def _close(self, status: TransferStatus) -> None:
        at = workflow.now()  # one time for the flow and the database
        await run_step(
            Steps.close_transfer, CloseTransferInput(self._input.transfer_id, status, at)
        )
        self._decided_at = at
        self._set_status(status)

    def _refused(self) -> None:
        """Nothing was recorded: the update sent with the start answers why."""
        self._problem = self._record.refusal.message if self._record.refusal else None
        self._set_status(TransferStatus.REFUSED)

    async def _finish(self) -> TransferState:
        """The flow's result, once every update in flight has had its answer."""
        await workflow.wait_condition(workflow.all_handlers_finished)
        return self._state()

    def _set_status(self, status: TransferStatus) -> None:
        self._status = status
        publish_status(status.value, self._state())

    def _state(self) -> TransferState:
        return TransferState(
            transfer_id=self._input.transfer_id,
            business_id=self._input.business_id,
            from_account_id=self._input.from_account_id,
            to_account_id=self._input.to_account_id,
            status=self._status,
            created_at=self._created_at,
            expires_at=self._answer.expires_at,
            decided_at=self._decided_at,
            problem=self._problem,
        )
