"""Reads of a Business's credits, shared by the API and the activities (docs/domain.md)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from models.contracts.credits import SANDBOX
from models.records.domain import CreditAllocation
from models.records.domain import SandboxUsage


async def sandbox_quota(session: AsyncSession, business_id: str) -> int:
    """Submissions a day the Business has allocated credits for."""
    units = await session.scalar(
        select(CreditAllocation.units).where(
            CreditAllocation.business_id == business_id, CreditAllocation.sensor_code == SANDBOX
        )
    )
    return int(units or 0)


@dataclass
class CreditsNow:
    allocations: list[CreditAllocation]
    sandbox_used: int  # in the current period


async def credits_now(session: AsyncSession, business_id: str) -> CreditsNow:
    rows = await session.scalars(
        select(CreditAllocation)
        .where(CreditAllocation.business_id == business_id)
        .order_by(CreditAllocation.sensor_code)
    )
    usage = await session.get(SandboxUsage, business_id)
    current = usage is not None and usage.period >= datetime.now(UTC).date()
    return CreditsNow(list(rows), usage.used if usage is not None and current else 0)
