"""Conflicting updates fired together, in both orders, many times: exactly one wins, and the
records, the mails and the flow agree on which.

The updates are sent while no worker runs, then a worker starts: the server hands them to the
flow in one workflow task, where the SDK wakes every satisfied wait in one pass (the way two
answers won at once, issue 36). The worker keeps no flow in memory, so stopping it leaves no
flow tied to it. The real dev server, activities, SMTP and database.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from collections.abc import Awaitable
from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.ext.asyncio import async_sessionmaker
from temporalio.client import Client
from temporalio.client import WorkflowHandle
from temporalio.client import WorkflowUpdateFailedError
from temporalio.exceptions import ApplicationError
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from api.flow_clients.primary_change import start_change
from core.settings import Settings
from core.tokens import hash_token
from core.tokens import new_token
from core.tokens import random_key
from models.contracts import email_verification as verification
from models.contracts.email_verification import ConfirmInput
from models.contracts.license_activation import ActivationStatus
from models.contracts.license_activation import SignInInput
from models.contracts.local_accounts import ActivateInput
from models.contracts.ownership_transfer import DecisionInput
from models.contracts.primary_change import ChangeState
from models.contracts.primary_change import ObjectInput
from models.contracts.primary_change import OldPrimary
from models.contracts.product_registration import START as start_registration
from models.contracts.product_registration import RegisterInput
from models.contracts.product_registration import StartRegistrationInput
from models.contracts.product_registration import flow_id_of as token_flow_id
from models.records.domain import Account
from models.records.domain import Business
from models.records.domain import OwnershipTransfer
from models.records.domain import ProductInstance
from tests.support.accounts import add_local_account
from tests.support.accounts import invite
from tests.support.accounts import offer
from tests.support.activations import SERVICE
from tests.support.activations import accept_cloud
from tests.support.activations import existing_business
from tests.support.activations import place_order
from tests.support.activations import signup
from tests.support.activations import wait_for_status
from tests.support.mail import MailSink
from tests.support.mail import token_in
from tests.support.temporal import STARTED_FLOWS
from tests.support.temporal import end_started_flows
from tests.support.verifications import begin
from workers.worker import build_worker
from workflows.email_verification import EmailVerificationWorkflow
from workflows.license_activation import LicenseActivationWorkflow
from workflows.local_accounts import LocalAccountActivationWorkflow
from workflows.ownership_transfer import OwnershipTransferWorkflow
from workflows.primary_change import PrimaryChangeWorkflow
from workflows.product_registration import ProductRegistrationWorkflow

pytestmark = [pytest.mark.asyncio, pytest.mark.slow]
Sessions = async_sessionmaker[AsyncSession]
Call = Callable[[], Awaitable[Any]]
ROUNDS = 4  # flows for each order of the two updates


class Racer:
    """Sets up flows with a worker running, stops it, fires each flow's two updates, starts a
    worker again and checks what each flow made of them."""

    def __init__(self, env: WorkflowEnvironment, settings: Settings, sessions: Sessions) -> None:
        self.client: Client = env.client
        self.settings, self.sessions = settings, sessions

    def worker(self) -> Worker:
        return build_worker(self.client, self.settings, self.sessions)

    async def both_orders(
        self, setup: Callable[[], Awaitable[tuple[Flow, Call, Call]]], check: Callable[..., Any]
    ) -> None:
        """ROUNDS flows for each order of the two updates (`setup` makes a flow and gives its
        two updates); `check(flow, outcomes)` for each, outcomes in `setup`'s order."""
        async with self.worker():
            races = [await setup() for _ in range(2 * ROUNDS)]
        # A stopped worker's last poll lingers on the server for a moment: a task handed to it
        # would wait for its 10 s timeout. (Waiting for requests, not for a flow's timer.)
        await asyncio.sleep(2)
        pending = [
            [asyncio.ensure_future(outcome(call)) for call in (first, second)[:: 1 - 2 * (n % 2)]]
            for n, (_, first, second) in enumerate(races)
        ]
        await until_tasks_are_pending([flow.handle for flow, _, _ in races])
        async with self.worker():
            for n, ((flow, _, _), calls) in enumerate(zip(races, pending, strict=True)):
                outcomes = list(await asyncio.gather(*calls))
                await check(flow, outcomes[:: 1 - 2 * (n % 2)])


async def outcome(call: Call) -> str:
    try:
        state = await call()
    except WorkflowUpdateFailedError as err:
        assert isinstance(err.cause, ApplicationError), err
        return str(err.cause.type)
    return f"ok:{state.status}"


