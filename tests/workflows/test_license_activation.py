"""The license-activation workflow on the time-skipping server, with its real activities, the
real child email verification, SQLite and a real SMTP server on loopback."""

from __future__ import annotations

import logging
from datetime import timedelta

import pytest
from sqlalchemy import delete
from sqlalchemy import func
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.ext.asyncio import async_sessionmaker
from temporalio.client import Client
from temporalio.client import WorkflowUpdateFailedError
from temporalio.exceptions import ApplicationError
from temporalio.testing import WorkflowEnvironment

from core.settings import Settings
from core.tokens import hash_token
from models.contracts import email_verification as verification
from models.contracts.license_activation import AcceptAgreementsInput
from models.contracts.license_activation import ActivationStatus
from models.contracts.license_activation import AgreementRef
from models.contracts.license_activation import ChooseInstanceInput
from models.contracts.license_activation import SignInInput
from models.contracts.search_attributes import ACTIVATION_FLOW
from models.errors import ActivationError
from models.records.domain import AgreementAcceptance
from models.records.domain import Business
from models.records.domain import CreditLedgerEntry
from models.records.domain import License
from models.records.domain import Order
from models.records.domain import ProductInstance
from models.records.outbox import EmailVerification
from tests.support.activations import ADDON
from tests.support.activations import CLOUD_AGREEMENTS
from tests.support.activations import CREDITS
from tests.support.activations import SERVICE
from tests.support.activations import accept_cloud
from tests.support.activations import existing_business
from tests.support.activations import finished
from tests.support.activations import place_order
from tests.support.activations import signup
from tests.support.activations import wait_for_status
from tests.support.histories import history_text
from tests.support.histories import keep_history
from tests.support.mail import MailSink
from tests.support.mail import code_in
from tests.support.mail import token_in
from tests.support.verifications import Handle as VerificationHandle
from workflows.email_verification import EmailVerificationWorkflow
from workflows.license_activation import LicenseActivationWorkflow

pytestmark = pytest.mark.asyncio
Sessions = async_sessionmaker[AsyncSession]


async def failure_type(call: object) -> tuple[str | None, ApplicationError]:
    with pytest.raises(WorkflowUpdateFailedError) as caught:
        await call  # type: ignore[misc]
    cause = caught.value.cause
    assert isinstance(cause, ApplicationError)
    return cause.type, cause


async def test_a_new_customer_verifies_an_email_accepts_and_gets_everything_provisioned(
    time_client: Client,
    time_env: WorkflowEnvironment,
    settings: Settings,
    smtp: MailSink,
    app_sessions: Sessions,
) -> None:
    state, handle = await place_order(time_client, settings, [SERVICE, ADDON, CREDITS])
    assert state.status == ActivationStatus.AWAITING_ACCOUNT
    assert [a.id for a in state.required_agreements] == [id for id, _ in CLOUD_AGREEMENTS]
    (link_mail,) = await smtp.wait_for(1, to="buyer@acme.example")
    assert "Activate Now" in link_mail.as_string() and code_in(link_mail)

    state = await handle.execute_update(
        LicenseActivationWorkflow.create_account, signup(settings, state, "it@acme.example")
    )
    assert state.status == ActivationStatus.VERIFYING_EMAIL and state.verification_id
    (verify_mail,) = await smtp.wait_for(1, to="it@acme.example")
    child: VerificationHandle = time_client.get_workflow_handle_for(
        EmailVerificationWorkflow.run, state.verification_id
    )
    await child.execute_update(
        EmailVerificationWorkflow.confirm,
        verification.ConfirmInput(hash_token(token_in(verify_mail))),
    )

    state = await wait_for_status(handle, ActivationStatus.AWAITING_AGREEMENTS)
    assert state.business_id and state.account_email == "it@acme.example"
    # The add-on has one possible instance (the one this order creates): no question asked.
    addon = next(item for item in state.items if item.kind == "addon")
    service = next(item for item in state.items if item.kind == "service")
    assert addon.instance_id == service.instance_id

    await handle.execute_update(LicenseActivationWorkflow.accept_agreements, accept_cloud())
    result = await finished(time_env, handle)
    assert result.status == ActivationStatus.ACTIVATED and result.activated_at

    async with app_sessions() as session:
        instances = (await session.scalars(select(ProductInstance))).all()
        assert [(i.id, i.business_id) for i in instances] == [
            (service.instance_id, state.business_id)
        ]
        licenses = {row.kind: row for row in await session.scalars(select(License))}
        assert {row.status for row in licenses.values()} == {"active"}
        assert licenses["addon"].instance_id == service.instance_id
        business = await session.get(Business, state.business_id)
        assert business is not None and business.credit_balance == 1000
        acceptances = (await session.scalars(select(AgreementAcceptance))).all()
        assert sorted((a.agreement_id, a.version, a.client_address) for a in acceptances) == sorted(
            (id, version, "203.0.113.7") for id, version in CLOUD_AGREEMENTS
        )
        assert {a.account_id for a in acceptances} == {state.account_id}
        order = await session.get(Order, state.order_id)
        assert order is not None and order.status == "activated"
        assert order.business_id == state.business_id
    confirmation = (await smtp.wait_for(2, to="it@acme.example"))[1]
    assert "are active" in str(confirmation["Subject"])
    for item in result.items:  # each license's lifecycle runs on after the activation
        lifecycle = time_client.get_workflow_handle(f"license-lifecycle-{item.license_id}")
        described = await lifecycle.describe()
        assert described.status is not None and described.status.name == "RUNNING"
        assert described.typed_search_attributes.get(ACTIVATION_FLOW) == "license-lifecycle"
    await keep_history(handle, "activation_new_customer")


