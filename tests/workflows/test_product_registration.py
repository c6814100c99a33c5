"""The product-registration workflow on the time-skipping server with its real activities and
database: expiry, single and multiple use, revocation racing registration, mismatches."""

from __future__ import annotations

import asyncio
import uuid
from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.ext.asyncio import async_sessionmaker
from temporalio import activity
from temporalio.client import Client
from temporalio.client import WorkflowUpdateFailedError
from temporalio.exceptions import ApplicationError
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from activities.product_registration import ProductRegistrationActivities
from core.settings import Settings
from core.tokens import hash_token
from core.tokens import new_token
from models.contracts.product_registration import CloseTokenInput
from models.contracts.product_registration import TokenState
from models.contracts.product_registration import TokenStatus
from models.errors import RegistrationError
from models.records.domain import EnrollmentToken
from models.records.domain import ProductInstance
from tests.support.activations import existing_business
from tests.support.histories import history_text
from tests.support.histories import keep_history
from tests.support.registrations import issue_token
from tests.support.registrations import register
from workers.worker import WORKFLOWS
from workers.worker import workflow_runner
from workflows.product_registration import ProductRegistrationWorkflow

pytestmark = pytest.mark.asyncio
Sessions = async_sessionmaker[AsyncSession]


async def refusal(call: object) -> str | None:
    with pytest.raises(WorkflowUpdateFailedError) as caught:
        await call  # type: ignore[misc]
    assert isinstance(caught.value.cause, ApplicationError)
    return caught.value.cause.type


async def test_a_single_use_token_registers_one_instance_then_is_used(
    time_env: WorkflowEnvironment, settings: Settings, app_sessions: Sessions
) -> None:
    """A used token's flow closes; its closing step is held here until the registrations that
    follow are answered, so that they reach the flow while it is still open."""
    business_id, account_id, (site_1, site_2) = await existing_business(app_sessions, 2)
    real = ProductRegistrationActivities(app_sessions)
    closing = asyncio.Event()

    @activity.defn(name="product_registration.close_token")
    async def close_when_told(input: CloseTokenInput) -> None:
        await closing.wait()
        await real.close_token(input)

    others = [act for act in real.activities() if act != real.close_token]
    async with Worker(
        time_env.client,
        task_queue=settings.temporal_task_queue,
        workflows=WORKFLOWS,
        activities=[*others, close_when_told],
        workflow_runner=workflow_runner(),
    ):
        token, state, handle = await issue_token(time_env.client, settings, business_id, account_id)
        assert state.status == TokenStatus.ACTIVE and state.uses == 0
        state = await register(handle, token, site_1)
        assert state.status == TokenStatus.USED and state.registered_instances == [site_1]
        # The same instance again: idempotent, answered even though the token is used up.
        assert (await register(handle, token, site_1)).uses == 1
        assert await refusal(register(handle, token, site_2)) == RegistrationError.TOKEN_USED
        closing.set()
        with time_env.auto_time_skipping_disabled():  # no timer is left to skip to
            assert (await handle.result()).status == TokenStatus.USED
    async with app_sessions() as session:
        instance = await session.get(ProductInstance, site_1)
        assert instance is not None and instance.registration_status == "registered"
        assert instance.description == "Lab appliances"
        row = await session.get(EnrollmentToken, state.id)
        assert row is not None and (row.status, row.uses) == ("used", 1)
        assert row.token_hash == hash_token(token)
    history = await history_text(handle)
    assert token not in history and token.split(".")[1] not in history
    await keep_history(handle, "registration_used")


async def test_a_multi_use_token_counts_its_uses(
    time_client: Client, settings: Settings, app_sessions: Sessions
) -> None:
    business_id, account_id, sites = await existing_business(app_sessions, 3)
    token, _, handle = await issue_token(time_client, settings, business_id, account_id, max_uses=2)
    assert (await register(handle, token, sites[0])).status == TokenStatus.ACTIVE
    assert (await register(handle, token, sites[1])).status == TokenStatus.USED
    assert await refusal(register(handle, token, sites[2])) == RegistrationError.TOKEN_USED
    await handle.result()
    await keep_history(handle, "registration_multi_use")


async def test_the_token_expires_after_24_hours(
    time_client: Client, time_env: WorkflowEnvironment, settings: Settings, app_sessions: Sessions
) -> None:
    business_id, account_id, (site,) = await existing_business(app_sessions, 1)
    token, _, handle = await issue_token(time_client, settings, business_id, account_id)
    await time_env.sleep(timedelta(hours=23, minutes=59))
    assert (await handle.query(ProductRegistrationWorkflow.state)).status == TokenStatus.ACTIVE
    await time_env.sleep(timedelta(minutes=2))
    assert (await handle.result()).status == TokenStatus.EXPIRED
    async with app_sessions() as session:
        row = await session.scalar(select(EnrollmentToken))
        assert row is not None and row.status == "expired"
    await keep_history(handle, "registration_expired")


