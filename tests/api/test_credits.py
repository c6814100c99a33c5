"""Credits after activation: allocation to sensor kinds within the balance, the Credit
Calculator, and the daily sandbox quota (its reset by the daily flow on the time-skipping
server; the schedule itself is tested on the dev server in tests/workflows)."""

from __future__ import annotations

from datetime import UTC
from datetime import datetime
from datetime import timedelta

import httpx
import pytest
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.ext.asyncio import async_sessionmaker
from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment

from core.settings import Settings
from models.records.domain import Business
from models.records.domain import SandboxUsage
from tests.support.accounts import add_local_account
from tests.support.activations import existing_business
from tests.support.api import AUTH
from workflows.sandbox_quota import SandboxQuotaResetWorkflow

pytestmark = pytest.mark.asyncio
Sessions = async_sessionmaker[AsyncSession]


async def business_with_credits(sessions: Sessions, credits: int) -> tuple[str, dict[str, str]]:
    business_id, owner_id, _ = await existing_business(sessions, 1)
    async with sessions.begin() as session:
        await session.execute(
            update(Business).where(Business.id == business_id).values(credit_balance=credits)
        )
    return business_id, AUTH | {"X-Acting-Account": owner_id}


async def test_credits_are_allocated_within_the_balance(
    api: httpx.AsyncClient, time_client: Client, app_sessions: Sessions
) -> None:
    business_id, owner = await business_with_credits(app_sessions, 600)
    path = f"/v1/businesses/{business_id}/credit-allocations"
    endpoints = await api.put(f"{path}/xdr-endpoint", json={"units": 7}, headers=owner)
    assert endpoints.status_code == 200, endpoints.text
    assert endpoints.json()["allocations"] == [
        {"sensor": "xdr-endpoint", "name": "XDR Endpoint Sensor", "units": 7,
         "unit": "endpoint", "credits": 140}
    ]  # fmt: skip
    sandbox = await api.put(f"{path}/sandbox", json={"units": 5}, headers=owner)
    assert (sandbox.json()["allocated"], sandbox.json()["remaining"]) == (390, 210)
    assert sandbox.json()["sandbox"]["daily_quota"] == 5

    too_much = await api.put(f"{path}/mobile", json={"units": 43}, headers=owner)  # 215 > 210
    assert too_much.status_code == 409 and too_much.json()["code"] == "allocation_exceeds_balance"
    assert "exceed the balance of 600" in too_much.json()["message"]
    fits = await api.put(f"{path}/mobile", json={"units": 42}, headers=owner)
    assert fits.json()["remaining"] == 0
    released = await api.put(f"{path}/xdr-endpoint", json={"units": 0}, headers=owner)
    assert released.json()["remaining"] == 140
    shown = await api.get(f"/v1/businesses/{business_id}/credits", headers=AUTH)
    assert [a["sensor"] for a in shown.json()["allocations"]] == ["mobile", "sandbox"]


async def test_allocation_is_for_the_primary_and_bad_requests_are_4xx(
    api: httpx.AsyncClient, time_client: Client, app_sessions: Sessions
) -> None:
    business_id, owner = await business_with_credits(app_sessions, 100)
    path = f"/v1/businesses/{business_id}/credit-allocations"
    (site,) = [s for s in (await api.get(f"/v1/businesses/{business_id}/instances",
                                          headers=AUTH)).json()]  # fmt: skip
    local = await add_local_account(app_sessions, business_id, site["id"])
    not_owner = await api.put(
        f"{path}/mobile", json={"units": 1}, headers=AUTH | {"X-Acting-Account": local}
    )
    assert not_owner.status_code == 403
    unknown = await api.put(f"{path}/telepathy", json={"units": 1}, headers=owner)
    assert unknown.status_code == 404 and unknown.json()["code"] == "unknown_sensor"
    for wrong in ({"units": -1}, {"units": "many"}, {}, {"units": 1, "extra": 1}):
        assert (await api.put(f"{path}/mobile", json=wrong, headers=owner)).status_code == 422
    assert (await api.put(f"{path}/mobile", json={"units": 1})).status_code == 401


async def test_the_calculator_prices_sensors_and_says_if_the_balance_covers_them(
    api: httpx.AsyncClient, app_sessions: Sessions
) -> None:
    business_id, _ = await business_with_credits(app_sessions, 600)
    ask = {"sensors": {"xdr-endpoint": 7, "xdr-email": 10, "xdr-network": 1, "sandbox": 2}}
    priced = await api.post("/v1/credit-calculator", json=ask, headers=AUTH)
    assert priced.status_code == 200
    assert [line["credits"] for line in priced.json()["lines"]] == [140, 30, 25000, 100]
    assert priced.json()["total"] == 25270 and priced.json()["balance"] is None
    against = await api.post(
        "/v1/credit-calculator", json=ask | {"business_id": business_id}, headers=AUTH
    )
    assert (against.json()["balance"], against.json()["enough"]) == (600, False)
    unknown = await api.post("/v1/credit-calculator", json={"sensors": {"x": 1}}, headers=AUTH)
    assert unknown.status_code == 404


async def test_sandbox_submissions_stop_at_the_daily_quota_and_the_daily_flow_resets_it(
    api: httpx.AsyncClient,
    time_client: Client,
    time_env: WorkflowEnvironment,
    app_sessions: Sessions,
    settings: Settings,
) -> None:
    business_id, owner = await business_with_credits(app_sessions, 600)
    await api.put(
        f"/v1/businesses/{business_id}/credit-allocations/sandbox", json={"units": 3}, headers=owner
    )
    path = f"/v1/businesses/{business_id}/sandbox-submissions"
    first = await api.post(path, json={"count": 2}, headers=AUTH)
    assert first.status_code == 202 and first.json()["used_today"] == 2
    over = await api.post(path, json={"count": 2}, headers=AUTH)  # all or none
    assert over.status_code == 429 and over.json()["code"] == "sandbox_quota_exhausted"
    assert 0 < int(over.headers["Retry-After"]) <= 86401
    last = await api.post(path, json={}, headers=AUTH)
    assert last.json()["used_today"] == 3
    assert (await api.post(path, json={}, headers=AUTH)).status_code == 429

    yesterday = datetime.now(UTC).date() - timedelta(days=1)
    async with app_sessions.begin() as session:  # as if midnight has passed
        await session.execute(update(SandboxUsage).values(period=yesterday))
    # No timer runs here: with the clock free to skip, the test server could jump it by
    # years while the activity ran, and "today" would change between the two runs.
    with time_env.auto_time_skipping_disabled():
        reset = await time_client.execute_workflow(
            SandboxQuotaResetWorkflow.run,
            id=f"sandbox-quota-reset-{business_id}",
            task_queue=settings.temporal_task_queue,
        )
        assert reset == 1
        again = await time_client.execute_workflow(  # the same day again resets nothing more
            SandboxQuotaResetWorkflow.run,
            id=f"sandbox-quota-reset-again-{business_id}",
            task_queue=settings.temporal_task_queue,
        )
    assert again == 0
    shown = await api.get(f"/v1/businesses/{business_id}/credits", headers=AUTH)
    assert shown.json()["sandbox"]["used_today"] == 0
    assert (await api.post(path, json={"count": 3}, headers=AUTH)).status_code == 202
