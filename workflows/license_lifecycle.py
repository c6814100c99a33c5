"""License lifecycle: what happens to an activated license or credit grant until its date. The
primary account is reminded before it expires (30, 7 and 1 days by default); on the day after
its last valid day it reads `expired`, and credits still in the balance leave it. Started by the
license activation flow for each license it activated, and outlives it.

See docs/flows/license-lifecycle.md.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from activities.license_lifecycle import LicenseLifecycleActivities
    from models.license_lifecycle import (
        ExpireInput,
        LifecycleInput,
        LifecycleState,
        LifecycleStatus,
        ReminderInput,
    )
    from workflows.kit import publish, publish_status, run_step, send_mail

Steps = LicenseLifecycleActivities
REMINDER_DEADLINE = timedelta(hours=12)  # a reminder that late is no longer worth sending


def expiry_moment(expires_on: str) -> datetime:
    """The license is valid through its last day: it expires at 00:00 UTC the day after."""
    last_day = date.fromisoformat(expires_on)
    return datetime(last_day.year, last_day.month, last_day.day, tzinfo=UTC) + timedelta(days=1)


# Named explicitly: running flows and saved histories know this name, whatever the class is called.
@workflow.defn(name="LicenseLifecycleWorkflow")
class LicenseLifecycleWorkflow:
    @workflow.init
    def __init__(self, input: LifecycleInput) -> None:
        self._input = input
        self._status = LifecycleStatus.ACTIVE
        self._reminded: list[int] = []

    @workflow.run
    async def run(self, input: LifecycleInput) -> LifecycleState:
        publish(self._state())
        ends = expiry_moment(input.expires_on)
        for days in sorted(set(input.reminder_days), reverse=True):
            at = ends - timedelta(days=days)
            if at <= workflow.now():
                continue  # too close already (a short license): the later reminders will do
            await workflow.sleep(at - workflow.now())
            await send_mail(
                Steps.send_reminder,
                ReminderInput(input, days),
                details=f"The renewal reminder {days} days before expiry could not be sent.",
                deadline=REMINDER_DEADLINE,
            )
            self._reminded.append(days)
            publish(self._state())
        if ends > workflow.now():
            await workflow.sleep(ends - workflow.now())
        await run_step(Steps.expire, ExpireInput(input, workflow.now()))
        self._status = LifecycleStatus.EXPIRED
        publish_status(self._status.value, self._state())
        return self._state()

    @workflow.query
    def state(self) -> LifecycleState:
        return self._state()

    def _state(self) -> LifecycleState:
        return LifecycleState(
            license_id=self._input.license_id,
            status=self._status,
            expires_on=self._input.expires_on,
            reminders_sent=list(self._reminded),
        )


def summary(input: LifecycleInput) -> str:
    """The one line an operator reads in the Temporal UI."""
    return (
        f"{input.product_name} ({input.kind}, {input.amount}) of Business "
        f"{input.business_id[:8]} until {input.expires_on}"
    )
