"""One update at a time writes a flow's records: the others wait for their turn, then check
again that the flow still allows them (it may have moved on meanwhile)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from collections.abc import Callable
from contextlib import asynccontextmanager

from temporalio import workflow


class Turns:
    def __init__(self) -> None:
        self.busy = False

    @asynccontextmanager
    async def take(self, check: Callable[[], None] = lambda: None) -> AsyncIterator[None]:
        """Wait for the turn, then `check` (it may refuse), then hold the turn until the block
        ends."""
        await workflow.wait_condition(lambda: not self.busy)
        # The SDK wakes every satisfied wait in one pass: updates that arrived in one workflow
        # task all see "not busy", and the first to run takes the turn. The others wait again.
        while self.busy:
            await workflow.wait_condition(lambda: not self.busy)
        check()
        self.busy = True
        try:
            yield
        finally:
            self.busy = False

    async def until_free(self) -> None:
        """Until no update holds the turn (a flow's status is final once none does)."""
        await workflow.wait_condition(lambda: not self.busy)
