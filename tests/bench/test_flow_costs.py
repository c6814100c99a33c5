"""What one flow costs on Temporal, for a fixed scenario in which each person acts after the
flow has parked (as people do): billable Actions counted from its history (its children
included) by the mapping the bench uses (`bench/shape.py`), and its history's size. The Actions
do not depend on the machine's speed, so they are pinned here: a change that adds one fails this
test and is seen in review (raise the number on purpose, and say why in the commit)."""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import AsyncIterator

import httpx
import pytest
from temporalio.client import Client
from temporalio.client import WorkflowHandle
from temporalio.converter import DataConverter
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import UnsandboxedWorkflowRunner
from temporalio.worker import Worker

from bench.baseline import Bare
from bench.baseline import BaselineActivationWorkflow
from bench.baseline import BaselineLifecycleWorkflow
from bench.baseline import BaselineWorkflow
from bench.baseline import step
from bench.doorbell import Bell
from bench.doorbell import Doorbell
from bench.scenarios import start_baseline
from bench.shape import shape_of
from core.settings import Settings
from models.contracts.on_premises import certificate_flow_id
from tests.support.activations import finished
from tests.support.histories import keep_history
from tests.support.journeys import new_customer_activated
from tests.support.journeys import parked
from tests.support.journeys import verification_confirmed
from tests.support.mail import MailSink
from tests.support.on_premises import BSA
from tests.support.on_premises import SENSOR
from tests.support.on_premises import certificate
from workflows.changes import RELEASE

pytestmark = pytest.mark.asyncio

# Measured 2026-12-06. The kB move a little with the number of workflow tasks (a step that
# lands while a task runs shares it): a ceiling, not a figure. Each activity of a flow with a
# Business carries its id in a header (workers/business_context.py): about 70 bytes.
# A new customer's activation of one service license, with its sign-up verification and the
# license's lifecycle as children. Counted as the server counts them (test_action_metric.py):
# asking its changes as one release (workflows/changes.py) took four upserts and up to four
# patch markers off it, and sending its Business with its status one upsert.
ACTIVATION_ACTIONS, ACTIVATION_KB_AT_MOST = 44, 42.5
# An email verification: started, its mail sent, confirmed after it parked.
VERIFICATION_ACTIONS, VERIFICATION_KB_AT_MOST = 9, 6.0
# A license certificate of one on-premises product, its code's flow, one installation activated.
CERTIFICATE_ACTIONS, CERTIFICATE_KB_AT_MOST = 16, 13.8


async def test_a_new_customers_activation_costs_what_it_did(
    time_client: Client, time_env: WorkflowEnvironment, settings: Settings, smtp: MailSink
) -> None:
    handle = await new_customer_activated(
        time_client, settings, smtp, lambda flow: finished(time_env, flow)
    )
    cost = (await shape_of(time_client, [handle.id])).per_flow
    assert cost["actions"] == ACTIVATION_ACTIONS, cost
    assert cost["kB"] <= ACTIVATION_KB_AT_MOST, cost
    # Its changes were asked as one release: one marker (and one upsert) in the parent.
    history = await handle.fetch_history()
    markers = [
        event.marker_recorded_event_attributes
        for event in history.events
        if event.marker_recorded_event_attributes.marker_name == "core_patch"
    ]
    assert len(markers) == 1 and RELEASE.encode() in markers[0].SerializeToString()
    await keep_history(handle, "activation_new_customer_release")


async def test_an_email_verification_costs_what_it_did(
    time_client: Client, settings: Settings, smtp: MailSink
) -> None:
    handle = await verification_confirmed(time_client, settings, smtp)
    cost = (await shape_of(time_client, [handle.id])).per_flow
    assert cost["actions"] == VERIFICATION_ACTIONS, cost
    assert cost["kB"] <= VERIFICATION_KB_AT_MOST, cost