async def test_a_revoked_token_registers_nothing(
    time_client: Client, settings: Settings, app_sessions: Sessions
) -> None:
    business_id, account_id, (site,) = await existing_business(app_sessions, 1)
    token, _, handle = await issue_token(time_client, settings, business_id, account_id)
    assert (await handle.execute_update(ProductRegistrationWorkflow.revoke)).status == "revoked"
    assert await refusal(register(handle, token, site)) == RegistrationError.TOKEN_REVOKED
    assert (await handle.result()).status == TokenStatus.REVOKED
    async with app_sessions() as session:
        instance = await session.get(ProductInstance, site)
        assert instance is not None and instance.registration_status == "unregistered"
        row = await session.scalar(select(EnrollmentToken))
        assert row is not None and row.status == "revoked" and row.revoked_at is not None
    await keep_history(handle, "registration_revoked")


async def test_revocation_and_registrations_racing_never_register_after_the_revocation(
    time_client: Client, settings: Settings, app_sessions: Sessions
) -> None:
    business_id, account_id, sites = await existing_business(app_sessions, 6)
    token, _, handle = await issue_token(
        time_client, settings, business_id, account_id, max_uses=10
    )
    calls = [register(handle, token, site) for site in sites[:3]]
    calls.append(handle.execute_update(ProductRegistrationWorkflow.revoke))
    calls += [register(handle, token, site) for site in sites[3:]]
    outcomes = await asyncio.gather(*calls, return_exceptions=True)
    revoked = outcomes[3]
    assert isinstance(revoked, TokenState) and revoked.status == TokenStatus.REVOKED
    registered = [
        site
        for site, outcome in zip(sites[:3] + sites[3:], outcomes[:3] + outcomes[4:], strict=True)
        if isinstance(outcome, TokenState)
    ]
    # Whatever got in was in before the revocation answered; everything after was refused.
    assert sorted(registered) == sorted(revoked.registered_instances)
    for outcome in outcomes[:3] + outcomes[4:]:
        if not isinstance(outcome, TokenState):
            assert isinstance(outcome, WorkflowUpdateFailedError)
            assert isinstance(outcome.cause, ApplicationError)
            assert outcome.cause.type == RegistrationError.TOKEN_REVOKED
    async with app_sessions() as session:
        in_db = (
            await session.scalars(
                select(ProductInstance.id).where(
                    ProductInstance.registration_status == "registered"
                )
            )
        ).all()
        row = await session.scalar(select(EnrollmentToken))
    assert sorted(in_db) == sorted(registered)
    assert row is not None and row.uses == len(registered)


async def test_mismatched_tokens_are_refused_and_stay_usable(
    time_client: Client, settings: Settings, app_sessions: Sessions
) -> None:
    business_id, account_id, (site,) = await existing_business(app_sessions, 1)
    other_business, _, (foreign_site,) = await existing_business(
        app_sessions, 1, email="someone@else.example"
    )
    token, _, handle = await issue_token(
        time_client, settings, business_id, account_id, instance_type="edr-sensor"
    )
    assert await refusal(register(handle, token, site)) == RegistrationError.INSTANCE_TYPE_MISMATCH
    token, _, handle = await issue_token(time_client, settings, business_id, account_id)
    assert (
        await refusal(register(handle, token, foreign_site)) == RegistrationError.BUSINESS_MISMATCH
    )
    assert await refusal(register(handle, token, str(uuid.uuid4()))) == (
        RegistrationError.INSTANCE_NOT_FOUND
    )
    wrong = new_token(token.split(".")[0])  # the right id with another secret
    assert await refusal(register(handle, wrong, site)) == RegistrationError.TOKEN_INVALID
    assert (await register(handle, token, site)).status == TokenStatus.USED  # still usable


async def test_an_instance_registered_already_does_not_use_up_another_token(
    time_client: Client, settings: Settings, app_sessions: Sessions
) -> None:
    business_id, account_id, (site,) = await existing_business(app_sessions, 1)
    first, _, first_handle = await issue_token(time_client, settings, business_id, account_id)
    await register(first_handle, first, site)
    second, _, second_handle = await issue_token(time_client, settings, business_id, account_id)
    state = await register(second_handle, second, site)
    assert state.status == TokenStatus.ACTIVE and state.uses == 0
