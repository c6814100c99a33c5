"""An activation provisions the instance in the vendor's product (docs/provisioning.md): signed
calls to a real backend on loopback, answered at once or later (callback, status URL), refused
(the order undone, earlier instances deleted there once each), down, or losing its answer; a
renewal and an expiry reach it too."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC
from datetime import datetime
from datetime import timedelta

import httpx
from sqlalchemy import select
from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment

from core.settings import Settings
from core.signing import new_secret
from core.signing import signed_headers
from core.signing import verifies
from models.contracts.license_activation import ActivationStatus
from models.contracts.license_activation import SignInInput
from models.contracts.search_attributes import ACTIVATION_PROBLEM
from models.records.domain import ProductInstance
from tests.support.activations import ADDON
from tests.support.activations import SERVICE
from tests.support.activations import ActivationHandle
from tests.support.activations import accept_cloud
from tests.support.activations import existing_business
from tests.support.activations import finished
from tests.support.activations import lapsed_license
from tests.support.activations import place_order
from tests.support.activations import wait_for_status
from tests.support.api import AUTH
from tests.support.histories import history_text
from tests.support.histories import keep_history
from tests.support.lifecycles import Sessions
from tests.support.lifecycles import service_license
from tests.support.lifecycles import start
from tests.support.mail import MailSink
from tests.support.mail import text_of
from tests.support.product_backend import SECRET
from tests.support.product_backend import FakeBackend
from workers.worker import build_worker
from workflows.license_activation import LicenseActivationWorkflow


async def activate(
    client: Client, settings: Settings, sessions: Sessions, items: list[dict[str, object]]
) -> ActivationHandle:
    """A Business without instances orders `items`, signs in and accepts: provisioning runs."""
    _, account_id, _ = await existing_business(sessions, 0)
    _, handle = await place_order(client, settings, items, region="eu")
    await handle.execute_update(LicenseActivationWorkflow.sign_in, SignInInput(account_id))
    await handle.execute_update(LicenseActivationWorkflow.accept_agreements, accept_cloud())
    return handle


async def setting_up(handle: ActivationHandle) -> None:
    """Until the flow waits for the backend (it answered 202)."""
    for _ in range(300):
        state = await handle.query(LicenseActivationWorkflow.state)
        if state.setting_up:
            return
        await asyncio.sleep(0.05)
    raise AssertionError("the activation never waited for the backend")


async def test_a_backend_that_answers_at_once_gives_the_console_on_every_item(
    time_client: Client,
    time_env: WorkflowEnvironment,
    settings: Settings,
    smtp: MailSink,
    app_sessions: Sessions,
    backend: FakeBackend,
) -> None:
    handle = await activate(time_client, settings, app_sessions, [SERVICE, ADDON])
    state = await finished(time_env, handle)

    assert state.status == ActivationStatus.ACTIVATED
    (put,) = backend.calls("PUT")
    document = put.verified(SECRET)  # signed per Standard Webhooks with the product's secret
    instance_id = state.items[0].instance_id or ""
    assert put.path == f"/product/instances/{instance_id}"
    assert put.headers["idempotency-key"] == put.headers["webhook-id"]
    assert document["state"] == "active" and document["region"] == "eu"
    assert document["license"]["units"] == 50 and not document["license"]["trial"]
    assert [addon["product"] for addon in document["addons"]] == ["edr-addon"]
    assert document["callback_url"].endswith(f"/v1/provisioning/callbacks/{state.order_id}")
    console = f"https://console.example/{instance_id}"
    assert [item.console_url for item in state.items] == [console, console]
    async with app_sessions() as session:
        row = await session.get(ProductInstance, instance_id)
        assert row is not None
        assert (row.provisioning, row.console_url, row.external_id) == (
            "ready",
            console,
            f"ext-{instance_id[:8]}",
        )
    (confirmation,) = [m for m in smtp.messages() if "active" in m["Subject"]]
    assert console in text_of(confirmation)
    assert SECRET not in await history_text(handle)  # the activities read it from the settings


async def test_while_a_secret_is_rotated_both_sign_every_call(
    time_client: Client,
    time_env: WorkflowEnvironment,
    settings: Settings,
    app_sessions: Sessions,
    backend: FakeBackend,
) -> None:
    """The new secret first, the old one kept: a backend that still has the old one verifies,
    and so does one that has switched."""
    new = new_secret()
    settings.provisioning_secrets["endpoint-protection"] = [new, SECRET]  # the worker's too
    handle = await activate(time_client, settings, app_sessions, [SERVICE])
    # The fake backend verifies with the old secret: it answered, so the activation completes.
    assert (await finished(time_env, handle)).status == ActivationStatus.ACTIVATED
    (put,) = backend.calls("PUT")
    assert len(put.headers["webhook-signature"].split()) == 2
    assert verifies([new], put.body, put.headers) and verifies([SECRET], put.body, put.headers)


async def test_a_backend_that_calls_back_is_waited_for(
    time_client: Client,
    time_env: WorkflowEnvironment,
    settings: Settings,
    app_sessions: Sessions,
    backend: FakeBackend,
    api: httpx.AsyncClient,
) -> None:
    backend.later = True
    handle = await activate(time_client, settings, app_sessions, [SERVICE])
    await setting_up(handle)
    state = await handle.query(LicenseActivationWorkflow.state)
    assert state.status == ActivationStatus.PROVISIONING
    instance_id = state.items[0].instance_id or ""
    url = f"/v1/provisioning/callbacks/{state.order_id}"

    def signed(body: bytes, secret: str = SECRET) -> dict[str, str]:
        return signed_headers("cb_1", datetime.now(UTC), body, [secret])

    ready = json.dumps(
        {"instance_id": instance_id, "status": "ready", "console_url": "https://c.example/1"}
    ).encode()
    forged = await api.post(url, content=ready, headers=signed(ready, "whsec_" + "A" * 44))
    assert forged.status_code == 401
    assert forged.json()["code"] == "callback_signature_invalid"
    stranger = ready.replace(instance_id.encode(), b"not-an-instance")
    unknown = await api.post(url, content=stranger, headers=signed(stranger))
    assert unknown.status_code == 404
    answered = await api.post(url, content=ready, headers=signed(ready))
    assert answered.status_code == 204, answered.text

    state = await finished(time_env, handle)
    assert state.status == ActivationStatus.ACTIVATED and not state.setting_up
    assert state.items[0].console_url == "https://c.example/1"
    listing = await api.get(f"/v1/businesses/{state.business_id}/instances", headers=AUTH)
    (instance,) = listing.json()
    assert (instance["id"], instance["provisioning"], instance["console_url"]) == (
        instance_id,
        "ready",
        "https://c.example/1",
    )
    await keep_history(handle, "activation_provisioned_after_callback")


async def test_a_backend_with_a_status_url_is_asked_until_it_is_ready(
    time_client: Client,
    time_env: WorkflowEnvironment,
    settings: Settings,
    app_sessions: Sessions,
    backend: FakeBackend,
) -> None:
    backend.later = True
    handle = await activate(time_client, settings, app_sessions, [SERVICE])
    await setting_up(handle)
    await time_env.sleep(timedelta(seconds=31))  # one poll: still pending
    polls = len(backend.calls("GET"))
    assert polls >= 1
    instance_id = (await handle.query(LicenseActivationWorkflow.state)).items[0].instance_id
    backend.finished.add(instance_id or "")
    await time_env.sleep(timedelta(seconds=31))  # the next poll: ready
    state = await finished(time_env, handle)
    assert state.status == ActivationStatus.ACTIVATED
    assert len(backend.calls("GET")) > polls
    assert state.items[0].console_url == f"https://console.example/{instance_id}"


async def test_a_refusal_undoes_the_order_and_deletes_the_earlier_instances_once_each(
    time_client: Client,
    time_env: WorkflowEnvironment,
    settings: Settings,
    app_sessions: Sessions,
    backend: FakeBackend,
) -> None:
    backend.refuse_number = 3
    second_site = SERVICE | {"new_instance": True}
    handle = await activate(
        time_client, settings, app_sessions, [SERVICE, second_site, second_site]
    )
    state = await finished(time_env, handle)

    assert state.status == ActivationStatus.FAILED
    assert state.problem and "no capacity in this region" in state.problem
    found = (await handle.describe()).typed_search_attributes.get(ACTIVATION_PROBLEM)
    assert found == "provisioning_refused"  # what operators search by
    first, second, third = (item.instance_id for item in state.items)
    assert backend.created == {first: 1, second: 1}
    assert backend.deleted == {first: 1, second: 1}  # the refused one was never made
    assert third not in backend.deleted and not backend.instances
    async with app_sessions() as session:
        assert list(await session.scalars(select(ProductInstance.id))) == []
    await keep_history(handle, "activation_provisioning_refused_undone")


async def test_a_backend_down_then_up_gets_the_instance_once(
    time_client: Client,
    time_env: WorkflowEnvironment,
    settings: Settings,
    app_sessions: Sessions,
    backend: FakeBackend,
) -> None:
    await backend.receiver.stop()
    handle = await activate(time_client, settings, app_sessions, [SERVICE])
    await wait_for_status(handle, ActivationStatus.PROVISIONING)
    await asyncio.sleep(1.5)  # a call or two refused
    await backend.receiver.start()

    state = await finished(time_env, handle)
    assert state.status == ActivationStatus.ACTIVATED
    assert sum(backend.created.values()) == 1


async def test_an_answer_lost_after_the_work_is_done_makes_no_second_instance(
    time_client: Client,
    time_env: WorkflowEnvironment,
    settings: Settings,
    app_sessions: Sessions,
    backend: FakeBackend,
) -> None:
    backend.drop_first_reply = True
    state = await finished(time_env, await activate(time_client, settings, app_sessions, [SERVICE]))

    assert state.status == ActivationStatus.ACTIVATED
    first, again = backend.calls("PUT")
    assert first.headers["idempotency-key"] == again.headers["idempotency-key"]
    assert first.body == again.body and backend.created == {state.items[0].instance_id: 1}


async def test_a_renewal_tells_the_backend_the_new_term_on_the_same_instance(
    time_client: Client,
    time_env: WorkflowEnvironment,
    settings: Settings,
    app_sessions: Sessions,
    backend: FakeBackend,
) -> None:
    business_id, account_id, _ = await existing_business(app_sessions, 0)
    _, instance_id = await lapsed_license(app_sessions, business_id, datetime.now(UTC).date())
    _, handle = await place_order(time_client, settings, [SERVICE], region="us")
    await handle.execute_update(LicenseActivationWorkflow.sign_in, SignInInput(account_id))
    await handle.execute_update(LicenseActivationWorkflow.accept_agreements, accept_cloud())
    state = await finished(time_env, handle)

    assert state.status == ActivationStatus.ACTIVATED
    (put,) = backend.calls("PUT")
    document = put.verified(SECRET)
    assert document["instance_id"] == instance_id and document["state"] == "active"
    assert document["license"]["expires_on"] == SERVICE["expires_on"]
    assert backend.created == {instance_id: 1}  # the backend's first word of it: same id


async def test_an_expiry_suspends_the_instance_in_the_product(
    time_client: Client,
    time_env: WorkflowEnvironment,
    settings: Settings,
    app_sessions: Sessions,
    backend: FakeBackend,
) -> None:
    now = await time_env.get_current_time()
    license = await service_license(app_sessions, now, days=2)
    async with app_sessions.begin() as session:
        (instance,) = await session.scalars(select(ProductInstance))
        instance.license_id, instance.provisioning = license.license_id, "ready"
    handle = await start(time_client, settings, license)
    await time_env.sleep(timedelta(days=4))
    with time_env.auto_time_skipping_disabled():
        await handle.result()

    (put,) = backend.calls("PUT")
    document = put.verified(SECRET)
    assert document["state"] == "suspended" and document["instance_id"] == instance.id
    await keep_history(handle, "license_lifecycle_suspended_in_product")


async def test_outside_development_a_backend_on_a_loopback_address_is_never_called(
    time_env: WorkflowEnvironment,
    settings: Settings,
    app_sessions: Sessions,
    backend: FakeBackend,
) -> None:
    """Production's address rules (https, public addresses): the activation fails and is
    undone, and nothing reaches the backend."""
    production_like = settings.model_copy(update={"environment": "test"})
    async with build_worker(time_env.client, production_like, app_sessions):
        handle = await activate(time_env.client, production_like, app_sessions, [SERVICE])
        state = await finished(time_env, handle)

    assert state.status == ActivationStatus.FAILED
    assert state.problem and "https" in state.problem
    assert backend.receiver.requests == []