async def until_tasks_are_pending(handles: list[WorkflowHandle[Any, Any]]) -> None:
    """Until the first update of each flow has reached the server (the flow waits for a
    workflow task); the other was sent at the same moment on the same connection."""
    for handle in handles:
        for _ in range(500):
            if (await handle.describe()).raw_description.HasField("pending_workflow_task"):
                break
            await asyncio.sleep(0.01)
        else:
            raise AssertionError("the updates never reached the server")
    await asyncio.sleep(0.05)  # the last flow's second update, already on its way


def unique(name: str = "owner") -> str:
    return f"{name}-{uuid.uuid4().hex[:8]}@acme.example"


def one_winner(outcomes: list[str]) -> str:
    winners = [found for found in outcomes if found.startswith("ok:")]
    assert len(winners) == 1, outcomes
    return winners[0].removeprefix("ok:")


@pytest.fixture
async def racer(
    dev_env: WorkflowEnvironment, settings: Settings, smtp: MailSink, app_sessions: Sessions
) -> AsyncIterator[Racer]:
    racer = Racer(dev_env, settings, app_sessions)
    yield racer
    async with racer.worker():
        await end_started_flows(dev_env)


class Flow:
    def __init__(self, handle: WorkflowHandle[Any, Any], **facts: Any) -> None:
        self.handle, self.facts = handle, facts


async def settled(handle: WorkflowHandle[Any, Any]) -> Any:
    """The flow's state once it has ended (its last mails sent)."""
    return await asyncio.wait_for(handle.result(), timeout=20)


# -- ownership transfer: accept, decline, cancel ------------------------------------------------


async def a_transfer(racer: Racer, smtp: MailSink) -> Flow:
    owner = unique("o")
    business_id, owner_id, (site,) = await existing_business(racer.sessions, 1, email=owner)
    target = unique("t")
    target_id = await add_local_account(racer.sessions, business_id, site, target)
    state, handle = await offer(racer.client, racer.settings, business_id, owner_id, target_id)
    (link,) = await smtp.wait_for(1, to=target)
    decision = DecisionInput(hash_token(token_in(link)))
    return Flow(handle, owner=owner, target=target, business_id=business_id, decision=decision)


def transfer_check(racer: Racer, smtp: MailSink) -> Callable[[Flow, list[str]], Awaitable[None]]:
    async def check(flow: Flow, outcomes: list[str]) -> None:
        won = one_winner(outcomes)
        assert (await settled(flow.handle)).status == won
        async with racer.sessions() as session:
            rows = await session.scalars(
                select(OwnershipTransfer).where(
                    OwnershipTransfer.business_id == flow.facts["business_id"]
                )
            )
            assert [row.status for row in rows] == [won]
            primary = await session.scalar(
                select(Account.email).where(
                    Account.business_id == flow.facts["business_id"], Account.kind == "primary"
                )
            )
        assert primary == (flow.facts["target"] if won == "accepted" else flow.facts["owner"])
        expected = {"accepted": 2, "declined": 1, "cancelled": 2}[won]  # the target's mails
        mails = await smtp.wait_for(expected, to=flow.facts["target"])
        subjects = " / ".join(str(mail["Subject"]) for mail in mails[1:])
        told = {"accepted": "You are now the owner", "declined": "", "cancelled": "cancelled"}
        assert told[won] in subjects and len(mails) == expected, subjects

    return check


@pytest.mark.parametrize(
    "first, second",
    [("accept", "cancel"), ("decline", "cancel"), ("accept", "decline")],
)
async def test_two_answers_to_one_ownership_transfer(
    racer: Racer, smtp: MailSink, first: str, second: str
) -> None:
    async def setup() -> tuple[Flow, Call, Call]:
        flow = await a_transfer(racer, smtp)

        def call(name: str) -> Call:
            if name == "cancel":
                return lambda: flow.handle.execute_update(OwnershipTransferWorkflow.cancel)
            update = getattr(OwnershipTransferWorkflow, name)
            return lambda: flow.handle.execute_update(update, flow.facts["decision"])

        return flow, call(first), call(second)

    await racer.both_orders(setup, transfer_check(racer, smtp))


# -- local account: activate, cancel ------------------------------------------------------------


