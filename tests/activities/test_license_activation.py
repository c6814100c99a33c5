"""The license-activation activities on both databases: each one, retried after it committed
(run twice), leaves exactly what one run leaves; each compensation undoes its step."""

from __future__ import annotations

from datetime import UTC
from datetime import datetime
from datetime import timedelta
from email.header import decode_header
from email.header import make_header

import pytest
from sqlalchemy import func
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.ext.asyncio import async_sessionmaker
from temporalio.exceptions import ApplicationError
from temporalio.testing import ActivityEnvironment

from activities.license_activation import LicenseActivationActivities
from activities.mail import MailSender
from core.settings import Settings
from core.tokens import hash_token
from models.contracts.license_activation import AgreementRef
from models.contracts.license_activation import CloseOrderInput
from models.contracts.license_activation import CreatePrimaryAccountInput
from models.contracts.license_activation import ProvisionInput
from models.contracts.license_activation import RecordAcceptancesInput
from models.contracts.license_activation import RecordOrderInput
from models.contracts.license_activation import SendActivationLinkInput
from models.contracts.license_activation import StartActivationInput
from models.errors import ActivationError
from models.records.domain import Account
from models.records.domain import ActivationCode
from models.records.domain import AgreementAcceptance
from models.records.domain import Business
from models.records.domain import CreditLedgerEntry
from models.records.domain import License
from models.records.domain import Order
from models.records.domain import ProductInstance
from tests.support.activations import ADDON
from tests.support.activations import CREDITS
from tests.support.activations import SERVICE
from tests.support.activations import activation_input
from tests.support.activities import twice
from tests.support.mail import MailSink
from tests.support.mail import code_in

pytestmark = pytest.mark.asyncio
Sessions = async_sessionmaker[AsyncSession]
LATER = datetime(2030, 1, 1, tzinfo=UTC)


@pytest.fixture
def activities(settings: Settings, sessions: Sessions) -> LicenseActivationActivities:
    return LicenseActivationActivities(settings, sessions, MailSender(settings, sessions))


@pytest.fixture
def order(settings: Settings) -> StartActivationInput:
    return activation_input(settings, [SERVICE, CREDITS, ADDON])


async def count(sessions: Sessions, model: type) -> int:
    async with sessions() as session:
        return int(await session.scalar(select(func.count()).select_from(model)) or 0)


async def recorded(
    activities: LicenseActivationActivities, sessions: Sessions, order: StartActivationInput
) -> CreatePrimaryAccountInput:
    """The order is written and a Business with its primary account exists."""
    await twice(activities.record_order, RecordOrderInput(order, LATER))
    account = CreatePrimaryAccountInput(
        business_id="b0000000-0000-0000-0000-000000000001",
        account_id="a0000000-0000-0000-0000-000000000001",
        company_name=order.company_name,
        region=order.region,
        email="owner@acme.example",
    )
    await twice(activities.create_primary_account, account)
    return account


def provision_input(
    order: StartActivationInput, account: CreatePrimaryAccountInput
) -> ProvisionInput:
    """The order's items as provisioning gets them: the add-on goes to the new instance."""
    service = next(item for item in order.items if item.kind == "service")
    for item in order.items:
        if item.kind == "addon":
            item.instance_id = service.instance_id
    return ProvisionInput(order.order_id, account.business_id, order.region, order.items)


async def test_recording_the_order_and_the_account_twice_writes_them_once(
    activities: LicenseActivationActivities, sessions: Sessions, order: StartActivationInput
) -> None:
    await recorded(activities, sessions, order)
    assert await count(sessions, Order) == 1
    assert await count(sessions, License) == 3
    assert await count(sessions, Business) == 1
    assert await count(sessions, Account) == 1


