"""Several processes at once, as a deployment runs them: two workers and two API processes on
one Temporal server and PostgreSQL, load through both APIs, one worker killed (-9) in the middle
of it and a new one started. Afterwards no flow is lost or stuck, no address got two different
mails (a send cut off by the kill is delivered again, identical), every first link works through
either API, and nothing answered 5xx. And upgrades: workers replaced one by one by a newer build
whose change to a flow is guarded by `workflow.patched`, and a build whose change is not."""

from __future__ import annotations

import asyncio
import shutil
import signal
import time
from collections import defaultdict
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from temporalio.client import Client

from core.payload_codec import data_converter
from core.settings import Settings
from tests.support.activations import SERVICE
from tests.support.activations import order_body
from tests.support.mail import MailSink
from tests.support.mail import token_in
from tests.support.mail import without_trace_headers
from tests.support.net import free_port
from tests.support.process_stack import running_stack
from tests.support.receiver import Receiver

pytestmark = pytest.mark.asyncio
AUTH = {"Authorization": "Bearer test-api-key-of-16-chars"}
MAIL_WAIT = 90.0  # a send cut off by the kill is retried after its 30 s heartbeat timeout


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    """The vendor's webhook receiver, on loopback."""
    running = await Receiver().start()
    yield running
    await running.stop()


async def test_two_workers_and_two_apis_lose_nothing_when_a_worker_dies(
    tmp_path: Path, settings: Settings, pg_url: str, smtp: MailSink
) -> None:
    settings.database_url = pg_url
    settings.smtp_timeout_seconds = 3.0
    answers: list[httpx.Response] = []
    flows: dict[str, str] = {}  # address -> flow id
    async with running_stack(tmp_path, settings) as stack:
        await stack.start_worker()  # the second worker
        apis = [httpx.AsyncClient(base_url=await stack.start_api(), timeout=60) for _ in range(2)]
        try:

            async def start(n: int) -> None:
                address = f"load{n}@example.com"
                answer = await apis[n % 2].post(
                    "/v1/email-verifications", json={"email": address}, headers=AUTH
                )
                answers.append(answer)
                assert answer.status_code == 202, answer.text
                flows[address] = answer.json()["id"]

            await asyncio.gather(*(start(n) for n in range(12)))
            stack.kill_worker(stack.workers[0])  # while the first mails go out
            await asyncio.gather(*(start(n) for n in range(12, 24)))
            await stack.start_worker()  # its replacement

            deadline = time.monotonic() + MAIL_WAIT
            while {str(m["To"]) for m in smtp.messages()} < set(flows):
                assert time.monotonic() < deadline, "some flow's mail never arrived"
                await asyncio.sleep(0.2)
            versions: dict[str, set[bytes]] = defaultdict(set)
            for message in smtp.messages():
                versions[str(message["To"])].add(without_trace_headers(message))
            assert all(len(mails) == 1 for mails in versions.values())  # never two different

            # Each first link works, confirmed through the other API than the one that started it.
            for n, (address, flow_id) in enumerate(flows.items()):
                token = token_in(smtp.messages(to=address)[0])
                confirmed = await apis[(n + 1) % 2].post(
                    "/v1/email-verifications/confirm", json={"token": token}
                )
                answers.append(confirmed)
                assert confirmed.json() == {"id": flow_id, "status": "verified"}, confirmed.text
                read = await apis[n % 2].get(f"/v1/email-verifications/{flow_id}", headers=AUTH)
                answers.append(read)
                assert read.json()["status"] == "verified"
        finally:
            for api in apis:
                await api.aclose()
    assert all(answer.status_code < 500 for answer in answers), [
        answer.text for answer in answers if answer.status_code >= 500
    ]


