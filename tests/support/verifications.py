"""Helpers shared by the workflow tests."""

from __future__ import annotations

from typing import Any

from temporalio.client import Client
from temporalio.client import WorkflowHandle

from core.settings import Settings
from models.contracts.email_verification import START as start
from models.contracts.email_verification import StartVerificationInput
from models.contracts.email_verification import VerificationState
from models.contracts.email_verification import flow_id_for
from tests.support.temporal import STARTED_FLOWS
from workflows.email_verification import EmailVerificationWorkflow

Handle = WorkflowHandle[EmailVerificationWorkflow, VerificationState]


def verification_input(settings: Settings, email: str, **overrides: Any) -> StartVerificationInput:
    values: dict[str, Any] = {
        "email": email,
        "purpose": "signup",
        "locale": "en",
        "expiry_seconds": settings.verification_expiry_seconds,
        "resend_cooldown_seconds": settings.verification_resend_cooldown_seconds,
        "max_resends": settings.verification_max_resends,
        "max_attempts": settings.verification_max_attempts,
    } | overrides
    return StartVerificationInput(**values)


async def begin(
    client: Client, settings: Settings, email: str = "ada@example.com", **overrides: Any
) -> tuple[VerificationState, Handle]:
    input = verification_input(settings, email, **overrides)
    flow_id = flow_id_for(settings.secret_key, input.purpose, email)
    state = await start(client, input, flow_id=flow_id, task_queue=settings.temporal_task_queue)
    handle: Handle = client.get_workflow_handle_for(EmailVerificationWorkflow.run, flow_id)
    STARTED_FLOWS.append(handle)
    return state, handle
