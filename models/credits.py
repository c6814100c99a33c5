"""What a Business does with its credits (docs/domain.md): allocations per sensor kind, and the
daily sandbox quota whose usage resets at 00:00 UTC through a Temporal Schedule."""

from __future__ import annotations

from dataclasses import dataclass

from models.errors import DomainError

RESET_SCHEDULE_ID = "sandbox-quota-reset"
RESET_FLOW_KIND = "sandbox-quota-reset"
SANDBOX = "sandbox"  # the sensor whose units are a daily submission quota


class CreditError(DomainError):
    """The refusals of credit allocation and the sandbox quota."""

    UNKNOWN_SENSOR = "unknown_sensor", 404, "no such sensor kind in the catalog"
    BUSINESS_NOT_FOUND = "business_not_found", 404, "no such Business"
    EXCEEDS_BALANCE = (
        "allocation_exceeds_balance",
        409,
        "the allocations would need more credits than the Business has",
    )
    QUOTA_EXHAUSTED = (
        "sandbox_quota_exhausted",
        429,
        "today's sandbox submission quota is used up; it resets at 00:00 UTC",
    )


@dataclass
class ResetInput:
    period: str  # the day that begins (UTC), ISO: payloads carry datetimes, not dates