async def test_an_on_premises_certificate_and_one_activation_cost_what_they_did(
    api: httpx.AsyncClient, time_env: WorkflowEnvironment, smtp: MailSink
) -> None:
    """The certificate with its code's flow (a child), after one installation activated."""
    answer, code = await certificate(api, time_env, smtp, SENSOR)
    seat = {"activation_code": code, "fingerprint": "HOST-A-0001", "agreement": BSA}
    assert (await api.post("/v1/installations", json=seat)).status_code == 201
    cost = (await shape_of(time_env.client, [certificate_flow_id(answer["id"])])).per_flow
    assert cost["actions"] == CERTIFICATE_ACTIONS, cost
    assert cost["kB"] <= CERTIFICATE_KB_AT_MOST, cost


# The same-shape bare program (bench/baseline.py), in the same scenario: each person acts once
# the flow has parked. Its payloads are plain, as in the bench.
BARE_ACTIVATION_ACTIONS, BARE_ACTIVATION_KB_AT_MOST = 29, 11.5
BARE_VERIFICATION_ACTIONS, BARE_VERIFICATION_KB_AT_MOST = 6, 2.3


@contextlib.asynccontextmanager
async def bare_program(env: WorkflowEnvironment) -> AsyncIterator[tuple[Client, str]]:
    """A worker of the bare program on a queue of its own; a client without the codec."""
    client = Client(**env.client.config() | {"data_converter": DataConverter.default})
    queue = f"bare-{uuid.uuid4().hex[:8]}"
    doorbell = await Doorbell.open()  # the bare link activity rings it; nobody listens here
    bare = Bare(Bell(doorbell.port))
    try:
        async with Worker(
            client,
            task_queue=queue,
            workflows=[BaselineWorkflow, BaselineActivationWorkflow, BaselineLifecycleWorkflow],
            activities=[bare.send, bare.record, step],
            workflow_runner=UnsandboxedWorkflowRunner(),
        ):
            yield client, queue
    finally:
        doorbell.close()


async def test_the_bare_programs_cost_what_they_did(time_env: WorkflowEnvironment) -> None:
    """So that the product's ratios are known without a bench. On 2026-12-06: an activation
    44 / 29 Actions (1.52) and 42.3 / 11.1 kB (3.8); an email verification 9 / 6 (1.5) and
    5.7 / 2.2 kB (2.6)."""
    async with bare_program(time_env) as (client, queue):
        verification = await start_baseline(
            client, BaselineWorkflow.run, BaselineWorkflow.describe, "bare-verification", queue
        )
        await parked(client, verification.id, 1)
        await verification.execute_update(BaselineWorkflow.confirm, "0" * 64)
        await verification.result()
        cost = (await shape_of(client, [verification.id])).per_flow
        assert cost["actions"] == BARE_VERIFICATION_ACTIONS, cost
        assert cost["kB"] <= BARE_VERIFICATION_KB_AT_MOST, cost

        activation = await start_baseline(
            client,
            BaselineActivationWorkflow.run,
            BaselineActivationWorkflow.describe,
            "bare-activation",
            queue,
        )
        await parked(client, activation.id, 1)
        await activation.execute_update(BaselineActivationWorkflow.create_account, "bare-signup")
        await parked(client, "bare-signup", 1)
        signup: WorkflowHandle[BaselineWorkflow, str] = client.get_workflow_handle_for(
            BaselineWorkflow.run, "bare-signup"
        )
        await signup.execute_update(BaselineWorkflow.confirm, "0" * 64)
        await parked(client, activation.id, 2)
        await activation.execute_update(BaselineActivationWorkflow.accept_agreements)
        with time_env.auto_time_skipping_disabled():
            await activation.result()
        cost = (await shape_of(client, [activation.id])).per_flow
        assert cost["actions"] == BARE_ACTIVATION_ACTIONS, cost
        assert cost["kB"] <= BARE_ACTIVATION_KB_AT_MOST, cost
