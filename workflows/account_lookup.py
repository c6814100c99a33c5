"""Account lookup: "do I already have an account?" The answer goes by mail to the address itself
(which Business it is the primary account of, masked, or that it has none and how one is made);
the HTTP answer is the same for every address, so nobody learns whose address has an account.

See docs/flows/account-lookup.md.
"""

from __future__ import annotations

import uuid
from datetime import timedelta

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from activities.account_lookup import AccountLookupActivities
    from core.tokens import mask_email
    from models.contracts.account_lookup import FLOW_ID_PREFIX
    from models.contracts.account_lookup import FLOW_KIND
    from models.contracts.account_lookup import LookupInput
    from models.contracts.account_lookup import LookupState
    from models.contracts.account_lookup import LookupStatus
    from workflows.flow_start import FlowStart
    from workflows.kit import publish_status
    from workflows.kit import send_mail

# The answer is useful for a while only: a mail still failing after this is given up on.
ANSWER_DEADLINE = timedelta(hours=1)


# Named explicitly: running flows and saved histories know this name, whatever the class is called.
@workflow.defn(name="AccountLookupWorkflow")
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


def summary(input: LookupInput) -> str:
    """The one line an operator reads in the Temporal UI (no full address)."""
    return f"Account lookup for {mask_email(input.email)}"


# A new lookup each time (the per-address mail limit bounds how often one is mailed).
start = FlowStart(
    AccountLookupWorkflow.run,
    AccountLookupWorkflow.describe,
    FLOW_KIND,
    LookupStatus.SENDING,
    summary,
    lambda _: FLOW_ID_PREFIX + str(uuid.uuid4()),
)
