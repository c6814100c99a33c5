"""Local-account activation: the primary invites a user to one instance; the user activates the
account from an emailed link within 7 days (a reminder goes out before), or the invitation
lapses and frees its place among the Business's 50.

See docs/flows/local-accounts.md.
"""

from __future__ import annotations

from datetime import datetime
from datetime import timedelta

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from activities.local_accounts import LocalAccountActivities as Steps
    from models.contracts.local_accounts import RULES
    from models.contracts.local_accounts import WORKFLOW
    from models.contracts.local_accounts import ActivateAccountInput
    from models.contracts.local_accounts import ActivateInput
    from models.contracts.local_accounts import CloseInvitationInput
    from models.contracts.local_accounts import InvitationContext
    from models.contracts.local_accounts import InvitationState
    from models.contracts.local_accounts import InvitationStatus
    from models.contracts.local_accounts import RecordInvitationInput
    from models.contracts.local_accounts import SendInvitationInput
    from models.contracts.local_accounts import StartInvitationInput
    from workflows.links import AnswerByLink
    from workflows.publishing import publish
    from workflows.publishing import publish_status
    from workflows.recording import FirstRecord
    from workflows.steps import run_step
    from workflows.waiting import Waited
    from workflows.waiting import reminder_times
    from workflows.waiting import wait_for_answer

PENDING = InvitationStatus.PENDING


@workflow.defn(name=WORKFLOW)
class LocalAccountActivationWorkflow:
    @workflow.init
    def __init__(self, input: StartInvitationInput) -> None:
        self._input = input
        self._status = PENDING
        self._invited_at = workflow.now()
        expires_at = self._invited_at + timedelta(seconds=input.expires_in_seconds)
        self._answer = AnswerByLink(RULES, expires_at=expires_at)
        self._record = FirstRecord(RULES.not_recorded, RULES.what)
        self._activated_at: datetime | None = None
        self._problem: str | None = None

    @workflow.run
    async def run(self, input: StartInvitationInput) -> InvitationState:
        # 1. Record the invitation; refused over the Business's limit, or if the account exists.
        publish(self._state())
        recorded = RecordInvitationInput(input, self._invited_at, self._answer.expires_at)
        context = await self._record.write(Steps.record_invitation, recorded)
        if context is None:
            self._problem = self._record.refusal.message if self._record.refusal else None
            self._set_status(InvitationStatus.REFUSED)
            return await self._finish()
        publish(self._state())  # (flows in flight publish here: their histories replay it)
        # 2. Mail the invitation, then a reminder before it lapses, until it is answered.
        await self._send_link(context, reminder=False)
        reminders = reminder_times(self._answer.expires_at, input.reminder_before_seconds)
        while True:
            waited = await wait_for_answer(
                lambda: self._status != PENDING,
                lambda: self._answer.expires_at,
                reminders=reminders,
            )
            if waited is Waited.REMINDER_DUE:
                await self._send_link(context, reminder=True)
                continue
            if waited is Waited.EXPIRED:  # 3. Or it lapses, and its place is free again.
                async with self._answer.turns.take():
                    if self._status == PENDING:
                        await self._close(InvitationStatus.LAPSED)
            return await self._finish()

    # -- handlers --------------------------------------------------------------------------------

    @workflow.update
    async def describe(self) -> InvitationState:
        """Sent with the start: answers once the invitation is recorded, or why it was not."""
        await self._record.answer()
        return self._state()

    @workflow.update
    async def activate(self, input: ActivateInput) -> InvitationState:
        """The invited user's link: the account becomes active."""
        await self._answer.check_link(input.token_hash)
        async with self._answer.turns.take(lambda: self._answer.require_pending(self._status)):
            at = workflow.now()
            await run_step(Steps.activate_account, ActivateAccountInput(self._input.account_id, at))
        self._activated_at = at
        self._problem = None
        self._set_status(InvitationStatus.ACTIVE)
        return self._state()

    @activate.validator
    def _validate_activate(self, input: ActivateInput) -> None:
        self._answer.validate_link(input.token_hash, self._status)

    @workflow.update
    async def cancel(self) -> InvitationState:
        """The primary withdraws the invitation: the place is free again."""
        async with self._answer.turns.take(self._validate_cancel):
            await self._close(InvitationStatus.CANCELLED)
        return self._state()

    @cancel.validator
    def _validate_cancel(self) -> None:
        self._answer.require_cancellable(self._status, recorded=self._record.written)

    @workflow.query
    def state(self) -> InvitationState:
        return self._state()

    # -- steps -----------------------------------------------------------------------------------

    async def _send_link(self, context: InvitationContext, *, reminder: bool) -> None:
        input = self._input
        sent = await self._answer.mail_link(
            Steps.send_invitation,
            SendInvitationInput(
                flow_id=workflow.info().workflow_id,
                link_number=len(self._answer.link_hashes) + 1,
                email=input.email,
                display_name=input.display_name,
                locale=input.locale,
                context=context,
                expires_at=self._answer.expires_at,
                reminder=reminder,
            ),
            details="The invitation email could not be sent.",
        )
        if sent is None:
            self._problem = "the invitation email could not be sent"
        publish(self._state())

    async def _close(self, status: InvitationStatus) -> None:
        await run_step(Steps.close_invitation, CloseInvitationInput(self._input.account_id, status))
        self._set_status(status)

    async def _finish(self) -> InvitationState:
        """The flow's result, once every update in flight has had its answer."""
        await workflow.wait_condition(workflow.all_handlers_finished)
        return self._state()

    def _set_status(self, status: InvitationStatus) -> None:
        self._status = status
        publish_status(status.value, self._state())

    def _state(self) -> InvitationState:
        input = self._input
        return InvitationState(
            account_id=input.account_id,
            business_id=input.business_id,
            instance_id=input.instance_id,
            email=input.email,
            display_name=input.display_name,
            status=self._status,
            invited_at=self._invited_at,
            expires_at=self._answer.expires_at,
            activated_at=self._activated_at,
            problem=self._problem,
        )
