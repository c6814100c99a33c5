"""Saved histories must replay against the current workflow code: a change that would break
running flows (non-determinism) fails here. Re-record with ACTIVATION_RECORD_HISTORIES=1 only when
a change is meant to be incompatible (and patched with workflow.patched)."""

from __future__ import annotations

import pytest
from temporalio.client import WorkflowHistory
from temporalio.worker import Replayer

from tests.workflows.helpers import HISTORIES
from workers.worker import WORKFLOWS, workflow_runner

SAVED = sorted(HISTORIES.glob("*.json"))


def test_there_are_saved_histories_for_every_outcome() -> None:
    names = {path.stem for path in SAVED}
    assert {"verified", "expired", "locked", "cancelled", "address_changed"} <= names
    assert {
        "activation_new_customer",
        "activation_expired",
        "activation_instance_chosen",
        "activation_compensated",
        "activation_cancelled",
    } <= names
    assert {"registration_used", "registration_expired", "registration_revoked"} <= names
    assert {"local_account_activated", "local_account_lapsed", "local_account_cancelled"} <= names
    assert {
        "transfer_accepted",
        "transfer_declined",
        "transfer_cancelled",
        "transfer_expired",
    } <= names


@pytest.mark.parametrize("path", SAVED, ids=[path.stem for path in SAVED])
async def test_saved_history_replays(path: object) -> None:
    assert hasattr(path, "read_text")
    history = WorkflowHistory.from_json(path.stem, path.read_text())  # type: ignore[attr-defined]
    await Replayer(workflows=WORKFLOWS, workflow_runner=workflow_runner()).replay_workflow(history)
