"""Renewals and trials on the time-skipping server, through real activations: a paid order for a
product the Business holds renews that license (same instance, a later last day, its lifecycle
told) or converts that trial (same instance, the trial's lifecycle ends); an unconverted trial is
reminded, then expires (tests/workflows/test_license_lifecycle.py); a failed provisioning gives
the renewed license back."""

from __future__ import annotations

import asyncio
from datetime import date, timedelta
from typing import Any

import pytest
from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.client import Client, WorkflowHandle, WorkflowUpdateFailedError
from temporalio.exceptions import ApplicationError
from temporalio.service import RPCError
from temporalio.testing import WorkflowEnvironment

from core.settings import Settings
from models.domain import License, ProductInstance
from models.license_activation import (
    ActivationError,
    ActivationState,
    ActivationStatus,
    ChooseInstanceInput,
    SignInInput,
)
from models.license_lifecycle import LifecycleState, LifecycleStatus, flow_id_of
from tests.conftest import MailSink, text_of
from tests.workflows.activation_helpers import (
    ActivationHandle,
    accept_cloud,
    existing_business,
    lapsed_license,
    place_order,
)
from tests.workflows.helpers import keep_history
from workflows.license_activation import LicenseActivationWorkflow
from workflows.license_lifecycle import LicenseLifecycleWorkflow, expiry_moment

pytestmark = pytest.mark.asyncio
Sessions = async_sessionmaker[AsyncSession]
LifecycleHandle = WorkflowHandle[LicenseLifecycleWorkflow, LifecycleState]
OWNER = "owner@acme.example"


def service(last_day: date, units: int = 50) -> dict[str, Any]:
    return {"product": "endpoint-protection", "units": units, "expires_on": last_day.isoformat()}


def addon(last_day: date) -> dict[str, Any]:
    return {"product": "edr-addon", "units": 50, "expires_on": last_day.isoformat()}


async def server_today(time_env: WorkflowEnvironment) -> date:
    """The time-skipping server's date: earlier tests moved its clock on."""
    return (await time_env.get_current_time()).date()


async def activate(
    client: Client,
    time_env: WorkflowEnvironment,
    settings: Settings,
    account_id: str,
    items: list[dict[str, Any]],
    **order: Any,
) -> tuple[ActivationState, ActivationHandle]:
    """Order, sign in with the Business's primary account, accept: activated."""
    _, handle = await place_order(client, settings, items, **order)
    await handle.execute_update(LicenseActivationWorkflow.sign_in, SignInInput(account_id))
    await handle.execute_update(LicenseActivationWorkflow.accept_agreements, accept_cloud())
    with time_env.auto_time_skipping_disabled():  # the lifecycles' time must not pass meanwhile
        result = await handle.result()
    assert result.status == ActivationStatus.ACTIVATED, result.problem
    return result, handle


def lifecycle(client: Client, license_id: str) -> LifecycleHandle:
    return client.get_workflow_handle_for(LicenseLifecycleWorkflow.run, flow_id_of(license_id))


async def lifecycle_state(
    client: Client, license_id: str, until: Any = lambda state: True
) -> LifecycleState:
    """The lifecycle's state once `until` holds (a signal is taken in by its next task)."""
    for _ in range(200):
        state = await lifecycle(client, license_id).query(LicenseLifecycleWorkflow.state)
        if until(state):
            return state
        await asyncio.sleep(0.05)
    raise AssertionError(f"the lifecycle of {license_id} is still {state}")


async def ended(time_env: WorkflowEnvironment, handle: LifecycleHandle) -> LifecycleState:
    with time_env.auto_time_skipping_disabled():  # it ends on its own: no time needs to pass
        return await asyncio.wait_for(handle.result(), timeout=15)


def reminders(smtp: MailSink) -> list[str]:
    subjects = [str(message["Subject"]) for message in smtp.messages(to=OWNER)]
    return [subject for subject in subjects if "expires in" in subject or "ends in" in subject]


