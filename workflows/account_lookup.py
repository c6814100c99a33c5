"""Account lookup: "do I already have an account?" The answer goes by mail to the address itself
(which Business it is the primary account of, masked, or that it has none and how one is made);
the HTTP answer is the same for every address, so nobody learns whose address has an account.

See docs/flows/account-lookup.md.
"""

from __future__ import annotations

from datetime import timedelta

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from activities.account_lookup import AccountLookupActivities
    from models.contracts.account_lookup import WORKFLOW
    from models.contracts.account_lookup import LookupInput
    from models.contracts.account_lookup import LookupState
    from models.contracts.account_lookup import LookupStatus
    from workflows.publishing import publish_status
    from workflows.steps import send_mail

# The answer is useful for a while only: a mail still failing after this is given up on.
ANSWER_DEADLINE = timedelta(hours=1)


@workflow.defn(name=WORKFLOW)
class AccountLookupWorkflow:
    @workflow.init
    def __init__(self, input: LookupInput) -> None:
        self._status = LookupStatus.SENDING

    @workflow.run
    async def run(self, input: LookupInput) -> LookupState:
        sent = await send_mail(
            AccountLookupActivities.send_answer,
            input,
            details="The account lookup email could not be sent.",
            deadline=ANSWER_DEADLINE,
        )
        self._status = LookupStatus.SENT if sent else LookupStatus.NOT_SENT
        publish_status(self._status.value, self._state())
        return self._state()

    @workflow.update
    def describe(self) -> LookupState:
        """Sent with the start: the flow exists (the answer itself goes by mail)."""
        return self._state()

    def _state(self) -> LookupState:
        return LookupState(id=workflow.info().workflow_id, status=self._status)
