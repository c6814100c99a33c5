"""What one flow costs on Temporal, for a fixed scenario in which each person acts after the
flow has parked (as people do): billable Actions counted from its history (its children
included) by the mapping the bench uses (`bench/shape.py`), and its history's size. The Actions
do not depend on the machine's speed, so they are pinned here: a change that adds one fails this
test and is seen in review (raise the number on purpose, and say why in the commit)."""

from __future__ import annotations

import httpx
import pytest
from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment

from bench.shape import shape_of
from core.settings import Settings
from core.tokens import hash_token
from models.contracts import email_verification as verification
from models.contracts.license_activation import ActivationStatus
from models.contracts.on_premises import certificate_flow_id
from tests.support.activations import SERVICE
from tests.support.activations import accept_cloud
from tests.support.activations import finished
from tests.support.activations import place_order
from tests.support.activations import signup
from tests.support.activations import wait_for_status
from tests.support.histories import keep_history
from tests.support.mail import MailSink
from tests.support.mail import token_in
from tests.support.on_premises import BSA
from tests.support.on_premises import SENSOR
from tests.support.on_premises import certificate
from tests.support.verifications import Handle as VerificationHandle
from tests.support.verifications import begin
from workflows.changes import RELEASE
from workflows.email_verification import EmailVerificationWorkflow
from workflows.license_activation import LicenseActivationWorkflow

pytestmark = pytest.mark.asyncio

# Measured 2026-12-06. The kB move a little with the number of workflow tasks (a step that
# lands while a task runs shares it): a ceiling, not a figure. Each activity of a flow with a
# Business carries its id in a header (workers/business_context.py): about 70 bytes.
# A new customer's activation of one service license, with its sign-up verification and the
# license's lifecycle as children. 38 Actions before its changes were asked as one release
# (workflows/changes.py) and its Business went with its status.
ACTIVATION_ACTIONS, ACTIVATION_KB_AT_MOST = 33, 42.5
# An email verification: started, its mail sent, confirmed after it parked.
VERIFICATION_ACTIONS, VERIFICATION_KB_AT_MOST = 7, 6.0
# A license certificate of one on-premises product, its code's flow, one installation activated.
CERTIFICATE_ACTIONS, CERTIFICATE_KB_AT_MOST = 10, 13.8


async def test_a_new_customers_activation_costs_what_it_did(
    time_client: Client, time_env: WorkflowEnvironment, settings: Settings, smtp: MailSink
) -> None:
    state, handle = await place_order(time_client, settings, [SERVICE])
    await smtp.wait_for(1, to="buyer@acme.example")  # parked: the link is out
    state = await handle.execute_update(
        LicenseActivationWorkflow.create_account, signup(settings, state, "it@acme.example")
    )
    (verify_mail,) = await smtp.wait_for(1, to="it@acme.example")  # parked again
    child: VerificationHandle = time_client.get_workflow_handle_for(
        EmailVerificationWorkflow.run, state.verification_id or ""
    )
    await child.execute_update(
        EmailVerificationWorkflow.confirm,
        verification.ConfirmInput(hash_token(token_in(verify_mail))),
    )
    await wait_for_status(handle, ActivationStatus.AWAITING_AGREEMENTS)
    await handle.execute_update(LicenseActivationWorkflow.accept_agreements, accept_cloud())
    await finished(time_env, handle)
    await smtp.wait_for(2, to="it@acme.example")  # the confirmation: the flow is done
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
    _, handle = await begin(time_client, settings)
    (mail,) = await smtp.wait_for(1, to="ada@example.com")  # parked: the mail is out
    await handle.execute_update(
        EmailVerificationWorkflow.confirm, verification.ConfirmInput(hash_token(token_in(mail)))
    )
    await handle.result()
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
