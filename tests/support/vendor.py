"""A vendor that activates orders for a Business and follows their lifecycles: the renewal,
trial and event tests' way of driving real activations."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any
from typing import TypeVar

from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.ext.asyncio import async_sessionmaker
from temporalio.client import Client
from temporalio.client import WorkflowHandle
from temporalio.testing import WorkflowEnvironment

from core.settings import Settings
from models.contracts.license_activation import ActivationState
from models.contracts.license_activation import ActivationStatus
from models.contracts.license_activation import SignInInput
from models.contracts.license_lifecycle import LifecycleState
from models.contracts.license_lifecycle import flow_id_of
from tests.support.activations import ActivationHandle
from tests.support.activations import accept_cloud
from tests.support.activations import existing_business
from tests.support.activations import place_order
from tests.support.lifecycles import LifecycleHandle
from tests.support.mail import MailSink
from workflows.license_activation import LicenseActivationWorkflow
from workflows.license_lifecycle import LicenseLifecycleWorkflow

Sessions = async_sessionmaker[AsyncSession]

OWNER = "owner@acme.example"


StateT = TypeVar("StateT")


def service(last_day: date, units: int = 50) -> dict[str, Any]:
    return {"product": "endpoint-protection", "units": units, "expires_on": last_day.isoformat()}


def addon(last_day: date) -> dict[str, Any]:
    return {"product": "edr-addon", "units": 50, "expires_on": last_day.isoformat()}


@dataclass
class Vendor:
    """A Temporal environment with the real worker, the database and the mailbox: what the
    activations, their lifecycles and the tests' checks run on."""

    client: Client
    env: WorkflowEnvironment
    settings: Settings
    sessions: Sessions
    smtp: MailSink

    async def today(self) -> date:
        """The server's date: earlier tests moved the time-skipping clock on."""
        return (await self.env.get_current_time()).date()

    async def customer(self, instances: int = 0) -> tuple[str, str, list[str]]:
        return await existing_business(self.sessions, instances, email=OWNER)

    async def activate(
        self, account_id: str, items: list[dict[str, Any]], **order: Any
    ) -> tuple[ActivationState, ActivationHandle]:
        """Order, sign in with the Business's primary account, accept: activated."""
        _, handle = await place_order(self.client, self.settings, items, **order)
        await handle.execute_update(LicenseActivationWorkflow.sign_in, SignInInput(account_id))
        await handle.execute_update(LicenseActivationWorkflow.accept_agreements, accept_cloud())
        result = await self.finished(handle)
        assert result.status == ActivationStatus.ACTIVATED, result.problem
        return result, handle

    async def finished(self, handle: WorkflowHandle[Any, StateT]) -> StateT:
        """A flow that ends on its own: no time needs to pass (the lifecycles' must not)."""
        with self.env.auto_time_skipping_disabled():
            return await asyncio.wait_for(handle.result(), timeout=15)

    def lifecycle(self, license_id: str) -> LifecycleHandle:
        return self.client.get_workflow_handle_for(
            LicenseLifecycleWorkflow.run, flow_id_of(license_id)
        )

    async def lifecycle_state(
        self, license_id: str, until: Callable[[LifecycleState], bool] = lambda state: True
    ) -> LifecycleState:
        """The lifecycle's state once `until` holds (a signal is taken in by its next task)."""
        for _ in range(200):
            state = await self.lifecycle(license_id).query(LicenseLifecycleWorkflow.state)
            if until(state):
                return state
            await asyncio.sleep(0.05)
        raise AssertionError(f"the lifecycle of {license_id} is still {state}")
