"""The fixed scenarios whose cost on Temporal the bench's tests pin (tests/bench): each person
acts once the flow waiting for them has parked, as people do."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from collections.abc import Callable
from typing import Any

from temporalio.client import Client
from temporalio.client import WorkflowHandle

from core.settings import Settings
from core.tokens import hash_token
from models.contracts import email_verification as verification
from models.contracts.license_activation import ActivationStatus
from tests.support.activations import SERVICE
from tests.support.activations import ActivationHandle
from tests.support.activations import accept_cloud
from tests.support.activations import place_order
from tests.support.activations import signup
from tests.support.activations import wait_for_status
from tests.support.mail import MailSink
from tests.support.mail import token_in
from tests.support.verifications import Handle as VerificationHandle
from tests.support.verifications import begin
from workflows.email_verification import EmailVerificationWorkflow
from workflows.license_activation import LicenseActivationWorkflow


async def parked(client: Client, workflow_id: str, timers: int = 1) -> None:
    """Until the flow has started `timers` timers: it waits for a person."""
    for _ in range(500):
        history = await client.get_workflow_handle(workflow_id).fetch_history()
        kinds = [event.WhichOneof("attributes") for event in history.events]
        if kinds.count("timer_started_event_attributes") >= timers:
            return
        await asyncio.sleep(0.01)
    raise AssertionError(f"{workflow_id} never parked")


async def verification_confirmed(
    client: Client, settings: Settings, smtp: MailSink
) -> VerificationHandle:
    """An email verification started, its mail sent, confirmed; ended."""
    _, handle = await begin(client, settings)
    (mail,) = await smtp.wait_for(1, to="ada@example.com")
    await parked(client, handle.id)
    await handle.execute_update(
        EmailVerificationWorkflow.confirm, verification.ConfirmInput(hash_token(token_in(mail)))
    )
    await handle.result()
    return handle


async def new_customer_activated(
    client: Client,
    settings: Settings,
    smtp: MailSink,
    finish: Callable[[WorkflowHandle[Any, Any]], Awaitable[object]],
) -> ActivationHandle:
    """A new customer's activation of one service license: the link, a sign-up and its
    verification (a child), the agreements, provisioning, the lifecycle (a child) and the
    confirmation mail. `finish` awaits the flow's result (the time-skipping server holds its
    clock for it)."""
    state, handle = await place_order(client, settings, [SERVICE])
    await smtp.wait_for(1, to="buyer@acme.example")
    await parked(client, handle.id)
    state = await handle.execute_update(
        LicenseActivationWorkflow.create_account, signup(settings, state, "it@acme.example")
    )
    (verify_mail,) = await smtp.wait_for(1, to="it@acme.example")
    await parked(client, state.verification_id or "")
    child: VerificationHandle = client.get_workflow_handle_for(
        EmailVerificationWorkflow.run, state.verification_id or ""
    )
    await child.execute_update(
        EmailVerificationWorkflow.confirm,
        verification.ConfirmInput(hash_token(token_in(verify_mail))),
    )
    await wait_for_status(handle, ActivationStatus.AWAITING_AGREEMENTS)
    await handle.execute_update(LicenseActivationWorkflow.accept_agreements, accept_cloud())
    await finish(handle)
    await smtp.wait_for(2, to="it@acme.example")  # the confirmation: the flow is done
    return handle
