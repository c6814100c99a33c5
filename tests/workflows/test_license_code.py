"""An Activation Code's flow on the time-skipping server: a renewal moves the end of its term,
and at the end of the last day (UTC) it expires. (Started here on its own: the test server
does not let time pass over the end of a flow started as an abandoned child, as the certificate
starts it; the real server does, and the API tests cover the rest.)"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.ext.asyncio import async_sessionmaker
from temporalio.client import Client
from temporalio.client import WorkflowHandle
from temporalio.testing import WorkflowEnvironment

from api.flow_clients import published_state
from core.settings import Settings
from models.contracts.on_premises import CodeState
from models.contracts.on_premises import CodeStatus
from models.contracts.on_premises import IssuedCode
from models.contracts.on_premises import RenewInput
from models.contracts.on_premises import StartCodeInput
from models.contracts.on_premises import code_flow_id
from models.records.domain import Business
from models.records.on_premises import LicenseCode
from tests.support.histories import keep_history
from tests.support.mail import MailSink
from tests.support.mail import text_of
from tests.support.temporal import STARTED_FLOWS
from workflows.license_code import LicenseCodeWorkflow
from workflows.license_code import end_of_term

pytestmark = pytest.mark.asyncio


async def code_flow(
    client: Client, settings: Settings, last_day: str, **more: Any
) -> WorkflowHandle[LicenseCodeWorkflow, CodeState]:
    code = IssuedCode("c" * 24, "h" * 64, "network-sensor", 1, last_day)
    handle = await client.start_workflow(
        LicenseCodeWorkflow.run,
        StartCodeInput(code, "order-1", "business-1", "Acme Corp", 30, 5, **more),
        id=code_flow_id(code.code_id),
        task_queue=settings.temporal_task_queue,
    )
    STARTED_FLOWS.append(handle)
    return handle


async def test_a_code_expires_after_its_last_day_and_a_renewal_moves_that_day(
    time_client: Client, time_env: WorkflowEnvironment, settings: Settings
) -> None:
    today = (await time_env.get_current_time()).date()
    handle = await code_flow(time_client, settings, (today + timedelta(days=2)).isoformat())
    renewed = (today + timedelta(days=5)).isoformat()
    state = await handle.execute_update(LicenseCodeWorkflow.renew, RenewInput(renewed))
    assert state.expires_on == renewed
    await time_env.sleep(
        end_of_term(renewed) - await time_env.get_current_time() - timedelta(hours=1)
    )
    assert (await handle.query(LicenseCodeWorkflow.state)).status == CodeStatus.ACTIVE
    await time_env.sleep(timedelta(hours=2))
    with time_env.auto_time_skipping_disabled():
        state = await handle.result()
    assert state.status == CodeStatus.EXPIRED
    # How the API then answers an activation: the status the flow published.
    assert (await published_state(handle))["status"] == "expired"  # type: ignore[index]
    await keep_history(handle, "license_code_renewed_then_expired")


async def test_the_contact_is_reminded_before_the_end_and_a_renewal_starts_over(
    time_client: Client,
    time_env: WorkflowEnvironment,
    settings: Settings,
    app_sessions: async_sessionmaker[AsyncSession],
    smtp: MailSink,
) -> None:
    today = (await time_env.get_current_time()).date()
    last_day = today + timedelta(days=10)
    async with app_sessions.begin() as session:  # the code as the certificate recorded it
        session.add(Business(id="business-1", name="Acme Corp", region=""))
        session.add(
            LicenseCode(id="c" * 24, order_id="order-1", business_id="business-1", position=0,
                        product_code="network-sensor", seats=1, expires_on=last_day,
                        code_hash="h" * 64, sealed_code=b"", status="active", locale="zh-TW")
        )  # fmt: skip
    handle = await code_flow(
        time_client, settings, last_day.isoformat(),
        contact_email="buyer@acme.example", locale="zh-TW", reminder_days=[7, 1],
    )  # fmt: skip
    await time_env.sleep(end_of_term(last_day.isoformat()) - timedelta(days=7, hours=-1)
                         - await time_env.get_current_time())  # fmt: skip
    (reminder,) = await smtp.wait_for(1, to="buyer@acme.example")
    assert "網路感測器" in text_of(reminder) and "啟用碼" in text_of(reminder)
    renewed = (last_day + timedelta(days=365)).isoformat()
    await handle.execute_update(LicenseCodeWorkflow.renew, RenewInput(renewed))
    await time_env.sleep(timedelta(days=7))  # past the old term's end: no reminder, no expiry
    assert len(smtp.messages(to="buyer@acme.example")) == 1
    state = await handle.query(LicenseCodeWorkflow.state)
    assert (state.status, state.expires_on) == (CodeStatus.ACTIVE, renewed)