async def test_the_code_never_appears_in_history(
    time_client: Client, time_env: WorkflowEnvironment, settings: Settings, smtp: MailSink
) -> None:
    _, handle = await place_order(time_client, settings, [SERVICE])
    code = code_in((await smtp.wait_for(1))[0])
    await handle.execute_update(LicenseActivationWorkflow.cancel)
    await finished(time_env, handle)
    history = await history_text(handle)
    assert code not in history and code.split(".", 1)[1] not in history
    assert hash_token(code) not in history  # not even its hash: the API looks codes up itself


async def test_reminders_go_out_before_the_link_lapses_then_it_expires(
    time_client: Client,
    time_env: WorkflowEnvironment,
    settings: Settings,
    smtp: MailSink,
    app_sessions: Sessions,
) -> None:
    _, handle = await place_order(time_client, settings, [SERVICE])
    await smtp.wait_for(1)
    await time_env.sleep(timedelta(days=29, hours=23))
    assert (await handle.query(LicenseActivationWorkflow.state)).status == "awaiting_account"
    await time_env.sleep(timedelta(hours=2))
    result = await handle.result()
    assert result.status == ActivationStatus.EXPIRED
    first, week_before, day_before = await smtp.wait_for(3)
    assert [
        str(m["Subject"]).startswith("Reminder:") for m in (first, week_before, day_before)
    ] == [
        False,
        True,
        True,
    ]
    assert len({code_in(m) for m in (first, week_before, day_before)}) == 3  # each its own code
    async with app_sessions() as session:
        order = await session.get(Order, result.order_id)
        assert order is not None and order.status == "expired"
    await keep_history(handle, "activation_expired")


async def test_reminder_times_follow_the_settings(
    time_client: Client, time_env: WorkflowEnvironment, settings: Settings, smtp: MailSink
) -> None:
    settings.activation_reminder_before_seconds = [3 * 24 * 3600]
    _, handle = await place_order(time_client, settings, [SERVICE])
    await smtp.wait_for(1)
    await time_env.sleep(timedelta(days=26, hours=23))
    assert len(smtp.messages()) == 1  # not yet: the reminder is due 3 days before day 30
    await time_env.sleep(timedelta(hours=2))
    await smtp.wait_for(2)
    state = await handle.query(LicenseActivationWorkflow.state)
    assert state.status == ActivationStatus.AWAITING_ACCOUNT


