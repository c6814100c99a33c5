"""What a Business does with its credits (docs/domain.md): allocations per sensor kind, and the
daily sandbox quota whose usage resets at 00:00 UTC through a Temporal Schedule."""

from __future__ import annotations

from dataclasses import dataclass

RESET_SCHEDULE_ID = "sandbox-quota-reset"
RESET_FLOW_KIND = "sandbox-quota-reset"
SANDBOX = "sandbox"  # the sensor whose units are a daily submission quota


@dataclass
class ResetInput:
    period: str  # the day that begins (UTC), ISO: payloads carry datetimes, not dates