async def test_a_second_primary_for_the_same_address_is_a_business_error(
    activities: LicenseActivationActivities, sessions: Sessions, order: StartActivationInput
) -> None:
    account = await recorded(activities, sessions, order)
    other = CreatePrimaryAccountInput(
        business_id="b0000000-0000-0000-0000-000000000002",
        account_id="a0000000-0000-0000-0000-000000000002",
        company_name="Other",
        region="eu",
        email=account.email,
    )
    with pytest.raises(ApplicationError) as caught:
        await ActivityEnvironment().run(activities.create_primary_account, other)
    assert caught.value.type == ActivationError.ACCOUNT_EXISTS and caught.value.non_retryable
    assert await count(sessions, Business) == 1  # the new Business was rolled back with it


async def test_provisioning_steps_retried_after_commit_do_not_duplicate(
    activities: LicenseActivationActivities, sessions: Sessions, order: StartActivationInput
) -> None:
    account = await recorded(activities, sessions, order)
    provision = provision_input(order, account)
    await twice(activities.create_instances, provision)
    await twice(activities.add_credits, provision)
    await twice(activities.assign_addons, provision)
    acceptances = RecordAcceptancesInput(
        order.order_id,
        account.account_id,
        [AgreementRef(a.id, a.version) for a in order.required_agreements],
        "198.51.100.1",
        LATER,
    )
    await twice(activities.record_acceptances, acceptances)
    done = CloseOrderInput(order.order_id, "activated", account.business_id, LATER)
    await twice(activities.close_order, done)

    assert await count(sessions, ProductInstance) == 1
    assert await count(sessions, CreditLedgerEntry) == 1
    assert await count(sessions, AgreementAcceptance) == 3
    async with sessions() as session:
        business = await session.get(Business, account.business_id)
        assert business is not None and business.credit_balance == 1000  # not 2000
        statuses = (await session.scalars(select(License.status))).all()
        assert set(statuses) == {"active"}
    # A later close (say, the expiry racing the activation) changes nothing.
    await ActivityEnvironment().run(
        activities.close_order, CloseOrderInput(order.order_id, "expired", None, LATER)
    )
    async with sessions() as session:
        closed = await session.get(Order, order.order_id)
        assert closed is not None and closed.status == "activated"


async def test_each_compensation_undoes_its_step_and_can_run_twice(
    activities: LicenseActivationActivities, sessions: Sessions, order: StartActivationInput
) -> None:
    account = await recorded(activities, sessions, order)
    provision = provision_input(order, account)
    env = ActivityEnvironment()
    await env.run(activities.create_instances, provision)
    await env.run(activities.add_credits, provision)
    await env.run(activities.assign_addons, provision)

    await twice(activities.unassign_addons, provision)
    await twice(activities.remove_credits, provision)
    await twice(activities.delete_instances, provision)
    assert await count(sessions, ProductInstance) == 0
    assert await count(sessions, CreditLedgerEntry) == 0
    async with sessions() as session:
        business = await session.get(Business, account.business_id)
        assert business is not None and business.credit_balance == 0
        assert set((await session.scalars(select(License.instance_id))).all()) == {None}


async def test_each_link_carries_a_code_only_its_hash_is_stored_and_a_retry_sends_nothing(
    activities: LicenseActivationActivities,
    sessions: Sessions,
    order: StartActivationInput,
    smtp: MailSink,
) -> None:
    await activities_record(activities, order)
    link = SendActivationLinkInput(
        order.order_id,
        1,
        order.contact_email,
        order.company_name,
        "zh-TW",
        order.items,
        datetime.now(UTC) + timedelta(days=30),
        reminder=False,
    )
    await twice(activities.send_link, link)
    (mail,) = await smtp.wait_for(1)
    code = code_in(mail)
    subject = str(make_header(decode_header(str(mail["Subject"]))))
    assert subject == "啟用 Acme Corp 的授權"  # the order's locale
    async with sessions() as session:
        hashes = (await session.scalars(select(ActivationCode.code_hash))).all()
    assert hashes == [hash_token(code)]


async def activities_record(
    activities: LicenseActivationActivities, order: StartActivationInput
) -> None:
    await ActivityEnvironment().run(activities.record_order, RecordOrderInput(order, LATER))