async def test_activating_an_invitation_while_the_primary_withdraws_it(
    racer: Racer, smtp: MailSink
) -> None:
    async def setup() -> tuple[Flow, Call, Call]:
        business_id, owner_id, (site,) = await existing_business(racer.sessions, 1, email=unique())
        email = unique("i")
        state, handle = await invite(
            racer.client, racer.settings, business_id, owner_id, site, email
        )
        (link,) = await smtp.wait_for(1, to=email)
        answer = ActivateInput(hash_token(token_in(link)))
        flow = Flow(handle, account_id=state.account_id)
        return (
            flow,
            lambda: handle.execute_update(LocalAccountActivationWorkflow.activate, answer),
            lambda: handle.execute_update(LocalAccountActivationWorkflow.cancel),
        )

    async def check(flow: Flow, outcomes: list[str]) -> None:
        won = one_winner(outcomes)
        assert (await settled(flow.handle)).status == won
        async with racer.sessions() as session:
            account = await session.get(Account, flow.facts["account_id"])
        assert account is not None and account.status == (
            "active" if won == "active" else "removed"
        )

    await racer.both_orders(setup, check)


# -- primary change: object, cancel -------------------------------------------------------------


async def test_the_owner_objects_while_support_cancels_a_primary_change(
    racer: Racer, smtp: MailSink
) -> None:
    async def setup() -> tuple[Flow, Call, Call]:
        owner = unique("o")
        new = unique("n")
        business_id, _, _ = await existing_business(racer.sessions, 1, email=owner)
        async with racer.sessions() as session:
            business = await session.get(Business, business_id)
        assert business is not None
        change = await start_change(
            racer.client, racer.settings, business, new_email=new, ticket="SUP-1",
            requested_by="alice", old_primary=OldPrimary.LOCAL, locale="en",
        )  # fmt: skip
        handle = racer.client.get_workflow_handle(
            f"primary-change-{change.id}", result_type=ChangeState
        )
        STARTED_FLOWS.append(handle)
        (proof,) = await smtp.wait_for(1, to=new)
        child = await wait_for_child(handle)
        await child.execute_update(
            EmailVerificationWorkflow.confirm, ConfirmInput(hash_token(token_in(proof)))
        )
        (objection,) = await smtp.wait_for(1, to=owner)
        answer = ObjectInput(hash_token(token_in(objection)))
        return (
            Flow(handle, business_id=business_id, owner=owner),
            lambda: handle.execute_update(PrimaryChangeWorkflow.object, answer),
            lambda: handle.execute_update(PrimaryChangeWorkflow.cancel),
        )

    async def check(flow: Flow, outcomes: list[str]) -> None:
        won = one_winner(outcomes)
        assert (await settled(flow.handle)).status == won
        async with racer.sessions() as session:
            primary = await session.scalar(
                select(Account.email).where(
                    Account.business_id == flow.facts["business_id"], Account.kind == "primary"
                )
            )
        assert primary == flow.facts["owner"]

    await racer.both_orders(setup, check)


async def wait_for_child(handle: WorkflowHandle[Any, Any]) -> WorkflowHandle[Any, Any]:
    for _ in range(500):
        history = await handle.fetch_history()
        for event in history.events:
            if event.HasField("child_workflow_execution_started_event_attributes"):
                started = event.child_workflow_execution_started_event_attributes
                return handle._client.get_workflow_handle(started.workflow_execution.workflow_id)
        await asyncio.sleep(0.02)
    raise AssertionError("no child verification")


# -- email verification: confirm, resend, cancel ------------------------------------------------


@pytest.mark.parametrize("other", ["cancel", "resend"])
async def test_confirming_a_link_while_it_is_cancelled_or_replaced(
    racer: Racer, smtp: MailSink, other: str
) -> None:
    racer.settings.verification_resend_cooldown_seconds = 0

    async def setup() -> tuple[Flow, Call, Call]:
        email = unique("v")
        _, handle = await begin(racer.client, racer.settings, email, resend_cooldown_seconds=0)
        (link,) = await smtp.wait_for(1, to=email)
        confirm = ConfirmInput(hash_token(token_in(link)))
        update = getattr(EmailVerificationWorkflow, other)
        return (
            Flow(handle),
            lambda: handle.execute_update(EmailVerificationWorkflow.confirm, confirm),
            lambda: handle.execute_update(update),
        )

    async def check(flow: Flow, outcomes: list[str]) -> None:
        confirmed, other_answer = outcomes
        assert (confirmed == "ok:verified") != other_answer.startswith("ok:"), outcomes
        state = await flow.handle.query(EmailVerificationWorkflow.state)
        assert state.status == ("verified" if confirmed == "ok:verified" else other_answer[3:])

    await racer.both_orders(setup, check)


# -- license activation: sign in, sign up, agreements, cancel -----------------------------------


