"""Workflow histories as the tests read them: as stored, decrypted as an operator sees them, and
kept for the replay test (tests/workflows/histories/)."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from google.protobuf.json_format import MessageToDict
from google.protobuf.json_format import Parse
from temporalio.api.common.v1 import Payload
from temporalio.client import WorkflowHandle

from core.payload_codec import EncryptionCodec
from tests.support.temporal import TEST_PAYLOAD_KEYS
from tests.support.temporal import stored_text

HISTORIES = Path(__file__).parent.parent / "workflows" / "histories"


CODEC = EncryptionCodec(TEST_PAYLOAD_KEYS)


AnyHandle = WorkflowHandle[Any, Any]


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
