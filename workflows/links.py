"""What a flow holds that waits for one person's answer by an emailed link until a deadline (an
invitation, an ownership offer, a primary change's objection window): the rules it answers by,
its deadline, the links it mailed (and one still on its way), and the turn an answer takes. The
flow keeps its status and declares its own handlers; this says what its status allows."""

from __future__ import annotations

import hmac
from datetime import datetime
from datetime import timedelta
from enum import StrEnum
from typing import Any
from typing import Generic
from typing import TypeVar

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from models.contracts.answer_by_link import AnswerRules
    from models.errors import refuse
    from workflows.steps import Step
    from workflows.steps import send_mail
    from workflows.turns import Turns

StatusT = TypeVar("StatusT", bound=StrEnum)
ArgT = TypeVar("ArgT")
# How long an answer waits for a link still being sent (its mail can arrive before its send is
# recorded here).
LINK_SETTLE = timedelta(seconds=30)
OUTCOME_MAIL_DEADLINE = timedelta(days=1)  # how long the mail that says how it ended may take


class AnswerByLink(Generic[StatusT]):
    def __init__(self, rules: AnswerRules[StatusT], *, expires_at: datetime) -> None:
        self.rules = rules
        self.expires_at = expires_at
        self.link_hashes: list[str] = []
        self.sending = False  # a link is on its way: a presented one may be it
        self.turns = Turns()  # one answer at a time writes the flow's records

    # -- what the status allows ------------------------------------------------------------------

    def require_pending(self, status: StatusT) -> None:
        """Still waiting, and not past the deadline (due, whether its timer ran or not)."""
        if status == self.rules.pending and workflow.now() >= self.expires_at:
            status = self.rules.lapsed
        if status != self.rules.pending:
            raise refuse(self.rules.closed[status])

    def require_cancellable(self, status: StatusT, *, recorded: bool) -> None:
        """Withdrawn by whoever started it: once recorded, while it waits."""
        if not recorded and status == self.rules.pending:
            raise refuse(self.rules.not_recorded, f"the {self.rules.what} is not recorded yet")
        self.require_pending(status)

    def validate_link(self, token_hash: str, status: StatusT) -> None:
        """For validators: a link neither known nor possibly still being sent is refused."""
        if not self.knows(token_hash) and not self.sending:
            raise refuse(self.rules.invalid_link)
        self.require_pending(status)

    async def check_link(self, token_hash: str) -> None:
        """A link this flow sent; while one is being sent, wait for it (LINK_SETTLE at most)."""
        if not self.knows(token_hash):
            try:
                await workflow.wait_condition(lambda: not self.sending, timeout=LINK_SETTLE)
            except TimeoutError:
                pass
        if not self.knows(token_hash):
            raise refuse(self.rules.invalid_link)

    def knows(self, token_hash: str) -> bool:
        return any(hmac.compare_digest(token_hash, known) for known in self.link_hashes)

    # -- mails -----------------------------------------------------------------------------------

    async def mail_link(self, step: Step[ArgT, str], arg: ArgT, *, details: str) -> str | None:
        """Mail one of the flow's links by its deadline and keep its hash. None when it could
        not be sent (`details`: what an operator reads then)."""
        self.sending = True
        try:
            deadline = self.expires_at - workflow.now()
            link_hash = await send_mail(step, arg, details=details, deadline=deadline)
        finally:
            self.sending = False
        if link_hash is not None:
            self.link_hashes.append(link_hash)
        return link_hash

    async def mail_outcome(self, step: Step[ArgT, Any], arg: ArgT, *, details: str) -> None:
        """Tell the parties how it ended (a day to get through)."""
        await send_mail(step, arg, details=details, deadline=OUTCOME_MAIL_DEADLINE)
