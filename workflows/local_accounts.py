"""Local-account activation: the primary invites a user to one instance; the user activates the
account from an emailed link within 7 days (a reminder goes out before), or the invitation
lapses and frees its place among the Business's 50.

See docs/flows/local-accounts.md.
"""

from __future__ import annotations

from datetime import datetime
from datetime import timedelta

from temporalio import workflow
from temporalio.common import WorkflowIDReusePolicy
from temporalio.exceptions import ApplicationError

with workflow.unsafe.imports_passed_through():
    from activities.local_accounts import LocalAccountActivities
    from core.tokens import mask_email
    from models.errors import LocalAccountError
    from models.local_accounts import CLOSED
    from models.local_accounts import FLOW_KIND
    from models.local_accounts import ActivateAccountInput
    from models.local_accounts import ActivateInput
    from models.local_accounts import CloseInvitationInput
    from models.local_accounts import InvitationContext
    from models.local_accounts import InvitationState
    from models.local_accounts import InvitationStatus
    from models.local_accounts import RecordInvitationInput
    from models.local_accounts import SendInvitationInput
    from models.local_accounts import StartInvitationInput
    from workflows.kit import AnswerByLink
    from workflows.kit import FlowStart
    from workflows.kit import run_step
    from workflows.kit import send_mail

PENDING = InvitationStatus.PENDING


# Named explicitly: running flows and saved histories know this name, whatever the class is called.
@workflow.defn(name="LocalAccountActivationWorkflow")
class LocalAccountActivationWorkflow(AnswerByLink[InvitationStatus]):
    @workflow.init
    def __init__(self, input: StartInvitationInput) -> None:
        self._input = input
        self._invited_at = workflow.now()
        self._await_answer(
            pending=PENDING,
            lapsed=InvitationStatus.LAPSED,
            closed=CLOSED,
            invalid_link=LocalAccountError.TOKEN_INVALID,
            expires_at=self._invited_at + timedelta(seconds=input.expires_in_seconds),
        )
        self._activated_at: datetime | None = None
        self._context: InvitationContext | None = None

    @workflow.run
    async def run(self, input: StartInvitationInput) -> InvitationState:
        self._publish()
        try:
            context: InvitationContext = await run_step(
                LocalAccountActivities.record_invitation,
                RecordInvitationInput(input, self._invited_at, self._expires_at),
            )
        except ApplicationError as refusal:  # over the limit, or the account exists
            self._refusal = refusal
            self._problem = refusal.message
            self._set_status(InvitationStatus.REFUSED)
            await workflow.wait_condition(workflow.all_handlers_finished)
            return self._state()
        self._context, self._recorded = context, True
        self._publish()
        await self._send_link(context, reminder=False)
        reminders = sorted(
            self._expires_at - timedelta(seconds=offset)
            for offset in input.reminder_before_seconds
            if self._expires_at - timedelta(seconds=offset) > workflow.now()
        )
        while self._status == PENDING:
            now = workflow.now()
            if now >= self._expires_at:
                await workflow.wait_condition(lambda: not self._turns.busy)
                if self._status == PENDING:
                    await self._close(InvitationStatus.LAPSED)
                break
            if reminders and now >= reminders[0]:
                reminders.pop(0)
                await self._send_link(context, reminder=True)
                continue
            wake_at = min([*reminders[:1], self._expires_at])
            try:
                await workflow.wait_condition(
                    lambda: self._status != PENDING, timeout=(wake_at - now).total_seconds()
                )
            except TimeoutError:
                continue
        await workflow.wait_condition(workflow.all_handlers_finished)
        return self._state()

    @workflow.update
    async def describe(self) -> InvitationState:
        """Sent with the start: answers once the account is recorded, or why it was not."""
        state: InvitationState = await self._answer_when_recorded(
            LocalAccountError.NOT_RECORDED, "invitation"
        )
        return state

    @workflow.update
    async def activate(self, input: ActivateInput) -> InvitationState:
        """The invited user's link: the account becomes active."""
        await self._check_link(input.token_hash)
        async with self._turns.take(self._require_pending):
            at = workflow.now()
            await run_step(
                LocalAccountActivities.activate_account,
                ActivateAccountInput(self._input.account_id, at),
            )
        self._activated_at = at
        self._problem = None
        self._set_status(InvitationStatus.ACTIVE)
        return self._state()

    @activate.validator
    def _validate_activate(self, input: ActivateInput) -> None:
        self._validate_link(input.token_hash)

    @workflow.update
    async def cancel(self) -> InvitationState:
        """The primary withdraws the invitation: the place is free again."""
        async with self._turns.take(self._require_pending):
            await self._close(InvitationStatus.CANCELLED)
        return self._state()

    @cancel.validator
    def _validate_cancel(self) -> None:
        if self._context is None and self._status == PENDING:
            raise ApplicationError(
                "the invitation is not recorded yet", type=LocalAccountError.NOT_RECORDED
            )
        self._require_pending()

    @workflow.query
    def state(self) -> InvitationState:
        return self._state()

    async def _send_link(self, context: InvitationContext, *, reminder: bool) -> None:
        self._sending = True
        try:
            token_hash = await send_mail(
                LocalAccountActivities.send_invitation,
                SendInvitationInput(
                    flow_id=workflow.info().workflow_id,
                    link_number=len(self._link_hashes) + 1,
                    email=self._input.email,
                    display_name=self._input.display_name,
                    locale=self._input.locale,
                    context=context,
                    expires_at=self._expires_at,
                    reminder=reminder,
                ),
                details="The invitation email could not be sent.",
                deadline=self._expires_at - workflow.now(),
            )
        finally:
            self._sending = False
        if token_hash is None:
            self._problem = "the invitation email could not be sent"
        else:
            self._link_hashes.append(token_hash)
        self._publish()

    async def _close(self, status: InvitationStatus) -> None:
        await run_step(
            LocalAccountActivities.close_invitation,
            CloseInvitationInput(self._input.account_id, status),
        )
        self._set_status(status)

    def _state(self) -> InvitationState:
        return InvitationState(
            account_id=self._input.account_id,
            business_id=self._input.business_id,
            instance_id=self._input.instance_id,
            email=self._input.email,
            display_name=self._input.display_name,
            status=self._status,
            invited_at=self._invited_at,
            expires_at=self._expires_at,
            activated_at=self._activated_at,
            problem=self._problem,
        )


def summary(input: StartInvitationInput) -> str:
    """The one line an operator reads in the Temporal UI."""
    return (
        f"Local account for {mask_email(input.email)} on instance {input.instance_id[:8]} "
        f"(invited by {input.invited_by[:8]})"
    )


# Starts the invitation, or joins the pending one for the same address and instance.
start = FlowStart(
    LocalAccountActivationWorkflow.run,
    LocalAccountActivationWorkflow.describe,
    FLOW_KIND,
    PENDING,
    summary,
    reuse=WorkflowIDReusePolicy.ALLOW_DUPLICATE,
)
