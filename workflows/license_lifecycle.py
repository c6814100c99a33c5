"""License lifecycle: what happens to an activated license or credit grant until its date. The
primary account is reminded before it expires (30, 7 and 1 days by default); on the day after
its last valid day it reads `expired`, and credits still in the balance leave it. Started by the
license activation flow for each license it activated, and outlives it. A renewal moves the
license's last day and a paid order converts a trial: the flow is told (`license_changed`), reads
the license again and goes on with the new term, or ends as `converted`.

See docs/flows/license-lifecycle.md.
"""

from __future__ import annotations

import dataclasses
from datetime import UTC
from datetime import date
from datetime import datetime
from datetime import timedelta

from temporalio import workflow
from temporalio.exceptions import FailureError

with workflow.unsafe.imports_passed_through():
    from activities.license_lifecycle import LicenseLifecycleActivities
    from activities.provisioning import ProvisioningActivities
    from models.contracts.license_lifecycle import ExpireInput
    from models.contracts.license_lifecycle import LifecycleInput
    from models.contracts.license_lifecycle import LifecycleState
    from models.contracts.license_lifecycle import LifecycleStatus
    from models.contracts.license_lifecycle import ReminderInput
    from models.contracts.license_lifecycle import Term
    from models.contracts.license_lifecycle import flow_id_of
    from models.contracts.provisioning import LicenseInstanceInput
    from workflows.changes import RENEWABLE
    from workflows.changes import SUSPEND_IN_PRODUCT
    from workflows.changes import taken
    from workflows.in_product import CALLS
    from workflows.publishing import publish
    from workflows.publishing import publish_status
    from workflows.steps import run_step
    from workflows.steps import send_mail

Steps = LicenseLifecycleActivities
REMINDER_DEADLINE = timedelta(hours=12)  # a reminder that late is no longer worth sending


def expiry_moment(expires_on: str) -> datetime:
    """The license is valid through its last day: it expires at 00:00 UTC the day after."""
    last_day = date.fromisoformat(expires_on)
    return datetime(last_day.year, last_day.month, last_day.day, tzinfo=UTC) + timedelta(days=1)


LIFECYCLE_OF = {"expired": LifecycleStatus.EXPIRED, "converted": LifecycleStatus.CONVERTED}


# Named explicitly: running flows and saved histories know this name, whatever the class is called.
@workflow.defn(name="LicenseLifecycleWorkflow")
class LicenseLifecycleWorkflow:
    @workflow.init
    def __init__(self, input: LifecycleInput) -> None:
        self._input = input
        self._status = LifecycleStatus.ACTIVE
        self._reminded: list[int] = []
        self._renewals = 0
        self._changed = False

    @workflow.run
    async def run(self, input: LifecycleInput) -> LifecycleState:
        publish(self._state())
        # A change signalled as the term ended (a renewal racing the expiry) is read too.
        while self._status == LifecycleStatus.ACTIVE or self._changed:
            if self._status == LifecycleStatus.ACTIVE and not await self._remind_until_the_end():
                await self._end_term()
            else:
                self._changed = False
                self._adopt(await run_step(Steps.read_term, self._input.license_id))
        publish_status(self._status.value, self._state())
        return self._state()

    @workflow.signal(name="license_changed")
    def license_changed(self) -> None:
        """A renewal or a conversion changed the license: read it again (the database says how)."""
        self._changed = True

    @workflow.query
    def state(self) -> LifecycleState:
        return self._state()

    async def _remind_until_the_end(self) -> bool:
        """The reminders of the current term, then wait for its end. True: the license changed
        on the way (read it again)."""
        ends = expiry_moment(self._input.expires_on)
        for days in sorted(set(self._input.reminder_days), reverse=True):
            at = ends - timedelta(days=days)
            if days in self._reminded or at <= workflow.now():
                continue  # sent this term, or too close already: the later reminders will do
            if await self._changed_before(at):
                return True
            await send_mail(
                Steps.send_reminder,
                ReminderInput(self._input, days),
                details=f"The renewal reminder {days} days before expiry could not be sent.",
                deadline=REMINDER_DEADLINE,
            )
            self._reminded.append(days)
            publish(self._state())
        return ends > workflow.now() and await self._changed_before(ends)

    async def _changed_before(self, moment: datetime) -> bool:
        try:
            await workflow.wait_condition(lambda: self._changed, timeout=moment - workflow.now())
        except TimeoutError:
            return False
        return True

    async def _end_term(self) -> None:
        expire = ExpireInput(self._input, workflow.now())
        if taken(RENEWABLE):
            self._adopt(await run_step(Steps.end_term, expire))
        else:
            await run_step(Steps.expire, expire)
            self._status = LifecycleStatus.EXPIRED
        # The vendor's product suspends the instance (or takes the add-on off it).
        expired = self._status == LifecycleStatus.EXPIRED and self._input.kind != "credits"
        if expired and taken(SUSPEND_IN_PRODUCT):
            await run_step(
                ProvisioningActivities.sync_license_instance,
                LicenseInstanceInput(self._input.license_id),
                calls=CALLS,
            )

    def _adopt(self, term: Term) -> None:
        """Go on as the database has the license: renewed to a later day, converted or expired."""
        if term.expires_on > self._input.expires_on:
            self._input = dataclasses.replace(self._input, expires_on=term.expires_on)
            self._reminded = []
            self._renewals += 1
        self._status = LIFECYCLE_OF.get(term.status, LifecycleStatus.ACTIVE)
        publish(self._state())

    def _state(self) -> LifecycleState:
        return LifecycleState(
            license_id=self._input.license_id,
            status=self._status,
            expires_on=self._input.expires_on,
            reminders_sent=list(self._reminded),
            renewals=self._renewals,
        )


async def tell_lifecycle(license_id: str) -> bool:
    """From another flow: the license changed (renewed, converted). False: no lifecycle runs."""
    handle = workflow.get_external_workflow_handle(flow_id_of(license_id))
    try:
        await handle.signal(LicenseLifecycleWorkflow.license_changed)
    except FailureError:
        return False
    return True


def summary(input: LifecycleInput) -> str:
    """The one line an operator reads in the Temporal UI."""
    kind = "trial" if input.trial else input.kind
    return (
        f"{input.product_name} ({kind}, {input.amount}) of Business "
        f"{input.business_id[:8]} until {input.expires_on}"
    )
