"""The wait every flow that waits for a person has: until the answer comes, sending each reminder
at its time, until the deadline; and woken early by what the flow must see to at once (a resend,
a finished sign-up). One loop, so each flow reads it as a list of cases."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from datetime import timedelta
from enum import Enum

from temporalio import workflow


class Waited(Enum):
    ANSWERED = "answered"
    EXPIRED = "expired"  # the deadline passed first
    REMINDER_DUE = "reminder due"  # send it, then wait again
    WOKEN = "woken"  # `woken` held: see to it, then wait again


async def wait_for_answer(
    answered: Callable[[], bool],
    expires_at: Callable[[], datetime],
    *,
    reminders: list[datetime] | None = None,
    woken: Callable[[], bool] = lambda: False,
) -> Waited:
    """Wait until `answered()`, `woken()`, the next of `reminders` (taken off the list) or the
    deadline `expires_at()` (which a resend may move), whichever comes first."""
    reminders = reminders if reminders is not None else []
    while not answered():
        if woken():
            return Waited.WOKEN
        now = workflow.now()
        if now >= expires_at():
            return Waited.EXPIRED
        if reminders and now >= reminders[0]:
            reminders.pop(0)
            return Waited.REMINDER_DUE
        wake_at = min([*reminders[:1], expires_at()])
        try:
            await workflow.wait_condition(
                lambda: answered() or woken(), timeout=(wake_at - now).total_seconds()
            )
        except TimeoutError:
            continue  # the loop head decides: expired, or a reminder is due
    return Waited.ANSWERED


def reminder_times(expires_at: datetime, offsets_seconds: list[int]) -> list[datetime]:
    """The reminders still ahead, `offsets_seconds` before the deadline, earliest first."""
    return sorted(
        expires_at - timedelta(seconds=offset)
        for offset in offsets_seconds
        if expires_at - timedelta(seconds=offset) > workflow.now()
    )
