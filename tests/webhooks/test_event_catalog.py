"""Every event type of the catalog, emitted by the real flows (their workflows, activities and
database on the time-skipping server, the conversion on the dev server) and delivered to a real
receiver on loopback subscribed to everything, each delivery verified with the `standardwebhooks`
library. Each test names the types it proves; one checks that together they are the catalog."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from collections.abc import Awaitable
from collections.abc import Callable
from datetime import timedelta
from typing import Any
from typing import TypeVar

import httpx
import pytest
from sqlalchemy import delete
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.ext.asyncio import async_sessionmaker
from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment

from api.app import create_app
from core.settings import Settings
from core.tokens import hash_token
from models.contracts import email_verification as verification
from models.contracts.license_activation import ActivationStatus
from models.contracts.license_activation import ChooseInstanceInput
from models.contracts.license_activation import SignInInput
from models.contracts.local_accounts import ActivateInput
from models.contracts.ownership_transfer import DecisionInput
from models.records.domain import ProductInstance
from models.records.events import EVENT_TYPES
from tests.support.accounts import add_local_account
from tests.support.accounts import invite
from tests.support.accounts import offer
from tests.support.activations import ADDON
from tests.support.activations import CREDITS
from tests.support.activations import NEXT_YEAR
from tests.support.activations import SERVICE
from tests.support.activations import accept_cloud
from tests.support.activations import existing_business
from tests.support.activations import finished
from tests.support.activations import place_order
from tests.support.activations import signup
from tests.support.activations import wait_for_status
from tests.support.api import AUTH
from tests.support.lifecycles import credit_license
from tests.support.lifecycles import start as start_lifecycle
from tests.support.mail import MailSink
from tests.support.mail import token_in
from tests.support.on_premises import BSA
from tests.support.on_premises import SENSOR
from tests.support.on_premises import certificate as on_premises_certificate
from tests.support.receiver import Receiver
from tests.support.receiver import Request
from tests.support.vendor import Vendor
from tests.support.vendor import service
from tests.support.verifications import Handle as VerificationHandle
from tests.webhooks.conftest import subscribe
from workers.event_relay import EventRelay
from workflows.email_verification import EmailVerificationWorkflow
from workflows.license_activation import LicenseActivationWorkflow
from workflows.license_lifecycle import expiry_moment
from workflows.local_accounts import LocalAccountActivationWorkflow
from workflows.ownership_transfer import OwnershipTransferWorkflow

pytestmark = pytest.mark.asyncio
Sessions = async_sessionmaker[AsyncSession]
TestT = TypeVar("TestT", bound=Callable[..., Awaitable[None]])
# Which types each test proves the flows emit (filled in by `@proves`).
PROVEN: dict[str, set[str]] = {}


def proves(*types: str) -> Callable[[TestT], TestT]:
    def register(test: TestT) -> TestT:
        PROVEN[test.__name__] = set(types)
        return test

    return register


@pytest.fixture
async def endpoint(api: httpx.AsyncClient, receiver: Receiver, relay: EventRelay) -> dict[str, Any]:
    """An endpoint subscribed to everything, its events relayed as the worker relays them."""
    return await subscribe(api, receiver.url)


async def delivered(
    receiver: Receiver, endpoint: dict[str, Any], *types: str
) -> dict[str, dict[str, Any]]:
    """Each type's first event, once it has arrived, verified with the endpoint's secret."""

    def arrived() -> bool:
        return all(receiver.events(type) for type in types)

    for _ in range(300):
        if arrived():
            break
        await asyncio.sleep(0.05)
    missing = [type for type in types if not receiver.events(type)]
    assert not missing, (
        f"not delivered: {missing}; got {[r.json()['type'] for r in receiver.requests]}"
    )
    bodies = {}
    for type in types:
        request: Request = receiver.events(type)[0]
        body = request.verified(endpoint["secret"])
        assert body["data"], type
        bodies[type] = body
    return bodies


async def test_together_the_tests_prove_the_whole_catalog() -> None:
    proven = set().union(*PROVEN.values())
    assert proven == set(EVENT_TYPES), set(EVENT_TYPES) ^ proven


@proves(
    "order.created",
    "account.primary.created",
    "activation.completed",
    "instance.provisioned",
    "credits.added",
)
async def test_a_new_customers_activation(
    time_client: Client,
    time_env: WorkflowEnvironment,
    settings: Settings,
    smtp: MailSink,
    endpoint: dict[str, Any],
    receiver: Receiver,
) -> None:
    state, handle = await place_order(time_client, settings, [SERVICE, ADDON, CREDITS])
    state = await handle.execute_update(
        LicenseActivationWorkflow.create_account, signup(settings, state, "it@acme.example")
    )
    (verify_mail,) = await smtp.wait_for(1, to="it@acme.example")
    assert state.verification_id
    child: VerificationHandle = time_client.get_workflow_handle_for(
        EmailVerificationWorkflow.run, state.verification_id
    )
    await child.execute_update(
        EmailVerificationWorkflow.confirm,
        verification.ConfirmInput(hash_token(token_in(verify_mail))),
    )
    await wait_for_status(handle, ActivationStatus.AWAITING_AGREEMENTS)
    await handle.execute_update(LicenseActivationWorkflow.accept_agreements, accept_cloud())
    result = await finished(time_env, handle)

    events = await delivered(receiver, endpoint, *PROVEN["test_a_new_customers_activation"])
    service_item = next(item for item in result.items if item.kind == "service")
    assert events["order.created"]["data"]["order_id"] == result.order_id
    assert events["account.primary.created"]["data"]["email"] == "it@acme.example"
    assert events["activation.completed"]["business_id"] == result.business_id
    provisioned = events["instance.provisioned"]["data"]
    assert provisioned["instance_id"] == service_item.instance_id
    assert events["credits.added"]["data"]["amount"] == 1000
    # In the order the changes committed.
    order = [r.json()["type"] for r in receiver.requests]
    assert order.index("order.created") < order.index("account.primary.created")
    assert order.index("account.primary.created") < order.index("activation.completed")


@proves("activation.failed", "activation.cancelled", "activation.expired")
async def test_orders_that_end_without_an_activation(
    time_client: Client,
    time_env: WorkflowEnvironment,
    settings: Settings,
    app_sessions: Sessions,
    endpoint: dict[str, Any],
    receiver: Receiver,
) -> None:
    _, account_id, (site_1, _) = await existing_business(app_sessions, 2)
    state, failing = await place_order(time_client, settings, [SERVICE, CREDITS, ADDON])
    await failing.execute_update(LicenseActivationWorkflow.sign_in, SignInInput(account_id))
    await failing.execute_update(
        LicenseActivationWorkflow.choose_instance, ChooseInstanceInput(site_1)
    )
    async with app_sessions.begin() as session:  # the chosen instance goes away meanwhile
        await session.execute(delete(ProductInstance).where(ProductInstance.id == site_1))
    await failing.execute_update(LicenseActivationWorkflow.accept_agreements, accept_cloud())
    assert (await finished(time_env, failing)).status == ActivationStatus.FAILED

    _, cancelled = await place_order(time_client, settings, [SERVICE])
    await cancelled.execute_update(LicenseActivationWorkflow.cancel)
    _, lapsing = await place_order(time_client, settings, [SERVICE])
    await time_env.sleep(timedelta(days=31))

    events = await delivered(
        receiver, endpoint, *PROVEN["test_orders_that_end_without_an_activation"]
    )
    failed = events["activation.failed"]["data"]
    assert failed["order_id"] == state.order_id and failed["reason"] == "instance_unavailable"
    assert events["activation.expired"]["data"]["status"] == "expired"


@proves("license.renewed")
async def test_a_renewal(shop: Vendor, endpoint: dict[str, Any], receiver: Receiver) -> None:
    today = await shop.today()
    _, account_id, _ = await shop.customer(0)
    first, _ = await shop.activate(account_id, [service(today + timedelta(days=30))])
    await shop.activate(account_id, [service(today + timedelta(days=395))])
    events = await delivered(receiver, endpoint, "license.renewed")
    renewed = events["license.renewed"]["data"]
    assert renewed["license_id"] == first.items[0].license_id
    assert renewed["expires_on"] == str(today + timedelta(days=395))


@proves("license.expiring", "license.expired", "credits.expired")
async def test_a_credit_grant_runs_out(
    time_client: Client,
    time_env: WorkflowEnvironment,
    settings: Settings,
    app_sessions: Sessions,
    endpoint: dict[str, Any],
    receiver: Receiver,
) -> None:
    license = await credit_license(app_sessions, await time_env.get_current_time(), days=10)
    handle = await start_lifecycle(time_client, settings, license)
    ends = expiry_moment(license.expires_on)
    await time_env.sleep(ends - await time_env.get_current_time() + timedelta(hours=1))
    with time_env.auto_time_skipping_disabled():
        await handle.result()
    events = await delivered(receiver, endpoint, *PROVEN["test_a_credit_grant_runs_out"])
    assert events["license.expiring"]["data"]["days_left"] == 7  # 30 is before it began
    assert events["credits.expired"]["data"]["amount"] == 700  # what was left of it


@proves("instance.registered", "enrollment_token.revoked", "instance.unregistered")
async def test_an_instance_registers_and_leaves(
    api: httpx.AsyncClient, app_sessions: Sessions, endpoint: dict[str, Any], receiver: Receiver
) -> None:
    business_id, account_id, (site,) = await existing_business(app_sessions, 1)
    acting = AUTH | {"X-Acting-Account": account_id}
    tokens = f"/v1/businesses/{business_id}/enrollment-tokens"
    body = {"instance_type": "endpoint-protection", "description": "Lab", "max_uses": 2}
    token = (await api.post(tokens, json=body, headers=acting)).json()
    registered = await api.post(
        "/v1/registrations", json={"token": token["token"], "instance_id": site}
    )
    assert registered.status_code == 200, registered.text
    assert (await api.delete(f"{tokens}/{token['id']}", headers=acting)).status_code == 200
    registration = f"/v1/businesses/{business_id}/instances/{site}/registration"
    assert (await api.delete(registration, headers=acting)).status_code == 200
    events = await delivered(receiver, endpoint, *PROVEN["test_an_instance_registers_and_leaves"])
    assert events["instance.registered"]["data"]["token_id"] == token["id"]
    assert events["enrollment_token.revoked"]["data"]["token_id"] == token["id"]
    assert events["instance.unregistered"]["data"]["instance_id"] == site


@proves("local_account.activated", "account.primary.changed")
async def test_a_local_account_then_a_new_owner(
    time_client: Client,
    settings: Settings,
    smtp: MailSink,
    app_sessions: Sessions,
    endpoint: dict[str, Any],
    receiver: Receiver,
) -> None:
    business_id, owner_id, (site,) = await existing_business(app_sessions, 1)
    _, invitation = await invite(time_client, settings, business_id, owner_id, site)
    (mail,) = await smtp.wait_for(1, to="grace@acme.example")
    await invitation.execute_update(
        LocalAccountActivationWorkflow.activate, ActivateInput(hash_token(token_in(mail)))
    )
    target_id = await add_local_account(app_sessions, business_id, site, "ada@acme.example")
    _, transfer = await offer(time_client, settings, business_id, owner_id, target_id)
    (link,) = await smtp.wait_for(1, to="ada@acme.example")
    await transfer.execute_update(
        OwnershipTransferWorkflow.accept, DecisionInput(hash_token(token_in(link)))
    )
    events = await delivered(receiver, endpoint, *PROVEN["test_a_local_account_then_a_new_owner"])
    assert events["local_account.activated"]["data"]["email"] == "grace@acme.example"
    changed = events["account.primary.changed"]["data"]
    assert (changed["account_id"], changed["previous_account_id"]) == (target_id, owner_id)
    assert changed["by"] == "ownership_transfer"


# -- on the dev server: a lifecycle child ending after its parent closed locks the time-skipping
# server's clock for good (tests/workflows/test_license_renewal.py).


@pytest.fixture
async def dev_endpoint(
    dev_client: Client, settings: Settings, app_sessions: Sessions, receiver: Receiver
) -> AsyncIterator[dict[str, Any]]:
    app = create_app(settings, temporal=dev_client)
    relay = asyncio.create_task(EventRelay(dev_client, app_sessions, settings).run())
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
            yield await subscribe(http, receiver.url)
    relay.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await relay


@pytest.fixture
def dev_shop(
    dev_client: Client,
    dev_env: WorkflowEnvironment,
    settings: Settings,
    app_sessions: Sessions,
    smtp: MailSink,
) -> Vendor:
    return Vendor(dev_client, dev_env, settings, app_sessions, smtp)


@pytest.fixture
def shop(
    time_client: Client,
    time_env: WorkflowEnvironment,
    settings: Settings,
    app_sessions: Sessions,
    smtp: MailSink,
) -> Vendor:
    return Vendor(time_client, time_env, settings, app_sessions, smtp)


@proves("trial.converted")
async def test_a_trial_converted(
    dev_shop: Vendor, dev_endpoint: dict[str, Any], receiver: Receiver
) -> None:
    today = await dev_shop.today()
    _, account_id, _ = await dev_shop.customer(0)
    trial, _ = await dev_shop.activate(
        account_id, [service(today + timedelta(days=30))], trial=True
    )
    paid, _ = await dev_shop.activate(account_id, [service(today + timedelta(days=395))])
    events = await delivered(receiver, dev_endpoint, "trial.converted")
    converted = events["trial.converted"]["data"]
    assert converted["trial_license_id"] == trial.items[0].license_id
    assert converted["license_id"] == paid.items[0].license_id
    assert converted["instance_id"] == trial.items[0].instance_id


@proves(
    "installation.activated",
    "installation.deactivated",
    "license_code.renewed",
    "license_code.revoked",
)
async def test_an_on_premises_code(
    api: httpx.AsyncClient,
    time_env: WorkflowEnvironment,
    smtp: MailSink,
    endpoint: dict[str, Any],
    receiver: Receiver,
) -> None:
    answer, code = await on_premises_certificate(api, time_env, smtp, SENSOR)
    code_id = answer["codes"][0]["id"]
    seat = {"activation_code": code, "fingerprint": "HOST-A-0001"}
    assert (await api.post("/v1/installations", json=seat | {"agreement": BSA})).is_success
    assert (await api.post("/v1/installations/deactivate", json=seat)).is_success
    later = {"expires_on": (NEXT_YEAR + timedelta(days=365)).isoformat()}
    codes = f"/v1/license-codes/{code_id}"
    assert (await api.post(f"{codes}/renew", json=later, headers=AUTH)).is_success
    assert (await api.post(f"{codes}/revoke", headers=AUTH)).is_success
    events = await delivered(receiver, endpoint, *PROVEN["test_an_on_premises_code"])
    assert events["installation.activated"]["data"]["fingerprint"] == "HOST-A-0001"
    assert events["license_code.renewed"]["data"]["expires_on"] == later["expires_on"]
    assert events["license_code.revoked"]["data"]["code_id"] == code_id
