"""Writes of credit allocation and the sandbox quota (docs/domain.md): each runs as one activity
(the API never writes the database), atomic, and safe to retry."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC
from datetime import date
from datetime import datetime
from typing import Any
from typing import cast

from sqlalchemy import CursorResult
from sqlalchemy import func
from sqlalchemy import select
from sqlalchemy import update
from temporalio import activity

from activities.base import FlowActivities
from activities.base import locked_business
from models.contracts.credits import ResetInput
from models.contracts.direct_change import ALLOCATE_CREDITS
from models.contracts.direct_change import RECORD_SANDBOX_SUBMISSIONS
from models.contracts.direct_change import AllocateCreditsInput
from models.contracts.direct_change import SandboxSubmissionsInput
from models.errors import CreditError
from models.errors import refuse
from models.records.credit_queries import sandbox_quota
from models.records.domain import CreditAllocation
from models.records.domain import SandboxUsage
from models.records.ownership_rules import lock_business


class CreditActivities(FlowActivities):
    def activities(self) -> list[Callable[..., Any]]:
        """What the worker registers: each bound activity method of this flow."""
        return [
            self.allocate,
            self.record_sandbox_submissions,
            self.reset_sandbox_usage,
        ]

    @activity.defn(name=ALLOCATE_CREDITS)
    async def allocate(self, input: AllocateCreditsInput) -> None:
        """Set a sensor kind's allocation; refused when all allocations together would need
        more credits than the Business has. Setting the same units again changes nothing."""
        credits = input.units * input.credits_per_unit
        async with self._sessions.begin() as session:
            business = await locked_business(
                session, input.business_id, CreditError.BUSINESS_NOT_FOUND
            )
            others = await session.scalar(
                select(func.coalesce(func.sum(CreditAllocation.credits), 0)).where(
                    CreditAllocation.business_id == input.business_id,
                    CreditAllocation.sensor_code != input.sensor_code,
                )
            )
            if int(others or 0) + credits > business.credit_balance:
                raise refuse(
                    CreditError.EXCEEDS_BALANCE,
                    f"{credits} credits for {input.sensor_code} and {others} allocated already "
                    f"exceed the balance of {business.credit_balance}",
                )
            row = await session.get(CreditAllocation, (input.business_id, input.sensor_code))
            now = datetime.now(UTC)
            if row is None:
                session.add(
                    CreditAllocation(
                        business_id=input.business_id,
                        sensor_code=input.sensor_code,
                        units=input.units,
                        credits=credits,
                        updated_at=now,
                    )
                )
            elif (row.units, row.credits) != (input.units, credits):
                row.units, row.credits, row.updated_at = input.units, credits, now

    @activity.defn(name=RECORD_SANDBOX_SUBMISSIONS)
    async def record_sandbox_submissions(self, input: SandboxSubmissionsInput) -> None:
        """Count submissions against today's quota, all or none. (A retry after the commit
        would count them twice: the caller's request is not idempotent either.)"""
        async with self._sessions.begin() as session:
            quota = await sandbox_quota(session, input.business_id)
            await lock_business(session, input.business_id)
            usage = await session.get(SandboxUsage, input.business_id)
            if usage is None:
                usage = SandboxUsage(business_id=input.business_id, period=_today(), used=0)
                session.add(usage)
            elif usage.period < _today():  # the schedule missed midnight (a worker was down)
                usage.used, usage.period = 0, _today()
            if usage.used + input.count > quota:
                raise refuse(
                    CreditError.QUOTA_EXHAUSTED,
                    f"{usage.used} of {quota} submissions are used today",
                )
            usage.used += input.count

    @activity.defn(name="credits.reset_sandbox_usage")
    async def reset_sandbox_usage(self, input: ResetInput) -> int:
        """Start a new period for every Business still counting an earlier one; idempotent (a
        repeat for the same day resets nothing more). Returns how many were reset."""
        period = date.fromisoformat(input.period)
        async with self._sessions.begin() as session:
            result = await session.execute(
                update(SandboxUsage)
                .where(SandboxUsage.period < period)
                .values(used=0, period=period)
                .execution_options(synchronize_session=False)
            )
        reset = cast("CursorResult[Any]", result)  # an UPDATE's result is a cursor's
        return reset.rowcount


def _today() -> date:
    return datetime.now(UTC).date()