async def test_orders_through_two_apis_are_recorded_and_delivered_once_when_a_worker_dies(
    tmp_path: Path, settings: Settings, pg_url: str, smtp: MailSink, receiver: Receiver
) -> None:
    """Orders through both APIs, a worker killed among them: each order's `order.created` is
    recorded once and reaches a webhook endpoint under one webhook-id, though each worker runs
    its own event relay, and each buyer gets one Activation Link."""
    settings.database_url = pg_url
    settings.environment = "development"  # the one that may call a receiver on loopback
    settings.event_relay_poll_seconds = 0.2
    async with running_stack(tmp_path, settings) as stack:
        await stack.start_worker()
        apis = [httpx.AsyncClient(base_url=await stack.start_api(), timeout=60) for _ in range(2)]
        try:
            subscribed = await apis[0].post(
                "/v1/webhook-endpoints",
                json={"url": receiver.url, "event_types": ["order.created"]},
                headers=AUTH,
            )
            assert subscribed.status_code == 201, subscribed.text

            async def order(n: int) -> None:
                body = order_body([SERVICE], contact_email=f"buyer{n}@acme.example")
                answer = await apis[n % 2].post("/v1/orders", json=body, headers=AUTH)
                assert answer.status_code == 201, answer.text

            await asyncio.gather(*(order(n) for n in range(4)))
            stack.kill_worker(stack.workers[0])
            await asyncio.gather(*(order(n) for n in range(4, 8)))
            await stack.start_worker()

            for n in range(8):
                await smtp.wait_for(1, to=f"buyer{n}@acme.example", timeout=MAIL_WAIT)
            delivered = await receiver.wait_for(8, timeout=MAIL_WAIT)
            await asyncio.sleep(2 * settings.event_relay_poll_seconds)  # a second copy, if any
        finally:
            for api in apis:
                await api.aclose()
    # At least once: an attempt cut off by the kill is made again, with the same webhook-id
    # (receivers deduplicate on it, docs/webhooks.md); never a second event.
    ids = {request.headers["webhook-id"] for request in receiver.requests}
    assert len(ids) == 8
    orders = {request.json()["data"]["order_id"] for request in receiver.requests}
    assert len(orders) == 8 and len(delivered) == 8
    for n in range(8):
        assert (
            len({without_trace_headers(m) for m in smtp.messages(to=f"buyer{n}@acme.example")}) == 1
        )


async def test_a_stopping_api_finishes_the_requests_it_has(
    tmp_path: Path, settings: Settings, smtp: MailSink
) -> None:
    """SIGTERM (a rollout) while a start waits for its flow's first step: the API stops taking
    connections but answers the request it has, then exits cleanly."""
    async with running_stack(tmp_path, settings) as stack:
        url = await stack.start_api()
        api = stack.apis[-1]
        stack.kill_worker()  # the start now waits for a worker to run the flow's first task
        async with httpx.AsyncClient(base_url=url, timeout=60) as http:
            start = asyncio.create_task(
                http.post(
                    "/v1/email-verifications", json={"email": "drain@example.com"}, headers=AUTH
                )  # fmt: skip
            )
            await asyncio.sleep(1.0)  # in flight
            api.send_signal(signal.SIGTERM)
            await asyncio.sleep(0.5)
            assert api.poll() is None, "the API quit with a request in flight"
            await stack.start_worker()
            answer = await start
        assert answer.status_code == 202, answer.text
        # Done: uvicorn shut down, then ends by the signal it was sent (it raises it again).
        assert await asyncio.to_thread(api.wait, 30) in (0, -signal.SIGTERM)
        await smtp.wait_for(1, to="drain@example.com", timeout=60)  # the flow went on


ROOT = Path(__file__).resolve().parents[1]
PATCH = "a-newer-build"
# The change a newer build makes to the email verification flow: a new step before the flow
# waits, guarded as docs/operations.md asks. Flows already waiting replay without it.
NEWER_STEP = f"""\
        if workflow.patched({PATCH!r}):
            await workflow.sleep(timedelta(milliseconds=10))
"""
UNGUARDED_STEP = NEWER_STEP.replace(f"workflow.patched({PATCH!r})", "True")
MARKER = "marker_recorded_event_attributes"
WAITING = "        try:\n            await self._wait_for_outcome()\n"


def newer_build(tmp: Path, step: str = NEWER_STEP) -> Path:
    """This checkout's code with `step` written into the email verification flow."""
    build = tmp / ("newer-build" if step == NEWER_STEP else "unguarded-build")
    for package in ("activities", "api", "core", "models", "workers", "workflows"):
        shutil.copytree(ROOT / package, build / package, ignore=shutil.ignore_patterns("*.pyc"))
    flow = build / "workflows" / "email_verification.py"
    source = flow.read_text()
    assert source.count(WAITING) == 1, "the flow changed: move NEWER_STEP"
    flow.write_text(source.replace(WAITING, step + WAITING))
    return build