async def test_an_existing_customer_with_several_instances_chooses_one_for_the_addon(
    time_client: Client,
    time_env: WorkflowEnvironment,
    settings: Settings,
    smtp: MailSink,
    app_sessions: Sessions,
) -> None:
    business_id, account_id, (site_1, site_2) = await existing_business(app_sessions, 2)
    state, handle = await place_order(time_client, settings, [ADDON])
    state = await handle.execute_update(LicenseActivationWorkflow.sign_in, SignInInput(account_id))
    assert state.status == ActivationStatus.AWAITING_AGREEMENTS
    assert state.business_id == business_id
    state = await handle.execute_update(LicenseActivationWorkflow.accept_agreements, accept_cloud())
    assert state.status == ActivationStatus.AWAITING_INSTANCE_CHOICE
    assert [c.instance_id for c in state.instance_choices] == sorted([site_1, site_2])
    addon_license = state.licenses_awaiting_choice[0]

    kind, _ = await failure_type(
        handle.execute_update(
            LicenseActivationWorkflow.choose_instance, ChooseInstanceInput("not-an-instance")
        )
    )
    assert kind == ActivationError.INSTANCE_CHOICE_INVALID
    await handle.execute_update(
        LicenseActivationWorkflow.choose_instance, ChooseInstanceInput(site_2, addon_license)
    )
    assert (await finished(time_env, handle)).status == ActivationStatus.ACTIVATED
    async with app_sessions() as session:
        addon = await session.get(License, addon_license)
        assert addon is not None and addon.instance_id == site_2 and addon.status == "active"
        count = await session.scalar(select(func.count()).select_from(ProductInstance))
        assert count == 2  # an add-on creates no instance
    await keep_history(handle, "activation_instance_chosen")


async def test_an_addon_with_one_instance_is_assigned_to_it(
    time_client: Client,
    time_env: WorkflowEnvironment,
    settings: Settings,
    smtp: MailSink,
    app_sessions: Sessions,
) -> None:
    _, account_id, (site,) = await existing_business(app_sessions, 1)
    _, handle = await place_order(time_client, settings, [ADDON])
    state = await handle.execute_update(LicenseActivationWorkflow.sign_in, SignInInput(account_id))
    assert state.items[0].instance_id == site and not state.licenses_awaiting_choice
    await handle.execute_update(LicenseActivationWorkflow.accept_agreements, accept_cloud())
    assert (await finished(time_env, handle)).status == ActivationStatus.ACTIVATED


async def test_an_addon_without_any_instance_is_refused(
    time_client: Client, settings: Settings, smtp: MailSink, app_sessions: Sessions
) -> None:
    _, account_id, _ = await existing_business(app_sessions, 0)
    state, handle = await place_order(time_client, settings, [ADDON])
    kind, _ = await failure_type(
        handle.execute_update(LicenseActivationWorkflow.sign_in, SignInInput(account_id))
    )
    assert kind == ActivationError.NO_INSTANCE_FOR_ADDON
    # A new account would own no instance either: refused before any email is sent.
    kind, _ = await failure_type(
        handle.execute_update(
            LicenseActivationWorkflow.create_account, signup(settings, state, "new@acme.example")
        )
    )
    assert kind == ActivationError.NO_INSTANCE_FOR_ADDON
    assert smtp.messages(to="new@acme.example") == []
    state = await handle.query(LicenseActivationWorkflow.state)
    assert state.status == ActivationStatus.AWAITING_ACCOUNT and state.account_id is None


