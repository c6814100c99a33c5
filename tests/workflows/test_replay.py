"""Saved histories must replay against the current workflow code: a change that would break
running flows (non-determinism) fails here. Re-record with ACTIVATION_RECORD_HISTORIES=1 only when
a change is meant to be incompatible (and patched with workflow.patched)."""

from __future__ import annotations

import hashlib
import subprocess

import pytest
from temporalio.client import WorkflowHistory
from temporalio.worker import Replayer

from core.payload_codec import data_converter
from tests.support.histories import HISTORIES
from tests.support.temporal import TEST_PAYLOAD_KEYS
from workers.worker import WORKFLOWS
from workers.worker import workflow_runner

SAVED = sorted(HISTORIES.glob("*.json"))
MANIFEST = HISTORIES / "MANIFEST"


def manifest() -> dict[str, tuple[str, str]]:
    """file name -> (sha256, note), from MANIFEST."""
    entries = {}
    for line in MANIFEST.read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            sha, name, note = line.split("  ", 2)
            entries[name] = (sha, note)
    return entries


def test_no_saved_history_is_added_removed_or_re_recorded_silently() -> None:
    listed = manifest()
    assert {path.name for path in SAVED} == set(listed), "list each history in MANIFEST"
    changed = [
        path.name
        for path in SAVED
        if hashlib.sha256(path.read_bytes()).hexdigest() != listed[path.name][0]
    ]
    assert not changed, (
        f"{changed} changed: a re-recorded history hides a change that breaks flows in flight. "
        "Put the change behind workflow.patched (or say why it may break them) and update "
        "MANIFEST by hand with `patched:<id>` or `deliberate:<why>`."
    )


def test_a_history_recorded_again_says_why() -> None:
    """A history file with more than one version in git must name its patch or reason."""
    for name, (_, note) in manifest().items():
        log = subprocess.run(
            ["git", "log", "--format=%H", "--", str(HISTORIES / name)],
            capture_output=True,
            text=True,
            check=False,
        )
        if log.returncode != 0:
            pytest.skip("not a git checkout")
        if len(log.stdout.split()) > 1:
            assert note.startswith(("patched:", "deliberate:")), f"{name}: {note}"


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
    assert {"primary_change_completed", "primary_change_objected", "account_lookup_sent"} <= names
    assert {
        "activation_renewal",
        "activation_renewal_undone",
        "activation_trial_converted",
        "license_lifecycle_renewed",
        "license_lifecycle_trial_converted",
        "license_lifecycle_trial_expired",
    } <= names
    assert {"local_account_activated", "local_account_lapsed", "local_account_cancelled"} <= names
    assert {
        "transfer_accepted",
        "transfer_declined",
        "transfer_cancelled",
        "transfer_expired",
        "transfer_failed",
    } <= names
    assert {
        "verification_cancelled_by_parent",
        "local_account_refused",
        "registration_multi_use",
        "activation_mail_unbuildable",
        "activation_signed_in_during_signup",
    } <= names
    assert {"direct_change_done", "direct_change_refused"} <= names


@pytest.mark.parametrize("path", SAVED, ids=[path.stem for path in SAVED])
async def test_saved_history_replays(path: object) -> None:
    assert hasattr(path, "read_text")
    history = WorkflowHistory.from_json(path.stem, path.read_text())  # type: ignore[attr-defined]
    # With the codec: histories from before encryption decode unchanged (docs/security.md).
    replayer = Replayer(
        workflows=WORKFLOWS,
        workflow_runner=workflow_runner(),
        data_converter=data_converter(TEST_PAYLOAD_KEYS),
    )
    await replayer.replay_workflow(history)
