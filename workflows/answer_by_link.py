"""What a flow shares that waits for one person's answer by an emailed link until it expires
(docs/architecture.md, "The flow kit"), by the `AnswerRules` it declares in its contract."""

from __future__ import annotations

import hmac
from collections.abc import Awaitable
from collections.abc import Callable
from datetime import datetime
from datetime import timedelta
from enum import StrEnum
from typing import Any
from typing import TypeVar

from temporalio import workflow
from temporalio.exceptions import ApplicationError
from temporalio.workflow import UpdateMethodMultiParam

with workflow.unsafe.imports_passed_through():
    from models.contracts.answer_by_link import AnswerRules
    from workflows.kit import Published
    from workflows.kit import Turns
    from workflows.kit import link_known
    from workflows.kit import refused
    from workflows.kit import run_step
    from workflows.kit import send_mail
    from workflows.kit import state_update
    from workflows.kit import wait_until_recorded

StateT = TypeVar("StateT")
StatusT = TypeVar("StatusT", bound=StrEnum)

OUTCOME_MAIL_DEADLINE = timedelta(days=1)  # how long the mail that says how it ended may take


def describe_update(state_type: type[StateT]) -> UpdateMethodMultiParam[[Any], StateT]:
    """The `describe` update sent with the start: answers once the flow is recorded, or why it
    was not."""
    return state_update("describe", state_type, lambda flow: flow._answer_when_recorded())


class AnswerByLink(Published[StatusT, StateT]):
    """What a flow shares that waits for one person's answer by an emailed link until it expires
    (an invitation, an ownership offer, an objection window): its first record (or why it was
    refused), the answer to the update sent with its start, whether a presented link is one it
    sent (waiting for a link still being sent), whether it still waits, the wait itself, its
    status published, and being cancelled.

    The flow calls `_await_answer` in its `__init__` and defines `_state()` and `_close()`."""

    _rules: AnswerRules[StatusT]
    _expires_at: datetime
    _link_hashes: list[str]
    _sending: bool
    _recorded: bool
    _refusal: ApplicationError | None
    _problem: str | None
    _turns: Turns

    def _await_answer(self, rules: AnswerRules[StatusT], *, expires_at: datetime) -> None:
        """The state every such flow starts with, by its rules (from its `__init__`: no
        command, no replay change)."""
        self._rules, self._status = rules, rules.pending
        self._expires_at = expires_at
        self._recorded = self._sending = False
        self._refusal, self._problem = None, None
        self._link_hashes = []
        self._turns = Turns()  # one update at a time writes the flow's record

    async def _close(self, status: StatusT) -> None:  # defined by each flow
        raise TypeError(f"{type(self).__name__} defines _close()")

    # The `cancel` update and `state` query are each flow's: a client reads their answers by the
    # type they declare, which a type variable here would not give.

    async def _cancel(self) -> StateT:
        """Withdrawn by whoever started it, while it may be (`_require_cancellable`)."""
        async with self._turns.take(self._require_cancellable):
            await self._close(self._rules.cancelled)
        return self._state()

    def _require_cancellable(self) -> None:
        """By default, once recorded and while it waits."""
        if not self._recorded and self._status == self._rules.pending:
            raise refused(self._rules.not_recorded, f"the {self._rules.what} is not recorded yet")
        self._require_pending()

    async def _record(self, step: Callable[..., Awaitable[Any]], arg: Any) -> Any | None:
        """Publish the flow, then run its first step, which records it; refused, the flow reads
        `refused` (the update sent with its start answers why) and None is returned."""
        self._publish()
        try:
            record = await run_step(step, arg)
        except ApplicationError as refusal:
            self._refusal, self._problem = refusal, refusal.message
            self._set_status(self._rules.refused)
            return None
        self._recorded = True
        return record

    async def _mail_link(
        self, step: Callable[..., Awaitable[Any]], arg: Any, *, details: str
    ) -> str | None:
        """Mail one of the flow's links by its expiry, and keep its hash. While the mail is on
        its way, a presented link may be this one (`_check_link` waits for it). None when it
        could not be sent (`details`: what an operator reads then)."""
        self._sending = True
        try:
            deadline = self._expires_at - workflow.now()
            link_hash: str | None = await send_mail(step, arg, details=details, deadline=deadline)
        finally:
            self._sending = False
        if link_hash is not None:
            self._link_hashes.append(link_hash)
        return link_hash

    async def _mail_outcome(
        self, step: Callable[..., Awaitable[Any]], arg: Callable[[StatusT], Any], *, details: str
    ) -> None:
        """Tell the parties how it ended, once no update holds its turn (its status is final
        then): `arg` gives the step's input for that status."""
        await workflow.wait_condition(lambda: not self._turns.busy)
        await send_mail(step, arg(self._status), details=details, deadline=OUTCOME_MAIL_DEADLINE)

    async def _wait_for_answer(
        self,
        time_up: Callable[[], Awaitable[None]],
        reminders: list[datetime] | None = None,
        remind: Callable[[], Awaitable[None]] | None = None,
    ) -> None:
        """Wait while the flow waits for its answer, calling `remind` at each of `reminders`;
        at its expiry, once no update holds its turn, `time_up` unless it was answered."""
        reminders = reminders or []
        while self._status == self._rules.pending:
            now = workflow.now()
            if now >= self._expires_at:
                await workflow.wait_condition(lambda: not self._turns.busy)
                if self._status == self._rules.pending:
                    await time_up()
                return
            if remind and reminders and now >= reminders[0]:
                reminders.pop(0)
                await remind()
                continue
            wake_at = min([*reminders[:1], self._expires_at])
            try:
                await workflow.wait_condition(
                    lambda: self._status != self._rules.pending,
                    timeout=(wake_at - now).total_seconds(),
                )
            except TimeoutError:
                continue

    async def _finish(self) -> StateT:
        """The flow's result, once every update in flight has had its answer."""
        await workflow.wait_condition(workflow.all_handlers_finished)
        return self._state()

    def _require_pending(self) -> None:
        status, pending = self._status, self._rules.pending
        if status == pending and workflow.now() >= self._expires_at:  # due, timer or not
            status = self._rules.lapsed
        if status != pending:
            raise refused(self._rules.closed[status])

    def _knows(self, token_hash: str) -> bool:
        return any(hmac.compare_digest(token_hash, known) for known in self._link_hashes)

    def _validate_link(self, token_hash: str) -> None:
        """For validators: a link that is neither known nor possibly still being sent."""
        if not self._knows(token_hash) and not self._sending:
            raise refused(self._rules.invalid_link)
        self._require_pending()

    async def _check_link(self, token_hash: str) -> None:
        if not await link_known(lambda: self._knows(token_hash), lambda: self._sending):
            raise refused(self._rules.invalid_link)

    async def _answer_when_recorded(self) -> StateT:
        """The answer to the update sent with the start: the state, or the refusal."""
        await wait_until_recorded(
            lambda: self._recorded or self._refusal is not None,
            self._rules.not_recorded,
            self._rules.what,
        )
        if self._refusal is not None:
            raise ApplicationError(self._refusal.message, type=self._refusal.type)
        return self._state()
