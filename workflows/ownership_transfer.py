"""Ownership transfer: the primary account offers the Business to one of its active local accounts;
the target accepts or declines from an emailed link within 24 h, the primary can cancel. One
flow per transfer; the database admits one pending transfer per Business.

See docs/flows/ownership-transfer.md.
"""

from __future__ import annotations

from datetime import datetime
from datetime import timedelta

from temporalio import workflow
from temporalio.common import WorkflowIDConflictPolicy
from temporalio.exceptions import ApplicationError

with workflow.unsafe.imports_passed_through():
    from activities.ownership_transfer import OwnershipTransferActivities
    from models.contracts.ownership_transfer import FLOW_KIND
    from models.contracts.ownership_transfer import RULES
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
    from models.contracts.ownership_transfer import flow_id_of
    from workflows.answer_by_link import AnswerByLink
    from workflows.answer_by_link import describe_update
    from workflows.flow_start import FlowStart
    from workflows.kit import cancel_update
    from workflows.kit import run_step
    from workflows.kit import state_of
    from workflows.kit import state_query

PENDING = TransferStatus.PENDING


# Named explicitly: running flows and saved histories know this name, whatever the class is called.
@workflow.defn(name="OwnershipTransferWorkflow")
class OwnershipTransferWorkflow(AnswerByLink[TransferStatus, TransferState]):
    @workflow.init
    def __init__(self, input: StartTransferInput) -> None:
        self._input = input
        self._created_at = workflow.now()
        self._await_answer(
            RULES, expires_at=self._created_at + timedelta(seconds=input.expires_in_seconds)
        )
        self._decided_at: datetime | None = None
        self._parties: TransferParties | None = None

    @workflow.run
    async def run(self, input: StartTransferInput) -> TransferState:
        # Refused: the target does not qualify.
        parties: TransferParties | None = await self._record(
            OwnershipTransferActivities.open_transfer,
            OpenTransferInput(input, self._created_at, self._expires_at),
        )
        if parties is None:
            return await self._finish()
        self._parties = parties
        self._publish()
        await self._send_link(parties)

        async def expire() -> None:
            await self._close(TransferStatus.EXPIRED)

        await self._wait_for_answer(expire)
        await self._mail_outcome(
            OwnershipTransferActivities.send_outcome,
            lambda status: SendTransferOutcomeInput(input.transfer_id, parties, status),
            details="The transfer outcome email could not be sent.",
        )
        return await self._finish()

    describe = describe_update(TransferState)

    @workflow.update
    async def accept(self, input: DecisionInput) -> TransferState:
        """The target's link: the swap happens now, in one transaction."""
        await self._check_link(input.token_hash)
        async with self._turns.take(self._require_pending):
            at = workflow.now()
            try:
                await run_step(
                    OwnershipTransferActivities.complete_transfer,
                    CompleteTransferInput(self._input.transfer_id, at),
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
        self._validate_link(input.token_hash)

    @workflow.update
    async def decline(self, input: DecisionInput) -> TransferState:
        await self._check_link(input.token_hash)
        async with self._turns.take(self._require_pending):
            await self._close(TransferStatus.DECLINED)
        return self._state()

    @decline.validator
    def _validate_decline(self, input: DecisionInput) -> None:
        self._validate_link(input.token_hash)

    cancel = cancel_update(TransferState)  # the primary withdraws the offer
    state = state_query(TransferState)

    async def _send_link(self, parties: TransferParties) -> None:
        flow_id, transfer_id = workflow.info().workflow_id, self._input.transfer_id
        sent = await self._mail_link(
            OwnershipTransferActivities.send_link,
            SendTransferLinkInput(flow_id, transfer_id, parties, self._expires_at),
            details="The transfer link email could not be sent.",
        )
        if sent is None:
            self._problem = "the email to the target account could not be sent"
        self._publish()

    async def _close(self, status: TransferStatus) -> None:
        at = workflow.now()  # one time for the flow and the database
        await run_step(
            OwnershipTransferActivities.close_transfer,
            CloseTransferInput(self._input.transfer_id, status, at),
        )
        self._decided_at = at
        self._set_status(status)

    def _state(self) -> TransferState:
        return state_of(TransferState, self)


def summary(input: StartTransferInput) -> str:
    """The one line an operator reads in the Temporal UI."""
    return (
        f"Ownership transfer {input.transfer_id[:8]}: primary account "
        f"{input.from_account_id[:8]} → local account {input.to_account_id[:8]}"
    )


# Starts the transfer; its answer says whether it was recorded (or why not).
start = FlowStart(
    OwnershipTransferWorkflow.run,
    OwnershipTransferWorkflow.describe,
    FLOW_KIND,
    PENDING,
    summary,
    lambda input: flow_id_of(input.transfer_id),
    conflict=WorkflowIDConflictPolicy.FAIL,
)
