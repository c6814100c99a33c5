"""Provisioning in the vendor's product, for a license activation (docs/provisioning.md): after
our own rows, each instance the order creates or changes is PUT to its product's backend; an
instance the backend is still setting up (202) is waited for, by its callback or by asking its
status URL, until the deadline. The customer's console links come back on the order's items.
Composed into `LicenseActivationWorkflow`, which hands it the backend's callbacks."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

from temporalio import workflow
from temporalio.exceptions import ApplicationError

with workflow.unsafe.imports_passed_through():
    from activities.provisioning import ProvisioningActivities as Steps
    from models.contracts.license_activation import ProvisionInput
    from models.contracts.provisioning import InstanceAnswer
    from models.contracts.provisioning import InstanceStatus
    from models.contracts.provisioning import PendingInstance
    from models.contracts.provisioning import PollInput
    from models.contracts.provisioning import ProductAnswers
    from models.contracts.provisioning import RecordAnswersInput
    from models.errors import ProvisioningError
    from workflows.steps import Calls
    from workflows.steps import Undo
    from workflows.steps import run_step

# Each instance's call may take the backend's whole timeout (at most 2 minutes); the steps
# heartbeat, so a lost worker is noticed within half a minute.
CALLS = Calls(timeout=timedelta(minutes=10), heartbeat=timedelta(seconds=30))


class InProduct:
    def __init__(self, changed: Callable[[], None]) -> None:
        self._changed = changed  # the activation publishes its state (the page reads it)
        self._pending: list[PendingInstance] = []
        # Callbacks as they come, kept even before the backend's 202 has reached us.
        self._answers: dict[str, InstanceAnswer] = {}
        self.setting_up = False

    def answered(self, answer: InstanceAnswer) -> None:
        """The backend called back about an instance (the first word on it counts)."""
        if answer.status != InstanceStatus.PENDING:
            self._answers.setdefault(answer.instance_id, answer)

    async def provision(
        self, work: ProvisionInput, undo: Undo, *, deadline: timedelta
    ) -> ApplicationError | None:
        """Call the backends; on success every item knows its console. A refusal, or an
        instance not ready in time, is returned (the caller undoes, this step's deletions
        first)."""
        undo.push(
            Steps.deprovision_in_product, work, calls=CALLS
        )  # first: a timed-out step may have created
        try:
            answers = await run_step(
                Steps.provision_in_product, work, deadline=deadline, calls=CALLS
            )
        except ApplicationError as failure:
            return failure
        ready = list(answers.ready)
        if answers.pending:
            later = await self._wait_for(answers)
            if isinstance(later, ApplicationError):
                return later
            ready += later
        consoles = {answer.instance_id: answer.console_url for answer in ready}
        for item in work.items:
            item.console_url = consoles.get(item.instance_id or "") or item.console_url
        return None

    async def _wait_for(self, answers: ProductAnswers) -> list[InstanceAnswer] | ApplicationError:
        """Wait for each pending instance: its callback, or its status URL asked every
        `poll_seconds`; those that answered are kept on their rows whatever came of it."""
        self._pending = answers.pending
        self.setting_up = True
        self._changed()
        ends = workflow.now() + timedelta(seconds=answers.wait_seconds)
        while not self._all_answered() and workflow.now() < ends:
            asked = [pending for pending in self._unanswered() if pending.status_url]
            wait = ends - workflow.now()
            if asked:
                wait = min(wait, timedelta(seconds=answers.poll_seconds))
            try:
                await workflow.wait_condition(self._all_answered, timeout=wait)
            except TimeoutError:
                if asked:
                    for answer in await run_step(
                        Steps.poll_instances, PollInput(asked), calls=CALLS
                    ):
                        self.answered(answer)
        self.setting_up = False
        got = [
            self._answers[p.instance_id] for p in self._pending if p.instance_id in self._answers
        ]
        if got:
            await run_step(Steps.record_instances, RecordAnswersInput(got))
        if not self._all_answered():
            return _failure(ProvisioningError.TIMED_OUT, "no answer for an instance in time")
        failed = [answer for answer in got if answer.status == InstanceStatus.FAILED]
        if failed:
            return _failure(
                ProvisioningError.REFUSED,
                f"instance {failed[0].instance_id} was not set up: {failed[0].reason}",
            )
        return got

    def _unanswered(self) -> list[PendingInstance]:
        return [pending for pending in self._pending if pending.instance_id not in self._answers]

    def _all_answered(self) -> bool:
        return not self._unanswered()


def _failure(error: ProvisioningError, message: str) -> ApplicationError:
    return ApplicationError(message, type=error.value, non_retryable=True)
