"""Licenses with a lifecycle to run: a Business holding credits or a service license, and its
lifecycle flow started as the activation would start it."""

from __future__ import annotations

from datetime import datetime
from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.ext.asyncio import async_sessionmaker
from temporalio.client import Client
from temporalio.client import WorkflowHandle

from core.settings import Settings
from models.contracts.license_activation import flow_id_of
from models.contracts.license_lifecycle import LifecycleInput
from models.contracts.license_lifecycle import LifecycleState
from models.records.domain import Business
from tests.support.activations import existing_business
from tests.support.activations import held_license
from tests.support.temporal import STARTED_FLOWS
from workflows.license_lifecycle import LicenseLifecycleWorkflow

Sessions = async_sessionmaker[AsyncSession]

LifecycleHandle = WorkflowHandle[LicenseLifecycleWorkflow, LifecycleState]


async def credit_license(sessions: Sessions, now: datetime, days: int) -> LifecycleInput:
    """A Business holding 1,000 credits of a grant that is valid for `days` more days (from
    the time-skipping server's `now`), of which 300 are spent (the balance is 700)."""
    business_id, _, _ = await existing_business(sessions, 0, email="owner@acme.example")
    async with sessions.begin() as session:
        business = await session.get(Business, business_id)
        assert business is not None
        business.credit_balance = 700
    last_day = (now + timedelta(days=days)).date()
    license_id = await held_license(
        sessions, business_id, product_code="xdr-credits", kind="credits", units=0,
        credits=1000, expires_on=last_day,
    )  # fmt: skip
    return LifecycleInput(
        license_id, business_id, "XDR Credits", "credits", 1000, last_day.isoformat()
    )


async def service_license(
    sessions: Sessions, now: datetime, days: int, *, trial: bool = False
) -> LifecycleInput:
    """A Business using (or trying) Endpoint Protection on one instance for `days` more days."""
    business_id, _, (instance_id,) = await existing_business(sessions, 1)
    last_day = (now + timedelta(days=days)).date()
    license_id = await held_license(
        sessions, business_id, product_code="endpoint-protection", kind="service", units=50,
        expires_on=last_day, instance_id=instance_id, trial=trial,
    )  # fmt: skip
    return LifecycleInput(
        license_id, business_id, "Endpoint Protection", "service", 50, last_day.isoformat(),
        trial=trial,
    )  # fmt: skip


async def start(client: Client, settings: Settings, license: LifecycleInput) -> LifecycleHandle:
    handle = await client.start_workflow(
        LicenseLifecycleWorkflow.run,
        license,
        id=flow_id_of(license.license_id),
        task_queue=settings.temporal_task_queue,
    )
    STARTED_FLOWS.append(handle)
    return handle