async def test_agreements_must_all_be_accepted_in_their_current_version(
    time_client: Client, settings: Settings, smtp: MailSink, app_sessions: Sessions
) -> None:
    _, account_id, _ = await existing_business(app_sessions, 0)
    _, handle = await place_order(time_client, settings, [SERVICE])
    kind, _ = await failure_type(
        handle.execute_update(LicenseActivationWorkflow.accept_agreements, accept_cloud())
    )
    assert kind == ActivationError.WRONG_STEP  # sign in first
    await handle.execute_update(LicenseActivationWorkflow.sign_in, SignInInput(account_id))
    kind, error = await failure_type(
        handle.execute_update(
            LicenseActivationWorkflow.accept_agreements,
            AcceptAgreementsInput(
                [
                    AgreementRef("cloud-service-terms", "2025-01"),
                    AgreementRef("privacy-notice", "2026-01"),
                    AgreementRef("marketing-consent", "1"),
                ],
                None,
            ),
        )
    )
    assert kind == ActivationError.AGREEMENTS_INVALID
    assert error.details[0] == [
        {"agreement": "cloud-service-terms", "problem": "outdated", "required": "2026-01"},
        {"agreement": "data-collection-notice", "problem": "missing", "required": "2026-01"},
        {"agreement": "marketing-consent", "problem": "unknown", "required": ""},
    ]
    async with app_sessions() as session:
        assert await session.scalar(select(func.count()).select_from(AgreementAcceptance)) == 0
    state = await handle.query(LicenseActivationWorkflow.state)
    assert state.status == ActivationStatus.AWAITING_AGREEMENTS


async def test_a_step_failing_for_good_undoes_the_earlier_ones(
    time_client: Client,
    time_env: WorkflowEnvironment,
    settings: Settings,
    smtp: MailSink,
    app_sessions: Sessions,
) -> None:
    business_id, account_id, (site_1, site_2) = await existing_business(app_sessions, 2)
    state, handle = await place_order(time_client, settings, [SERVICE, CREDITS, ADDON])
    await handle.execute_update(LicenseActivationWorkflow.sign_in, SignInInput(account_id))
    await handle.execute_update(
        LicenseActivationWorkflow.choose_instance, ChooseInstanceInput(site_1)
    )
    # The chosen instance is decommissioned before the customer accepts: assigning the add-on
    # (after the instance and the credits were created) fails for good.
    async with app_sessions.begin() as session:
        await session.execute(delete(ProductInstance).where(ProductInstance.id == site_1))
    await handle.execute_update(LicenseActivationWorkflow.accept_agreements, accept_cloud())

    result = await finished(time_env, handle)
    assert result.status == ActivationStatus.FAILED
    assert result.problem and "undone" in result.problem
    async with app_sessions() as session:
        instances = (await session.scalars(select(ProductInstance.id))).all()
        assert instances == [site_2]  # the new instance was removed again
        licenses = (await session.scalars(select(License))).all()
        assert {(row.status, row.instance_id) for row in licenses} == {("issued", None)}
        assert await session.scalar(select(func.count()).select_from(CreditLedgerEntry)) == 0
        business = await session.get(Business, business_id)
        assert business is not None and business.credit_balance == 0
        order = await session.get(Order, state.order_id)
        assert order is not None and order.status == "failed"
    assert smtp.messages(to="owner@acme.example") == []  # no confirmation
    await keep_history(handle, "activation_compensated")


async def test_an_expired_verification_returns_to_the_account_step(
    time_client: Client, time_env: WorkflowEnvironment, settings: Settings, smtp: MailSink
) -> None:
    state, handle = await place_order(time_client, settings, [SERVICE])
    state = await handle.execute_update(
        LicenseActivationWorkflow.create_account, signup(settings, state, "slow@acme.example")
    )
    await smtp.wait_for(1, to="slow@acme.example")
    await time_env.sleep(timedelta(hours=25))
    state = await wait_for_status(handle, ActivationStatus.AWAITING_ACCOUNT)
    assert state.problem and "expired" in state.problem and state.verification_id is None


async def test_an_address_that_owns_a_business_signs_in_by_proving_it(
    time_client: Client, settings: Settings, smtp: MailSink, app_sessions: Sessions
) -> None:
    """The same step for everyone (no account enumeration): the verified address of an existing
    primary account signs that account in instead of creating a second Business."""
    business_id, account_id, _ = await existing_business(
        app_sessions, 0, email="owner@acme.example"
    )
    state, handle = await place_order(time_client, settings, [SERVICE])
    state = await handle.execute_update(
        LicenseActivationWorkflow.create_account, signup(settings, state, "Owner@ACME.example")
    )
    assert state.verification_id
    token = token_in((await smtp.wait_for(1, to="owner@acme.example"))[0])
    child: VerificationHandle = time_client.get_workflow_handle_for(
        EmailVerificationWorkflow.run, state.verification_id
    )
    await child.execute_update(
        EmailVerificationWorkflow.confirm, verification.ConfirmInput(hash_token(token))
    )
    state = await wait_for_status(handle, ActivationStatus.AWAITING_AGREEMENTS)
    assert (state.account_id, state.business_id) == (account_id, business_id)
    async with app_sessions() as session:
        assert await session.scalar(select(func.count()).select_from(Business)) == 1
    await keep_history(handle, "activation_signed_in_by_proving_the_address")


