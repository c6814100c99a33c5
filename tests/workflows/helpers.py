"""Helpers shared by the workflow tests."""

from __future__ import annotations

import base64
import json
import os
from pathlib import Path
from typing import Any

from temporalio.client import Client, WorkflowHandle

from core.settings import Settings
from models.email_verification import StartVerificationInput, VerificationState
from tests.conftest import STARTED_FLOWS
from workflows.email_verification import EmailVerificationWorkflow, flow_id_for, start

HISTORIES = Path(__file__).parent / "histories"

Handle = WorkflowHandle[EmailVerificationWorkflow, VerificationState]
AnyHandle = WorkflowHandle[Any, Any]


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
    handle = client.get_workflow_handle_for(EmailVerificationWorkflow.run, flow_id)
    STARTED_FLOWS.append(handle)
    return state, handle


async def history_json(handle: AnyHandle) -> str:
    history = await handle.fetch_history()
    return history.to_json()


def _decoded_payloads(node: Any) -> list[str]:
    """Payload data is base64 in the JSON: decode every `data` field so a search can see it."""
    found: list[str] = []
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "data" and isinstance(value, str):
                found.append(base64.b64decode(value).decode("utf-8", "replace"))
            else:
                found += _decoded_payloads(value)
    elif isinstance(node, list):
        for item in node:
            found += _decoded_payloads(item)
    return found


async def history_text(handle: AnyHandle) -> str:
    """The whole history as searchable text: the JSON plus every payload decoded."""
    raw = await history_json(handle)
    return "\n".join([raw, *_decoded_payloads(json.loads(raw))])


async def keep_history(handle: AnyHandle, name: str) -> None:
    """With ACTIVATION_RECORD_HISTORIES=1, save the run's history for the replay test."""
    if os.environ.get("ACTIVATION_RECORD_HISTORIES"):
        HISTORIES.mkdir(exist_ok=True)
        text = json.dumps(json.loads(await history_json(handle)), indent=1)
        (HISTORIES / f"{name}.json").write_text(text)
