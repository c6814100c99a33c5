"""A license's lifecycle on the time-skipping server: reminders to the current primary account
30, 7 and 1 days before expiry, then the expiry: the license reads expired and credits still in
the balance leave it, with a ledger entry, once."""

from __future__ import annotations

import asyncio
from datetime import date
from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.ext.asyncio import async_sessionmaker
from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment

from api.flow_clients import published_state
from core.settings import Settings
from models.contracts.license_lifecycle import LifecycleStatus
from models.records.domain import Business
from models.records.domain import CreditLedgerEntry
from models.records.domain import License
from models.records.domain import ProductInstance
from tests.support.histories import keep_history
from tests.support.lifecycles import credit_license
from tests.support.lifecycles import service_license
from tests.support.lifecycles import start
from tests.support.mail import MailSink
from tests.support.mail import text_of
from workflows.license_lifecycle import LicenseLifecycleWorkflow
from workflows.license_lifecycle import expiry_moment

pytestmark = pytest.mark.asyncio
Sessions = async_sessionmaker[AsyncSession]


async def test_reminders_go_to_the_primary_then_the_credits_expire(
    time_client: Client,
    time_env: WorkflowEnvironment,
    settings: Settings,
    app_sessions: Sessions,
    smtp: MailSink,
) -> None:
    license = await credit_license(app_sessions, await time_env.get_current_time(), days=40)
    handle = await start(time_client, settings, license)
    ends = expiry_moment(license.expires_on)
    for sent, days in enumerate((30, 7, 1), start=1):
        now = await time_env.get_current_time()
        await time_env.sleep(ends - timedelta(days=days) - now + timedelta(seconds=1))
        await smtp.wait_for(sent, to="owner@acme.example")  # each on its day
    reminders = await smtp.wait_for(3, to="owner@acme.example")
    subjects = [str(m["Subject"]) for m in reminders]
    assert subjects == [
        "XDR Credits for Acme Corp expires in 30 days",
        "XDR Credits for Acme Corp expires in 7 days",
        "XDR Credits for Acme Corp expires in 1 day",
    ]
    assert "Credits still in the balance then leave it" in text_of(reminders[0])
    published = await published_state(handle)  # what operators and reads see
    assert published is not None and published["reminders_sent"] == [30, 7, 1]
    assert (await handle.query(LicenseLifecycleWorkflow.state)).status == LifecycleStatus.ACTIVE

    await time_env.sleep(timedelta(days=1))
    with time_env.auto_time_skipping_disabled():  # done: no other flow's time may pass
        state = await handle.result()
    assert state.status == LifecycleStatus.EXPIRED and state.reminders_sent == [30, 7, 1]
    async with app_sessions() as session:
        business = await session.get(Business, license.business_id)
        assert business is not None and business.credit_balance == 0  # 700 left, 700 removed
        row = await session.get(License, license.license_id)
        assert row is not None and row.status == "expired"
        entries = (
            await session.execute(
                select(CreditLedgerEntry.entry, CreditLedgerEntry.amount).where(
                    CreditLedgerEntry.license_id == license.license_id
                )
            )
        ).all()
        assert entries == [("expiry", -700)]
    await keep_history(handle, "license_lifecycle_credits_expired")


async def test_a_license_closer_to_its_date_than_a_reminder_skips_that_reminder(
    time_client: Client,
    time_env: WorkflowEnvironment,
    settings: Settings,
    app_sessions: Sessions,
    smtp: MailSink,
) -> None:
    license = await credit_license(app_sessions, await time_env.get_current_time(), days=3)
    handle = await start(time_client, settings, license)
    await time_env.sleep(timedelta(days=5))
    with time_env.auto_time_skipping_disabled():  # done: no other flow's time may pass
        state = await handle.result()
    assert state.reminders_sent == [1] and state.status == LifecycleStatus.EXPIRED
    assert len(smtp.messages(to="owner@acme.example")) == 1
    assert date.fromisoformat(license.expires_on) < (await time_env.get_current_time()).date()


async def test_a_trial_is_reminded_that_it_ends_then_expires_keeping_its_instance(
    time_client: Client,
    time_env: WorkflowEnvironment,
    settings: Settings,
    app_sessions: Sessions,
    smtp: MailSink,
) -> None:
    now = await time_env.get_current_time()
    license = await service_license(app_sessions, now, days=10, trial=True)
    handle = await start(time_client, settings, license)
    ends = expiry_moment(license.expires_on)
    await time_env.sleep(ends - timedelta(days=7) - await time_env.get_current_time())
    await time_env.sleep(timedelta(seconds=1))
    (reminder,) = await smtp.wait_for(1, to="owner@acme.example")
    assert str(reminder["Subject"]) == "The Endpoint Protection trial of Acme Corp ends in 7 days"
    assert "activating it converts the trial instance" in text_of(reminder)

    await time_env.sleep(timedelta(days=8))
    with time_env.auto_time_skipping_disabled():  # done: no other flow's time may pass
        state = await handle.result()
    assert state.status == LifecycleStatus.EXPIRED and state.reminders_sent == [7, 1]
    async with app_sessions() as session:
        row = await session.get(License, license.license_id)
        assert row is not None and row.status == "expired"
        instance = await session.get(ProductInstance, row.instance_id)
        assert instance is not None  # kept: a paid order may still convert it
    await keep_history(handle, "license_lifecycle_trial_expired")


async def test_a_renewal_moves_the_reminders_and_the_expiry_to_its_new_date(
    time_client: Client,
    time_env: WorkflowEnvironment,
    settings: Settings,
    app_sessions: Sessions,
    smtp: MailSink,
) -> None:
    license = await service_license(app_sessions, await time_env.get_current_time(), days=10)
    handle = await start(time_client, settings, license)
    ends = expiry_moment(license.expires_on)
    await time_env.sleep(ends - timedelta(days=7) - await time_env.get_current_time())
    await time_env.sleep(timedelta(seconds=1))
    await smtp.wait_for(1, to="owner@acme.example")  # 7 days before the first term's end

    # A renewal order extends the license by 60 days (what the activation's provisioning
    # writes), then tells the lifecycle.
    renewed = date.fromisoformat(license.expires_on) + timedelta(days=60)
    async with app_sessions.begin() as session:
        row = await session.get(License, license.license_id)
        assert row is not None
        row.expires_on = renewed
    await handle.signal(LicenseLifecycleWorkflow.license_changed)
    for _ in range(100):
        state = await handle.query(LicenseLifecycleWorkflow.state)
        if state.renewals:
            break
        await asyncio.sleep(0.05)
    assert (state.renewals, state.expires_on, state.reminders_sent) == (1, str(renewed), [])

    await time_env.sleep(ends - await time_env.get_current_time() + timedelta(days=1))
    assert len(smtp.messages(to="owner@acme.example")) == 1  # the old term's last one: not sent
    assert (await handle.query(LicenseLifecycleWorkflow.state)).status == LifecycleStatus.ACTIVE

    await time_env.sleep(expiry_moment(str(renewed)) - await time_env.get_current_time())
    await time_env.sleep(timedelta(seconds=1))
    with time_env.auto_time_skipping_disabled():  # done: no other flow's time may pass
        state = await handle.result()
    assert state.status == LifecycleStatus.EXPIRED and state.reminders_sent == [30, 7, 1]
    subjects = [str(m["Subject"]) for m in smtp.messages(to="owner@acme.example")]
    assert subjects[1:] == [
        f"Endpoint Protection for Acme Corp expires in {days} day{'s' if days > 1 else ''}"
        for days in (30, 7, 1)
    ]
    await keep_history(handle, "license_lifecycle_renewed")