async def test_signing_in_during_a_sign_up_cancels_its_verification(
    time_client: Client, settings: Settings, smtp: MailSink, app_sessions: Sessions
) -> None:
    _, account_id, _ = await existing_business(app_sessions, 0)
    state, handle = await place_order(time_client, settings, [SERVICE])
    state = await handle.execute_update(
        LicenseActivationWorkflow.create_account, signup(settings, state, "else@acme.example")
    )
    await smtp.wait_for(1, to="else@acme.example")
    child_id = state.verification_id
    assert child_id
    state = await handle.execute_update(LicenseActivationWorkflow.sign_in, SignInInput(account_id))
    assert state.status == ActivationStatus.AWAITING_AGREEMENTS and state.verification_id is None
    child: VerificationHandle = time_client.get_workflow_handle_for(
        EmailVerificationWorkflow.run, child_id
    )
    assert (await child.result()).status == verification.VerificationStatus.CANCELLED
    await keep_history(child, "verification_cancelled_by_parent")
    await keep_history(handle, "activation_signed_in_during_signup")
    async with app_sessions() as session:
        recorded = await session.scalar(
            select(EmailVerification.status).where(EmailVerification.flow_id == child_id)
        )
    assert recorded == "cancelled"


async def test_a_cancelled_order_refuses_everything_after(
    time_client: Client, settings: Settings, smtp: MailSink, app_sessions: Sessions
) -> None:
    _, account_id, _ = await existing_business(app_sessions, 0)
    _, handle = await place_order(time_client, settings, [SERVICE])
    await handle.execute_update(LicenseActivationWorkflow.cancel)
    assert (await handle.result()).status == ActivationStatus.CANCELLED
    async with app_sessions() as session:
        statuses = (await session.scalars(select(Order.status))).all()
    assert statuses == ["cancelled"]
    await keep_history(handle, "activation_cancelled")


async def test_a_repeated_order_joins_the_same_flow(
    time_client: Client, settings: Settings, smtp: MailSink, app_sessions: Sessions
) -> None:
    first, _ = await place_order(time_client, settings, [SERVICE], reference="SO-1")
    again, _ = await place_order(time_client, settings, [SERVICE], reference="SO-1")
    assert again.id == first.id and again.items == first.items
    await smtp.wait_for(1)
    async with app_sessions() as session:
        assert await session.scalar(select(func.count()).select_from(Order)) == 1
    assert len(smtp.messages()) == 1


async def test_a_business_refusal_is_no_failure_in_the_worker_log(
    time_client: Client, settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    """An unknown account is the customer's answer, not the worker's failure: no WARNING and
    no traceback (those are for the unexpected)."""
    _, handle = await place_order(time_client, settings, [SERVICE])
    with caplog.at_level(logging.DEBUG):
        with pytest.raises(WorkflowUpdateFailedError) as refused:
            await handle.execute_update(
                LicenseActivationWorkflow.sign_in, SignInInput("no-such-account")
            )
    assert isinstance(refused.value.cause, ApplicationError)
    assert refused.value.cause.type == ActivationError.ACCOUNT_NOT_FOUND
    loud = [record for record in caplog.records if record.levelno >= logging.WARNING]
    assert loud == [], [record.getMessage() for record in loud]
    shown = [record for record in caplog.records if record.levelno >= logging.INFO]
    assert not any(record.exc_info for record in shown)
    said = [record.getMessage() for record in shown if "refused" in record.getMessage()]
    assert len(said) == 1 and "refused: account_not_found" in said[0]
