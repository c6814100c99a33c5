"""Provisioning with the worker as a real process, killed (-9) while the product backend holds
its call: the call is made again by the next worker, with the same idempotency key, and the
product makes one instance."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from temporalio.client import Client

from core.payload_codec import data_converter
from core.settings import Settings
from models.contracts.license_activation import ActivationStatus
from tests.provisioning.test_provisioning import activate
from tests.support.activations import SERVICE
from tests.support.lifecycles import Sessions
from tests.support.process_stack import Stack
from tests.support.process_stack import running_stack
from tests.support.product_backend import FakeBackend
from tests.support.temporal import STARTED_FLOWS
from tests.support.temporal import assert_no_personal_data

pytestmark = [pytest.mark.asyncio, pytest.mark.slow]


@pytest.fixture
async def stack(tmp_path: Path, settings: Settings) -> AsyncIterator[Stack]:
    async with running_stack(tmp_path, settings) as running:
        yield running


async def test_a_worker_killed_mid_call_makes_no_second_instance(
    stack: Stack, settings: Settings, app_sessions: Sessions, backend: FakeBackend
) -> None:
    backend.hang_first_reply = True
    client = await Client.connect(
        settings.temporal_address, data_converter=data_converter(settings.payload_keys)
    )
    handle = await activate(client, settings, app_sessions, [SERVICE])
    (held,) = await backend.receiver.wait_for(1, timeout=30)  # the backend holds the call
    stack.kill_worker()
    await stack.start_worker()

    # The call the kill cut off is made again once its heartbeat is missed (30 s).
    state = await asyncio.wait_for(handle.result(), timeout=120)
    assert state.status == ActivationStatus.ACTIVATED
    puts = backend.calls("PUT")
    assert len(puts) == 2 and {p.headers["idempotency-key"] for p in puts} == {
        held.headers["idempotency-key"]
    }
    assert backend.created == {state.items[0].instance_id: 1}
    # Checked here, while this test's server runs (the shared teardown knows only its own).
    STARTED_FLOWS.remove(handle)
    await assert_no_personal_data(handle)