async def test_a_renewal_extends_the_license_and_keeps_its_instance(
    time_client: Client,
    time_env: WorkflowEnvironment,
    settings: Settings,
    app_sessions: Sessions,
    smtp: MailSink,
) -> None:
    today = await server_today(time_env)
    _, account_id, _ = await existing_business(app_sessions, 0, email=OWNER)
    first, _ = await activate(
        time_client, time_env, settings, account_id, [service(today + timedelta(days=40))]
    )
    (held,) = first.items
    renewed_until = today + timedelta(days=405)
    renewal, handle = await activate(
        time_client, time_env, settings, account_id, [service(renewed_until, units=80)]
    )
    (item,) = renewal.items
    assert item.replaces is not None and not item.replaces.trial
    assert item.replaces.license_id == held.license_id
    assert item.instance_id == held.instance_id  # no new instance

    async with app_sessions() as session:
        instances = (await session.scalars(select(ProductInstance.id))).all()
        assert instances == [held.instance_id]
        old = await session.get(License, held.license_id)
        assert old is not None and old.status == "active"
        assert (old.expires_on, old.units) == (renewed_until, 80)
        new = await session.get(License, item.license_id)
        assert new is not None and new.status == "renewal"
        assert (new.renews_license_id, new.instance_id) == (held.license_id, held.instance_id)

    confirmation = smtp.messages(to=OWNER)[-1]
    assert "Endpoint Protection: 80 units, a renewal: same instance" in text_of(confirmation)

    # The license's own lifecycle goes on with the new term; the renewal has none of its own.
    state = await lifecycle_state(time_client, held.license_id, lambda s: s.renewals == 1)
    assert state.expires_on == renewed_until.isoformat()
    with pytest.raises(RPCError):
        await lifecycle(time_client, item.license_id).describe()

    # The old term's reminders and its end pass without a word, and the license stays active.
    old_end = expiry_moment(held.expires_on)
    await time_env.sleep(old_end - await time_env.get_current_time() + timedelta(days=2))
    assert reminders(smtp) == []
    state = await lifecycle_state(time_client, held.license_id)
    assert state.status == LifecycleStatus.ACTIVE and state.reminders_sent == []
    async with app_sessions() as session:
        old = await session.get(License, held.license_id)
        assert old is not None and old.status == "active"
    await keep_history(handle, "activation_renewal")


async def test_an_addon_renewal_extends_the_addon_on_its_instance(
    time_client: Client,
    time_env: WorkflowEnvironment,
    settings: Settings,
    app_sessions: Sessions,
    smtp: MailSink,
) -> None:
    today = await server_today(time_env)
    _, account_id, _ = await existing_business(app_sessions, 0, email=OWNER)
    first_day = today + timedelta(days=40)
    first, _ = await activate(
        time_client, time_env, settings, account_id, [service(first_day), addon(first_day)]
    )
    held = next(item for item in first.items if item.kind == "addon")
    later = today + timedelta(days=405)
    renewal, _ = await activate(time_client, time_env, settings, account_id, [addon(later)])
    (item,) = renewal.items
    assert item.replaces is not None and item.replaces.license_id == held.license_id
    assert item.instance_id == held.instance_id
    async with app_sessions() as session:
        old = await session.get(License, held.license_id)
        assert old is not None and (old.status, old.expires_on) == ("active", later)
        new = await session.get(License, item.license_id)
        assert new is not None and (new.status, new.renews_license_id) == (
            "renewal",
            held.license_id,
        )
    state = await lifecycle_state(time_client, held.license_id, lambda s: s.renewals == 1)
    assert state.expires_on == later.isoformat()


async def test_a_renewal_after_the_license_expired_starts_its_lifecycle_again(
    time_client: Client,
    time_env: WorkflowEnvironment,
    settings: Settings,
    app_sessions: Sessions,
    smtp: MailSink,
) -> None:
    today = await server_today(time_env)
    business_id, account_id, _ = await existing_business(app_sessions, 0, email=OWNER)
    license_id, instance_id = await lapsed_license(app_sessions, business_id, today)

    later = today + timedelta(days=365)
    renewal, _ = await activate(time_client, time_env, settings, account_id, [service(later)])
    assert renewal.items[0].instance_id == instance_id
    async with app_sessions() as session:
        old = await session.get(License, license_id)
        assert old is not None and (old.status, old.expires_on) == ("active", later)
    state = await lifecycle_state(time_client, license_id)  # its flow, running again
    assert state.status == LifecycleStatus.ACTIVE and state.expires_on == later.isoformat()


async def test_a_trial_order_provisions_an_instance_for_the_trial_term(
    time_client: Client,
    time_env: WorkflowEnvironment,
    settings: Settings,
    app_sessions: Sessions,
    smtp: MailSink,
) -> None:
    last_day = await server_today(time_env) + timedelta(days=30)
    _, account_id, _ = await existing_business(app_sessions, 0, email=OWNER)
    trial, _ = await activate(
        time_client, time_env, settings, account_id, [service(last_day)], trial=True
    )
    (tried,) = trial.items
    assert tried.trial and tried.instance_id and tried.replaces is None
    async with app_sessions() as session:
        license = await session.get(License, tried.license_id)
        assert license is not None and (license.trial, license.status) == (True, "active")
        instance = await session.get(ProductInstance, tried.instance_id)
        assert instance is not None and instance.license_id == tried.license_id
    described = await lifecycle(time_client, tried.license_id).describe()
    assert "(trial, 50)" in str(await described.static_summary())
    assert (await lifecycle_state(time_client, tried.license_id)).expires_on == str(last_day)


