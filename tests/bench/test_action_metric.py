"""The Actions the bench counts from a history (bench/shape.py), cross-checked with the Temporal
server's own `action` counter (the dev server exposes it with `--metrics-port`), for an email
verification and a new customer's activation in the parked scenario of test_flow_costs.py: the
server counts what the history shows, and would count the activities' heartbeats, which leave
no event (a call shorter than 10 s records none)."""

from __future__ import annotations

import asyncio
import contextlib
import re
import urllib.request
from collections import Counter
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.ext.asyncio import async_sessionmaker
from temporalio.client import Client

from bench.shape import shape_of
from core.payload_codec import data_converter
from core.settings import Settings
from models.contracts.search_attributes import ALL as SEARCH_ATTRIBUTES
from tests.support.journeys import new_customer_activated
from tests.support.journeys import verification_confirmed
from tests.support.mail import MailSink
from tests.support.net import free_port
from tests.support.temporal import STARTED_FLOWS
from workers.dev_temporal import DevTemporalServer
from workers.worker import build_worker

pytestmark = pytest.mark.asyncio
HEARTBEAT = "grpc_RecordActivityTaskHeartbeat"
ACTION = re.compile(r'^action\{action_type="([^"]+)",namespace="default",[^}]*\} (\d+)', re.M)


def actions(metrics_port: int) -> Counter[str]:
    with urllib.request.urlopen(f"http://127.0.0.1:{metrics_port}/metrics") as answer:
        text = answer.read().decode()
    return Counter({kind: int(count) for kind, count in ACTION.findall(text)})


@contextlib.asynccontextmanager
async def server_with_metrics(
    tmp_path: Path, settings: Settings, app_sessions: async_sessionmaker[AsyncSession]
) -> AsyncIterator[tuple[Client, int]]:
    """The dev server with its metrics (the worker of the service on it); its client and port."""
    metrics_port = free_port()
    settings.temporal_address = f"127.0.0.1:{free_port()}"
    server = await DevTemporalServer.start(
        address=settings.temporal_address,
        namespace="default",
        ui_port=None,
        database_file=None,
        search_attributes=SEARCH_ATTRIBUTES,
        log_file=tmp_path / "temporal.log",
        data_converter=data_converter(settings.payload_keys),
        metrics_port=metrics_port,
    )
    ours = len(STARTED_FLOWS)
    try:
        async with build_worker(server.client, settings, app_sessions):
            yield server.client, metrics_port
    finally:
        del STARTED_FLOWS[ours:]  # they ended here, on a server that is gone after this
        await server.stop()


def agree(counted: Counter[str], from_history: float) -> None:
    """The server counts what the history shows, and the heartbeats it does not (and this
    test's own queries, which follow the flow)."""
    counted.pop("grpc_QueryWorkflow", None)
    heartbeats = counted.pop(HEARTBEAT, 0)
    assert sum(counted.values()) == from_history, (counted, from_history)
    assert heartbeats == 0  # every call was over before its first heartbeat was due (10 s)


async def test_an_email_verifications_actions_agree_with_the_servers_counter(
    tmp_path: Path,
    settings: Settings,
    app_sessions: async_sessionmaker[AsyncSession],
    smtp: MailSink,
) -> None:
    async with server_with_metrics(tmp_path, settings, app_sessions) as (client, metrics_port):
        before = actions(metrics_port)
        handle = await verification_confirmed(client, settings, smtp)
        counted = await settled(metrics_port, before)
        agree(counted, (await shape_of(client, [handle.id])).per_flow["actions"])


async def test_an_activations_actions_agree_with_the_servers_counter(
    tmp_path: Path,
    settings: Settings,
    app_sessions: async_sessionmaker[AsyncSession],
    smtp: MailSink,
) -> None:
    async with server_with_metrics(tmp_path, settings, app_sessions) as (client, metrics_port):
        before = actions(metrics_port)
        handle = await new_customer_activated(client, settings, smtp, lambda flow: flow.result())
        counted = await settled(metrics_port, before)
        agree(counted, (await shape_of(client, [handle.id])).per_flow["actions"])


async def settled(metrics_port: int, before: Counter[str]) -> Counter[str]:
    """The Actions counted since `before`, once the counter has stopped moving for a second
    (the server's reporter lags, and a flow's last steps land after its result)."""
    counted: Counter[str] = Counter()
    for _ in range(30):
        await asyncio.sleep(1)
        again = actions(metrics_port) - before
        if again and again == counted:
            return counted
        counted = again
    return counted
