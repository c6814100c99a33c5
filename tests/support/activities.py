"""Running an activity as its retry would."""

from __future__ import annotations

from datetime import UTC
from datetime import datetime

from temporalio.testing import ActivityEnvironment


async def twice(function: object, *args: object) -> None:
    """Run an activity, then again as its retry would (same input, after the commit)."""
    env = ActivityEnvironment()
    for _ in range(2):
        await env.run(function, *args)  # type: ignore[arg-type]


# The moment the activity tests act at (activities take their times from the flow).
NOW = datetime(2026, 11, 21, tzinfo=UTC)
