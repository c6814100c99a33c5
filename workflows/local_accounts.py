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

with workflow.unsafe.imports_passed_through():
    from activities.local_accounts import LocalAccountActivities
    from core.tokens import mask_email
    from models.contracts.local_accounts import FLOW_KIND
    from models.contracts.local_accounts import RULES
    from models.contracts.local_accounts import ActivateAccountInput
    from models.contracts.local_accounts import ActivateInput
    from models.contracts.local_accounts import CloseInvitationInput
    from models.contracts.local_accounts import InvitationContext
    from models.contracts.local_accounts import InvitationState
    from models.contracts.local_accounts import InvitationStatus
    from models.contracts.local_accounts import RecordInvitationInput
    from models.contracts.local_accounts import SendInvitationInput
    from models.contracts.local_accounts import StartInvitationInput
    from workflows.answer_by_link import AnswerByLink
    from workflows.answer_by_link import describe_update
    from workflows.flow_start import FlowStart
    from workflows.kit import cancel_update
    from workflows.kit import run_step
    from workflows.kit import state_of
    from workflows.kit import state_query

PENDING = InvitationStatus.PENDING


# Named explicitly: running flows and saved histories know this name, whatever the class is called.
@workflow.defn(name="LocalAccountActivationWorkflow")
class LocalAccountActivationWorkflow(AnswerByLink[InvitationStatus, InvitationState]):
    @workflow.init
    def __init__(self, input: StartInvitationInput) -> None:
        self._input = input
        self._invited_at = workflow.now()
        self._await_answer(
            RULES, expires_at=self._invited_at + timedelta(seconds=input.expires_in_seconds)
        )
        self._activated_at: datetime | None = None
        self._context: InvitationContext | None = None

    @workflow.run
    async def run(self, input: StartInvitationInput) -> InvitationState:
        # Refused: over the limit, or the account exists.
        context: InvitationContext | None = await self._record(
            LocalAccountActivities.record_invitation,
            RecordInvitationInput(input, self._invited_at, self._expires_at),
        )
        if context is None:
            return await self._finish()
        self._context = context
        self._publish()
        await self._send_link(context, reminder=False)
        reminders = sorted(
            self._expires_at - timedelta(seconds=offset)
            for offset in input.reminder_before_seconds
            if self._expires_at - timedelta(seconds=offset) > workflow.now()
        )

        async def lapse() -> None:
            await self._close(InvitationStatus.LAPSED)

        async def remind() -> None:
            await self._send_link(context, reminder=True)

        await self._wait_for_answer(lapse, reminders, remind)
        return await self._finish()

    describe = describe_update(InvitationState)

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

    # The primary withdraws the invitation: the place is free again.
    cancel = cancel_update(InvitationState)
    state = state_query(InvitationState)

    async def _send_link(self, context: InvitationContext, *, reminder: bool) -> None:
        input = self._input
        sent = await self._mail_link(
            LocalAccountActivities.send_invitation,
            SendInvitationInput(
                flow_id=workflow.info().workflow_id,
                link_number=len(self._link_hashes) + 1,
                email=input.email,
                display_name=input.display_name,
                locale=input.locale,
                context=context,
                expires_at=self._expires_at,
                reminder=reminder,
            ),
            details="The invitation email could not be sent.",
        )
        if sent is None:
            self._problem = "the invitation email could not be sent"
        self._publish()

    async def _close(self, status: InvitationStatus) -> None:
        await run_step(
            LocalAccountActivities.close_invitation,
            CloseInvitationInput(self._input.account_id, status),
        )
        self._set_status(status)

    def _state(self) -> InvitationState:
        return state_of(InvitationState, self)


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
