"""Helpers for the license-activation tests: orders, a Business with instances, waiting."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC
from datetime import date
from datetime import datetime
from datetime import timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.ext.asyncio import async_sessionmaker
from temporalio.client import Client
from temporalio.client import WorkflowHandle
from temporalio.testing import WorkflowEnvironment

from api.flow_clients.license_activation import OrderCreate
from api.flow_clients.license_activation import order_input
from core.settings import Settings
from core.tokens import domain_key
from models.catalog import load_catalog
from models.contracts import email_verification as verification
from models.contracts.license_activation import SIGNUP_PURPOSE
from models.contracts.license_activation import START as start
from models.contracts.license_activation import AcceptAgreementsInput
from models.contracts.license_activation import ActivationState
from models.contracts.license_activation import ActivationStatus
from models.contracts.license_activation import AgreementRef
from models.contracts.license_activation import CreateAccountInput
from models.contracts.license_activation import StartActivationInput
from models.contracts.license_activation import flow_id_of
from models.records.domain import Account
from models.records.domain import Business
from models.records.domain import License
from models.records.domain import Order
from models.records.domain import ProductInstance
from tests.support.temporal import STARTED_FLOWS
from workflows.license_activation import LicenseActivationWorkflow

ActivationHandle = WorkflowHandle[LicenseActivationWorkflow, ActivationState]
NEXT_YEAR = date.today() + timedelta(days=365)
SERVICE = {"product": "endpoint-protection", "units": 50, "expires_on": NEXT_YEAR.isoformat()}
ADDON = {"product": "edr-addon", "units": 50, "expires_on": NEXT_YEAR.isoformat()}
CREDITS = {"product": "xdr-credits", "credits": 1000, "expires_on": NEXT_YEAR.isoformat()}
# Accepting these (the default catalog's current versions) satisfies any cloud order.
CLOUD_AGREEMENTS = [
    ("cloud-service-terms", "2026-01"),
    ("privacy-notice", "2026-01"),
    ("data-collection-notice", "2026-01"),
]


def accept_cloud(client_address: str | None = "203.0.113.7") -> AcceptAgreementsInput:
    return AcceptAgreementsInput(
        [AgreementRef(id, version) for id, version in CLOUD_AGREEMENTS], client_address
    )


def order_body(items: list[dict[str, Any]], **overrides: Any) -> dict[str, Any]:
    return {
        "company_name": "Acme Corp",
        "contact_email": "buyer@acme.example",
        "items": items,
    } | overrides


def activation_input(
    settings: Settings, items: list[dict[str, Any]], **overrides: Any
) -> StartActivationInput:
    return order_input(
        settings, load_catalog(), OrderCreate.model_validate(order_body(items, **overrides))
    )


async def finished(env: WorkflowEnvironment, handle: ActivationHandle) -> ActivationState:
    """The flow's result once its last steps run: no timer is left to skip to, so the clock is
    held (awaited while an activity waits for the worker, the test server jumps it by years)."""
    with env.auto_time_skipping_disabled():
        return await handle.result()


async def place_order(
    client: Client, settings: Settings, items: list[dict[str, Any]], **overrides: Any
) -> tuple[ActivationState, ActivationHandle]:
    input = activation_input(settings, items, **overrides)
    state = await start(client, input, task_queue=settings.temporal_task_queue)
    handle: ActivationHandle = client.get_workflow_handle_for(
        LicenseActivationWorkflow.run, flow_id_of(input.order_id)
    )
    STARTED_FLOWS.append(handle)
    return state, handle


def signup(settings: Settings, state: ActivationState, email: str) -> CreateAccountInput:
    key = domain_key(
        settings.secret_key, "email-verification", SIGNUP_PURPOSE, state.order_id, email
    )
    return CreateAccountInput(email, "en", verification.FLOW_ID_PREFIX + key)


async def wait_for_status(
    handle: ActivationHandle, *statuses: ActivationStatus, timeout: float = 15
) -> ActivationState:
    """Some steps follow an activity (or a child) on their own: poll the query until reached."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        state = await handle.query(LicenseActivationWorkflow.state)
        if state.status in statuses:
            return state
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"still {state.status}, expected one of {statuses}")
        await asyncio.sleep(0.05)


async def existing_business(
    sessions: async_sessionmaker[AsyncSession], instances: int, email: str = "owner@acme.example"
) -> tuple[str, str, list[str]]:
    """A Business with its primary account and `instances` endpoint-protection instances."""
    business_id, account_id = str(uuid.uuid4()), str(uuid.uuid4())
    instance_ids = [str(uuid.uuid4()) for _ in range(instances)]
    async with sessions.begin() as session:
        session.add(Business(id=business_id, name="Acme Corp", region="us", credit_balance=0))
        await session.flush()
        session.add(
            Account(
                id=account_id, business_id=business_id, email=email, kind="primary", status="active"
            )
        )
        for number, instance_id in enumerate(instance_ids):
            session.add(
                ProductInstance(
                    id=instance_id,
                    business_id=business_id,
                    product_code="endpoint-protection",
                    region="us",
                    description=f"Site {number + 1}",
                )
            )
            await session.flush()
    return business_id, account_id, instance_ids


async def held_license(
    sessions: async_sessionmaker[AsyncSession],
    business_id: str,
    *,
    license_id: str | None = None,
    **columns: Any,
) -> str:
    """An activated order of the Business holding one license (`columns`: the License's, such
    as product_code, kind, units, credits, expires_on, status, instance_id, trial)."""
    order_id, license_id = str(uuid.uuid4()), license_id or str(uuid.uuid4())
    async with sessions.begin() as session:
        session.add(
            Order(
                id=order_id, company_name="Acme Corp", contact_email="buyer@acme.example",
                region="us", locale="en", status="activated", business_id=business_id,
                expires_at=datetime.now(UTC),
            )
        )  # fmt: skip
        await session.flush()
        session.add(License(id=license_id, order_id=order_id, **({"status": "active"} | columns)))
    return license_id


async def lapsed_license(
    sessions: async_sessionmaker[AsyncSession], business_id: str, today: date
) -> tuple[str, str]:
    """An Endpoint Protection license of the Business that expired last week, and its
    instance (kept: a renewal brings it back)."""
    license_id, instance_id = str(uuid.uuid4()), str(uuid.uuid4())
    async with sessions.begin() as session:
        session.add(
            ProductInstance(
                id=instance_id, business_id=business_id, product_code="endpoint-protection",
                region="us", description="Site 1", license_id=license_id,
            )
        )  # fmt: skip
    await held_license(
        sessions, business_id, license_id=license_id, product_code="endpoint-protection",
        kind="service", units=50, expires_on=today - timedelta(days=7), status="expired",
        instance_id=instance_id,
    )  # fmt: skip
    return license_id, instance_id