async def test_flows_in_flight_go_on_when_the_workers_are_replaced_by_a_newer_build(
    tmp_path: Path, settings: Settings, pg_url: str, smtp: MailSink
) -> None:
    """A rolling upgrade: of two workers one is killed and started again from a newer build,
    then the other is stopped and replaced the same way. Flows that were waiting replay on the
    new code without its new step; flows started afterwards take it; every flow finishes, with
    one mail each and no failed workflow task."""
    settings.database_url = pg_url
    build = newer_build(tmp_path)
    async with running_stack(tmp_path, settings) as stack:
        await stack.start_worker()
        old_workers = list(stack.workers)
        api = httpx.AsyncClient(base_url=await stack.start_api(), timeout=60)
        try:

            async def start(address: str) -> str:
                answer = await api.post(
                    "/v1/email-verifications", json={"email": address}, headers=AUTH
                )
                assert answer.status_code == 202, answer.text
                return str(answer.json()["id"])

            before = {f"old{n}@example.com": await start(f"old{n}@example.com") for n in range(6)}
            for address in before:
                await smtp.wait_for(1, to=address, timeout=30)  # waiting for the person

            stack.kill_worker(old_workers[0])
            await stack.start_worker(build)
            old_workers[1].send_signal(signal.SIGTERM)
            assert await asyncio.to_thread(old_workers[1].wait, 30) == 0
            await stack.start_worker(build)

            after = {f"new{n}@example.com": await start(f"new{n}@example.com") for n in range(6)}
            for address, flow_id in (before | after).items():
                mail = await smtp.wait_for(1, to=address, timeout=30)
                confirmed = await api.post(
                    "/v1/email-verifications/confirm", json={"token": token_in(mail[0])}
                )
                assert confirmed.json() == {"id": flow_id, "status": "verified"}, confirmed.text
                assert len(smtp.messages(to=address)) == 1
        finally:
            await api.aclose()

        temporal = await Client.connect(
            settings.temporal_address, data_converter=data_converter(settings.payload_keys)
        )
        for flow_ids, patched in ((before.values(), False), (after.values(), True)):
            for flow_id in flow_ids:
                flow = temporal.get_workflow_handle(flow_id)
                assert (await flow.result())["status"] == "verified"
                history = await flow.fetch_history()
                events = [event.WhichOneof("attributes") for event in history.events]
                assert "workflow_task_failed_event_attributes" not in events, flow_id
                assert events[-1] == "workflow_execution_completed_event_attributes", flow_id
                markers = [
                    e for e in history.events if e.HasField("marker_recorded_event_attributes")
                ]
                assert any(PATCH.encode() in m.SerializeToString() for m in markers) is patched


async def test_a_build_that_cannot_replay_a_flow_stops_it_until_a_fixed_build_runs_it(
    tmp_path: Path, settings: Settings, smtp: MailSink
) -> None:
    """The same change without its guard: a waiting flow cannot be replayed, so its answers are
    refused (503 `flow_stuck`, not a 500) and nothing is lost; once a fixed build replaces the
    broken one, the flow takes the answer. The worker's metrics show the failing task (the
    ActivationWorkflowTasksFailing alert)."""
    settings.worker_metrics_address = f"127.0.0.1:{free_port()}"
    async with running_stack(tmp_path, settings) as stack:
        async with httpx.AsyncClient(base_url=await stack.start_api(), timeout=60) as api:
            started = await api.post(
                "/v1/email-verifications", json={"email": "stuck@example.com"}, headers=AUTH
            )
            flow_id = started.json()["id"]
            token = token_in((await smtp.wait_for(1, to="stuck@example.com", timeout=30))[0])

            stack.kill_worker()
            await stack.start_worker(newer_build(tmp_path, UNGUARDED_STEP))
            confirm = {"token": token}
            refused = await api.post("/v1/email-verifications/confirm", json=confirm)
            assert refused.status_code == 503, refused.text
            assert refused.json()["code"] == "flow_stuck"
            assert refused.headers["Retry-After"] == "60"
            metrics = (await api.get(f"http://{settings.worker_metrics_address}/metrics")).text
            failed = [
                line
                for line in metrics.splitlines()
                if line.startswith("temporal_workflow_task_execution_failed_total{")
                and 'failure_reason="NonDeterminismError"' in line
                and 'workflow_type="EmailVerificationWorkflow"' in line
            ]
            assert failed, metrics

            stack.kill_worker()
            await stack.start_worker(newer_build(tmp_path))
            deadline = time.monotonic() + 120
            confirmed = refused
            while confirmed.status_code == 503:  # until the failed task is tried again (~10 s)
                assert time.monotonic() < deadline, confirmed.text
                await asyncio.sleep(1)
                confirmed = await api.post("/v1/email-verifications/confirm", json=confirm)
            assert confirmed.json() == {"id": flow_id, "status": "verified"}, confirmed.text
        assert len(smtp.messages(to="stuck@example.com")) == 1
