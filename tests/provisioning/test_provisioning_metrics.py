"""Calls to the vendor's product backend are counted by product, method and answer, in the
worker's metrics (read here from an in-memory buffer, Prometheus in a deployment)."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.ext.asyncio import async_sessionmaker
from temporalio.testing import WorkflowEnvironment

from core.metric_names import PROVISIONING_CALLS
from core.settings import Settings
from models.contracts.license_activation import ActivationStatus
from models.contracts.license_activation import SignInInput
from tests.support.activations import SERVICE
from tests.support.activations import accept_cloud
from tests.support.activations import existing_business
from tests.support.activations import place_order
from tests.support.activations import wait_for_status
from tests.support.metrics import metered_client
from tests.support.metrics import updates_of
from tests.support.product_backend import FakeBackend
from tests.support.temporal import end_started_flows
from workers.worker import build_worker
from workflows.license_activation import LicenseActivationWorkflow

pytestmark = pytest.mark.asyncio


async def test_each_call_to_the_backend_is_counted_by_its_answer(
    dev_env: WorkflowEnvironment,
    settings: Settings,
    app_sessions: async_sessionmaker[AsyncSession],
    backend: FakeBackend,
) -> None:
    client, buffer = await metered_client(dev_env, settings)
    settings.temporal_task_queue = f"provisioning-metrics-{uuid.uuid4().hex[:8]}"
    async with build_worker(client, settings, app_sessions):
        _, account_id, _ = await existing_business(app_sessions, 0)
        _, handle = await place_order(client, settings, [SERVICE])
        await handle.execute_update(LicenseActivationWorkflow.sign_in, SignInInput(account_id))
        await handle.execute_update(LicenseActivationWorkflow.accept_agreements, accept_cloud())
        await wait_for_status(handle, ActivationStatus.ACTIVATED, timeout=30)
        calls = await updates_of(buffer, PROVISIONING_CALLS)
        await end_started_flows(dev_env)
    assert {"product": "endpoint-protection", "method": "PUT", "answer": "2xx"}.items() <= (
        calls[0].items()
    )