# On the dev server: a lifecycle child that ends after its parent closed leaves the
# time-skipping test server's clock locked for good (a flaw of that server, not of Temporal).
async def test_a_paid_order_converts_the_trial_and_keeps_its_instance(
    dev_client: Client,
    dev_env: WorkflowEnvironment,
    settings: Settings,
    app_sessions: Sessions,
    smtp: MailSink,
) -> None:
    today = date.today()
    _, account_id, _ = await existing_business(app_sessions, 0, email=OWNER)
    trial, _ = await activate(
        dev_client,
        dev_env,
        settings,
        account_id,
        [service(today + timedelta(days=30))],
        trial=True,
    )
    (tried,) = trial.items
    paid, handle = await activate(
        dev_client, dev_env, settings, account_id, [service(today + timedelta(days=395))]
    )
    (item,) = paid.items
    assert item.replaces is not None and item.replaces.trial
    assert item.instance_id == tried.instance_id  # the trial's instance, now paid for

    async with app_sessions() as session:
        instances = (await session.scalars(select(ProductInstance))).all()
        assert [(i.id, i.license_id) for i in instances] == [(tried.instance_id, item.license_id)]
        old = await session.get(License, tried.license_id)
        assert old is not None and (old.status, old.trial) == ("converted", True)
        new = await session.get(License, item.license_id)
        assert new is not None and (new.status, new.trial) == ("active", False)
        assert new.converts_license_id == tried.license_id

    confirmations = [text_of(message) for message in smtp.messages(to=OWNER)]
    assert "Endpoint Protection: 50 units (trial)" in confirmations[0]
    assert "your trial instance, now paid for" in confirmations[1]
    trial_lifecycle = lifecycle(dev_client, tried.license_id)
    assert (await ended(dev_env, trial_lifecycle)).status == LifecycleStatus.CONVERTED
    state = await lifecycle_state(dev_client, item.license_id)
    assert state.status == LifecycleStatus.ACTIVE
    assert reminders(smtp) == []  # the trial's end is never announced
    await keep_history(handle, "activation_trial_converted")
    await keep_history(trial_lifecycle, "license_lifecycle_trial_converted")


async def test_a_trial_of_a_product_the_business_has_is_refused(
    time_client: Client,
    time_env: WorkflowEnvironment,
    settings: Settings,
    app_sessions: Sessions,
    smtp: MailSink,
) -> None:
    today = await server_today(time_env)
    _, account_id, _ = await existing_business(app_sessions, 1, email=OWNER)
    _, handle = await place_order(
        time_client, settings, [service(today + timedelta(days=30))], trial=True
    )
    with pytest.raises(WorkflowUpdateFailedError) as refused:
        await handle.execute_update(LicenseActivationWorkflow.sign_in, SignInInput(account_id))
    assert isinstance(refused.value.cause, ApplicationError)
    assert refused.value.cause.type == ActivationError.TRIAL_NOT_AVAILABLE
    state = await handle.query(LicenseActivationWorkflow.state)
    assert state.status == ActivationStatus.AWAITING_ACCOUNT


async def test_a_failed_renewal_gives_the_license_back(
    time_client: Client,
    time_env: WorkflowEnvironment,
    settings: Settings,
    app_sessions: Sessions,
    smtp: MailSink,
) -> None:
    today = await server_today(time_env)
    first_until = today + timedelta(days=40)
    _, account_id, (spare,) = await existing_business(app_sessions, 1, email=OWNER)
    first, _ = await activate(time_client, time_env, settings, account_id, [service(first_until)])
    (held,) = first.items

    later = today + timedelta(days=405)
    _, handle = await place_order(time_client, settings, [service(later, units=80), addon(later)])
    state = await handle.execute_update(LicenseActivationWorkflow.sign_in, SignInInput(account_id))
    addon_license = state.licenses_awaiting_choice[0]
    await handle.execute_update(
        LicenseActivationWorkflow.choose_instance, ChooseInstanceInput(spare, addon_license)
    )
    # The add-on's instance is decommissioned before the customer accepts: assigning it (after
    # the renewal extended the license) fails for good, and the renewal is undone.
    async with app_sessions.begin() as session:
        await session.execute(delete(ProductInstance).where(ProductInstance.id == spare))
    await handle.execute_update(LicenseActivationWorkflow.accept_agreements, accept_cloud())
    with time_env.auto_time_skipping_disabled():
        result = await handle.result()
    assert result.status == ActivationStatus.FAILED and result.problem

    async with app_sessions() as session:
        old = await session.get(License, held.license_id)
        assert old is not None
        assert (old.status, old.expires_on, old.units) == ("active", first_until, 50)
        renewal = await session.get(License, result.items[0].license_id)
        assert renewal is not None and renewal.status == "issued"
        assert (renewal.instance_id, renewal.renews_license_id) == (None, None)
        instances = (await session.scalars(select(ProductInstance.id))).all()
        assert instances == [held.instance_id]
    term = await lifecycle_state(time_client, held.license_id)
    assert term.renewals == 0 and term.expires_on == first_until.isoformat()
    await keep_history(handle, "activation_renewal_undone")