@pytest.mark.parametrize(
    "first, second",
    [
        ("sign_in", "create_account"),
        ("sign_in", "cancel"),
        ("create_account", "cancel"),
        ("accept_agreements", "cancel"),
    ],
)
async def test_two_steps_of_one_activation(
    racer: Racer, smtp: MailSink, first: str, second: str
) -> None:
    async def setup() -> tuple[Flow, Call, Call]:
        owner = unique("o")
        business_id, owner_id, _ = await existing_business(racer.sessions, 1, email=owner)
        state, handle = await place_order(
            racer.client, racer.settings, [SERVICE], contact_email=owner
        )
        if "accept_agreements" in (first, second):
            await handle.execute_update(LicenseActivationWorkflow.sign_in, SignInInput(owner_id))
        inputs: dict[str, Any] = {
            "sign_in": SignInInput(owner_id),
            "create_account": signup(racer.settings, state, unique("new")),
            "accept_agreements": accept_cloud(),
        }

        def call(name: str) -> Call:
            update = getattr(LicenseActivationWorkflow, name)
            if name == "cancel":
                return lambda: handle.execute_update(update)
            return lambda: handle.execute_update(update, inputs[name])

        return Flow(handle, business_id=business_id), call(first), call(second)

    async def check(flow: Flow, outcomes: list[str]) -> None:
        if outcomes == ["ok:awaiting_agreements", "ok:verifying_email"]:
            # Signing in is allowed while a sign-up verifies its address, and replaces it.
            assert (first, second) == ("sign_in", "create_account")
            await wait_for_status(flow.handle, ActivationStatus.AWAITING_AGREEMENTS)
            await assert_no_live_child(flow.handle)
            return
        won = one_winner(outcomes)
        state = await wait_for_status(flow.handle, ActivationStatus(won))
        if state.status == "cancelled":
            state = await settled(flow.handle)
            assert state.verification_id is None
            if "create_account" in (first, second):  # the sign-up's link died with the order
                await assert_no_live_child(flow.handle)
        async with racer.sessions() as session:
            instances = await session.scalars(
                select(ProductInstance).where(
                    ProductInstance.business_id == flow.facts["business_id"]
                )
            )
            assert len(list(instances)) == 1 + (won == "activated")

    await racer.both_orders(setup, check)


async def assert_no_live_child(handle: WorkflowHandle[Any, Any]) -> None:
    history = await handle.fetch_history()
    for event in history.events:
        if event.HasField("child_workflow_execution_started_event_attributes"):
            started = event.child_workflow_execution_started_event_attributes
            child = handle._client.get_workflow_handle(
                started.workflow_execution.workflow_id, result_type=verification.VerificationState
            )
            outcome = await asyncio.wait_for(child.result(), timeout=10)
            assert outcome.status == verification.VerificationStatus.CANCELLED


# -- product registration: register, revoke -----------------------------------------------------


@pytest.mark.parametrize("other", ["revoke", "register"])
async def test_a_single_use_token_registers_once_whatever_races_it(
    racer: Racer, other: str
) -> None:
    async def setup() -> tuple[Flow, Call, Call]:
        business_id, owner_id, sites = await existing_business(racer.sessions, 2, email=unique())
        token_id = random_key()
        token = new_token(token_id)
        input = StartRegistrationInput(
            token_id, hash_token(token), business_id, "endpoint-protection", "Lab appliances",
            owner_id, 3600, 1,
        )  # fmt: skip
        await start_registration(racer.client, input, task_queue=racer.settings.temporal_task_queue)
        handle = racer.client.get_workflow_handle(token_flow_id(token_id))
        STARTED_FLOWS.append(handle)

        def register(site: str) -> Call:
            answer = RegisterInput(hash_token(token), site)
            return lambda: handle.execute_update(ProductRegistrationWorkflow.register, answer)

        second = register(sites[1]) if other == "register" else None
        revoke: Call = lambda: handle.execute_update(ProductRegistrationWorkflow.revoke)  # noqa: E731
        return Flow(handle, business_id=business_id), register(sites[0]), second or revoke

    async def check(flow: Flow, outcomes: list[str]) -> None:
        registered, other_answer = outcomes
        async with racer.sessions() as session:
            registrations = await session.scalars(
                select(ProductInstance.registration_status).where(
                    ProductInstance.business_id == flow.facts["business_id"]
                )
            )
            count = sum(status == "registered" for status in registrations)
        final = await flow.handle.query(ProductRegistrationWorkflow.state)
        if other == "register":
            assert one_winner(outcomes) == "used" and final.status == "used" and count == 1
        elif registered == "ok:used":  # the registration came first; the revocation finds it used
            assert final.status == "used" and count == 1
        else:
            assert other_answer == "ok:revoked" and final.status == "revoked" and count == 0

    await racer.both_orders(setup, check)
