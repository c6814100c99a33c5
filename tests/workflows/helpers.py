"""Helpers shared by the workflow tests."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from google.protobuf.json_format import MessageToDict
from google.protobuf.json_format import Parse
from temporalio.api.common.v1 import Payload
from temporalio.client import Client
from temporalio.client import WorkflowHandle

from core.payload_codec import EncryptionCodec
from core.settings import Settings
from models.contracts.email_verification import StartVerificationInput
from models.contracts.email_verification import VerificationState
from tests.conftest import STARTED_FLOWS
from tests.conftest import TEST_PAYLOAD_KEYS
from tests.conftest import stored_text
from workflows.email_verification import EmailVerificationWorkflow
from workflows.email_verification import flow_id_for
from workflows.email_verification import start

HISTORIES = Path(__file__).parent / "histories"
CODEC = EncryptionCodec(TEST_PAYLOAD_KEYS)

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
    handle: Handle = client.get_workflow_handle_for(EmailVerificationWorkflow.run, flow_id)
    STARTED_FLOWS.append(handle)
    return state, handle


async def history_json(handle: AnyHandle) -> str:
    history = await handle.fetch_history()
    return history.to_json()


async def history_text(handle: AnyHandle) -> str:
    """The history as stored and as an operator sees it through the codec (docs/security.md)."""
    stored = await history_json(handle)
    readable = json.dumps(await decrypted(json.loads(stored)))
    return "\n".join([stored_text(stored), stored_text(readable)])


async def decrypted(node: Any) -> Any:
    """Every payload in a history's JSON decrypted with the tests' keys."""
    if isinstance(node, dict):
        if "metadata" in node and "data" in node:
            payload = Parse(json.dumps(node), Payload())
            (plain,) = await CODEC.decode([payload])
            return MessageToDict(plain)
        return {key: await decrypted(value) for key, value in node.items()}
    if isinstance(node, list):
        return [await decrypted(item) for item in node]
    return node


async def keep_history(handle: AnyHandle, name: str) -> None:
    """With ACTIVATION_RECORD_HISTORIES=1, save the run's history for the replay test."""
    if os.environ.get("ACTIVATION_RECORD_HISTORIES"):
        HISTORIES.mkdir(exist_ok=True)
        text = json.dumps(json.loads(await history_json(handle)), indent=1)
        (HISTORIES / f"{name}.json").write_text(text)
