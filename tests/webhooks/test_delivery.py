"""Delivering events to a real receiver on loopback: signed per Standard Webhooks (verified with
the `standardwebhooks` library), on its retry schedule (on the time-skipping server), through a
receiver that is down, slow, gone (410) or asks to wait, with a manual retry, a secret rotation
and a replay; and the delivery log the API gives of all that."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC
from datetime import datetime
from datetime import timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.ext.asyncio import async_sessionmaker
from standardwebhooks import Webhook
from standardwebhooks.webhooks import WebhookVerificationError
from temporalio.client import Client
from temporalio.client import WorkflowExecutionStatus
from temporalio.client import WorkflowHandle
from temporalio.testing import WorkflowEnvironment

from core.settings import Settings
from models.contracts.search_attributes import ACTIVATION_PROBLEM
from models.contracts.webhook_delivery import SCHEDULE_SECONDS
from models.contracts.webhook_delivery import flow_id_of
from models.records.events import Event
from models.records.events import record_event
from models.records.webhooks import WebhookAttempt
from tests.support.api import AUTH
from tests.support.histories import keep_history
from tests.support.mail import MailSink
from tests.support.receiver import Receiver
from tests.support.receiver import Reply
from tests.webhooks.conftest import subscribe
from workers.event_relay import EventRelay

pytestmark = pytest.mark.asyncio
Sessions = async_sessionmaker[AsyncSession]


async def an_event(sessions: Sessions, type: str = "order.created") -> str:
    """An event, recorded as a flow's activity records it (in its own transaction here)."""
    async with sessions.begin() as session:
        order_id = str(uuid.uuid4())
        data = {"order_id": order_id, "reference": None}
        await record_event(session, type, f"{type}:{order_id}", None, data)
    async with sessions() as session:
        event = await session.scalar(select(Event).order_by(Event.seq.desc()).limit(1))
        assert event is not None
        return event.id


def delivery(client: Client, endpoint: dict[str, Any], event_id: str) -> WorkflowHandle[Any, Any]:
    return client.get_workflow_handle(flow_id_of(endpoint["id"], event_id))


async def until_started(handle: WorkflowHandle[Any, Any], timeout: float = 10) -> None:
    """The relay starts deliveries on its own: wait until this one exists."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        try:
            await handle.describe()
            return
        except Exception:
            assert asyncio.get_running_loop().time() < deadline, "the delivery never started"
            await asyncio.sleep(0.05)


async def outcome(
    env: WorkflowEnvironment, handle: WorkflowHandle[Any, Any], step: timedelta = timedelta(hours=1)
) -> str:
    """The delivery's outcome, skipping time on the test server until it has one (its waits are
    timers; its attempts run in real time, and the server holds its clock meanwhile)."""
    for _ in range(500):
        if (await handle.describe()).status != WorkflowExecutionStatus.RUNNING:
            result: str = await handle.result()
            return result
        await env.sleep(step)
    raise AssertionError("the delivery never ended")


async def log_of(api: httpx.AsyncClient, endpoint: dict[str, Any], event_id: str) -> Any:
    answer = await api.get(
        f"/v1/webhook-endpoints/{endpoint['id']}/deliveries/{event_id}", headers=AUTH
    )
    assert answer.status_code == 200, answer.text
    return answer.json()


async def test_an_event_reaches_the_endpoint_signed_and_the_log_says_so(
    api: httpx.AsyncClient, relay: EventRelay, receiver: Receiver, app_sessions: Sessions
) -> None:
    endpoint = await subscribe(api, receiver.url, description="CRM")
    assert endpoint["secret"].startswith("whsec_")
    event_id = await an_event(app_sessions)

    (request,) = await receiver.wait_for(1)
    body = request.verified(endpoint["secret"])  # the standardwebhooks library's own check
    assert request.headers["webhook-id"] == event_id and request.method == "POST"
    assert request.headers["content-type"] == "application/json"
    assert body["id"] == event_id and body["type"] == "order.created"
    assert set(body) == {"id", "type", "timestamp", "business_id", "data"}
    with pytest.raises(WebhookVerificationError):
        Webhook("whsec_" + "A" * 43 + "=").verify(request.body, request.headers)

    feed = await api.get("/v1/events", headers=AUTH)
    assert feed.json()["data"][-1] == body  # the feed and the delivery carry the same event
    log = await _until(api, endpoint, event_id, "succeeded")  # written after the answer
    assert log["attempts"] == 1
    (attempt,) = log["history"]
    assert attempt["status_code"] == 200 and attempt["excerpt"] == "ok"
    assert attempt["trigger"] == "event" and attempt["error"] is None
    listed = await api.get(f"/v1/webhook-endpoints/{endpoint['id']}/deliveries", headers=AUTH)
    assert [d["event_id"] for d in listed.json()["data"]] == [event_id]
    # The secret was shown once.
    shown = await api.get(f"/v1/webhook-endpoints/{endpoint['id']}", headers=AUTH)
    assert "secret" not in shown.json() and shown.json()["enabled"] is True


async def test_an_endpoint_gets_only_the_types_it_wants_and_only_events_after_it_was_made(
    api: httpx.AsyncClient, relay: EventRelay, receiver: Receiver, app_sessions: Sessions
) -> None:
    before = await an_event(app_sessions, "order.created")
    await subscribe(api, receiver.url, ["license.expired"])
    await an_event(app_sessions, "order.created")
    wanted = await an_event(app_sessions, "license.expired")
    (request,) = await receiver.wait_for(1)
    assert request.json()["id"] == wanted
    await asyncio.sleep(0.5)  # the relay has passed the others by now
    assert [r.json()["id"] for r in receiver.requests] == [wanted]
    assert before not in [r.json()["id"] for r in receiver.requests]


async def test_failed_attempts_follow_the_schedule_until_one_succeeds(
    api: httpx.AsyncClient,
    relay: EventRelay,
    receiver: Receiver,
    app_sessions: Sessions,
    time_client: Client,
    time_env: WorkflowEnvironment,
) -> None:
    answers = iter([Reply(500, body=b"oops"), Reply(503), Reply(502)])
    receiver.answer = lambda _: next(answers, Reply(204, body=b""))
    endpoint = await subscribe(api, receiver.url)
    event_id = await an_event(app_sessions)
    handle = delivery(time_client, endpoint, event_id)
    await until_started(handle)
    assert await outcome(time_env, handle) == "delivered"

    assert len(receiver.requests) == 4
    assert len({r.headers["webhook-id"] for r in receiver.requests}) == 1
    async with app_sessions() as session:
        attempts = list(
            await session.scalars(select(WebhookAttempt).order_by(WebhookAttempt.number))
        )
    waits = [(b.at - a.at).total_seconds() for a, b in zip(attempts, attempts[1:], strict=False)]
    for waited, planned in zip(waits, SCHEDULE_SECONDS[1:], strict=False):
        assert planned * 0.9 - 1 <= waited <= planned * 1.1 + 1, (waits, SCHEDULE_SECONDS)
    log = await log_of(api, endpoint, event_id)
    assert [a["status_code"] for a in log["history"]] == [500, 503, 502, 204]
    assert log["history"][0]["excerpt"] == "oops" and log["status"] == "succeeded"
    await keep_history(handle, "webhook_delivered_after_failures")


async def test_a_receiver_down_then_up_gets_the_event(
    api: httpx.AsyncClient,
    relay: EventRelay,
    receiver: Receiver,
    app_sessions: Sessions,
    time_client: Client,
    time_env: WorkflowEnvironment,
) -> None:
    endpoint = await subscribe(api, receiver.url)
    await receiver.stop()  # its port now refuses connections
    event_id = await an_event(app_sessions)
    handle = delivery(time_client, endpoint, event_id)
    await until_started(handle)
    log = await _until(api, endpoint, event_id, "pending")
    assert log["attempts"] == 1 and log["next_attempt_at"]
    assert log["history"][0]["status_code"] is None
    assert "refused" in log["history"][0]["error"]
    await receiver.start()
    assert await outcome(time_env, handle) == "delivered"
    assert len(receiver.requests) == 1


async def test_retry_after_is_honoured(
    api: httpx.AsyncClient,
    relay: EventRelay,
    receiver: Receiver,
    app_sessions: Sessions,
    time_client: Client,
    time_env: WorkflowEnvironment,
) -> None:
    answers = iter([Reply(429, headers={"Retry-After": "3600"})])
    receiver.answer = lambda _: next(answers, Reply(200))
    endpoint = await subscribe(api, receiver.url)
    event_id = await an_event(app_sessions)
    handle = delivery(time_client, endpoint, event_id)
    await until_started(handle)
    assert await outcome(time_env, handle) == "delivered"
    async with app_sessions() as session:
        first, second = await session.scalars(
            select(WebhookAttempt).order_by(WebhookAttempt.number)
        )
    assert (second.at - first.at).total_seconds() >= 3600  # not the schedule's 5 s


async def test_a_410_disables_the_endpoint_and_tells_the_operators(
    api: httpx.AsyncClient,
    relay: EventRelay,
    receiver: Receiver,
    app_sessions: Sessions,
    time_client: Client,
    time_env: WorkflowEnvironment,
    smtp: MailSink,
    settings: Settings,
) -> None:
    settings.operator_alert_emails = ["ops@vendor.example"]
    receiver.answer = Reply(410, body=b"gone")
    endpoint = await subscribe(api, receiver.url)
    event_id = await an_event(app_sessions)
    handle = delivery(time_client, endpoint, event_id)
    await until_started(handle)
    assert await outcome(time_env, handle) == "failed"
    assert len(receiver.requests) == 1  # no more attempts after a 410

    shown = (await api.get(f"/v1/webhook-endpoints/{endpoint['id']}", headers=AUTH)).json()
    assert shown["enabled"] is False and shown["disabled_reason"] == "gone"
    assert (await log_of(api, endpoint, event_id))["status"] == "failed"
    described = await handle.describe()
    assert described.typed_search_attributes.get(ACTIVATION_PROBLEM) == "webhook_endpoint_disabled"
    (mail,) = await smtp.wait_for(1, to="ops@vendor.example")
    await keep_history(handle, "webhook_gone")
    assert endpoint["id"] in str(mail["Subject"]) and "410" in mail.as_string()

    # Disabled, it is sent nothing; a retry is refused until it is enabled again.
    await an_event(app_sessions)
    retry = await api.post(
        f"/v1/webhook-endpoints/{endpoint['id']}/deliveries/{event_id}/retry", headers=AUTH
    )
    assert retry.status_code == 409 and retry.json()["code"] == "webhook_endpoint_disabled"
    await asyncio.sleep(0.5)
    assert len(receiver.requests) == 1


async def test_a_schedule_run_out_fails_the_delivery_and_disables_a_failing_endpoint(
    api: httpx.AsyncClient,
    relay: EventRelay,
    receiver: Receiver,
    app_sessions: Sessions,
    time_client: Client,
    time_env: WorkflowEnvironment,
) -> None:
    receiver.answer = Reply(500)
    endpoint = await subscribe(api, receiver.url)
    event_id = await an_event(app_sessions)
    handle = delivery(time_client, endpoint, event_id)
    await until_started(handle)
    assert await outcome(time_env, handle) == "failed"
    assert len(receiver.requests) == len(SCHEDULE_SECONDS)
    shown = (await api.get(f"/v1/webhook-endpoints/{endpoint['id']}", headers=AUTH)).json()
    assert shown["enabled"] is False and shown["disabled_reason"] == "failing"

    # Enabled again, a manual retry delivers it: one attempt, with the same webhook-id.
    receiver.answer = Reply(200)
    enabled = await api.patch(
        f"/v1/webhook-endpoints/{endpoint['id']}", json={"enabled": True}, headers=AUTH
    )
    assert enabled.json()["enabled"] is True and enabled.json()["disabled_reason"] is None
    retry = await api.post(
        f"/v1/webhook-endpoints/{endpoint['id']}/deliveries/{event_id}/retry", headers=AUTH
    )
    assert retry.status_code == 202, retry.text
    request = (await receiver.wait_for(len(SCHEDULE_SECONDS) + 1))[-1]
    assert request.headers["webhook-id"] == event_id
    log = await _until(api, endpoint, event_id, "succeeded", attempts=len(SCHEDULE_SECONDS) + 1)
    assert log["history"][-1]["trigger"] == "retry"


async def _until(
    api: httpx.AsyncClient, endpoint: dict[str, Any], event_id: str, status: str, attempts: int = 1
) -> Any:
    """The delivery's log once it reads `status` after `attempts` at least (it is made at its
    first attempt)."""
    url = f"/v1/webhook-endpoints/{endpoint['id']}/deliveries/{event_id}"
    for _ in range(200):
        answer = await api.get(url, headers=AUTH)
        log = answer.json()
        if answer.status_code == 200 and log["status"] == status and log["attempts"] >= attempts:
            return log
        await asyncio.sleep(0.05)
    raise AssertionError(f"the delivery is not {status}: {answer.text}")


async def test_a_slow_receiver_times_out_and_is_tried_again(
    api: httpx.AsyncClient,
    relay: EventRelay,
    receiver: Receiver,
    app_sessions: Sessions,
    time_client: Client,
    time_env: WorkflowEnvironment,
    settings: Settings,
) -> None:
    assert settings.webhook_timeout_seconds == 2.0  # (tests/webhooks/conftest.py)
    answers = iter([Reply(200, delay=30)])
    receiver.answer = lambda _: next(answers, Reply(200))
    endpoint = await subscribe(api, receiver.url)
    event_id = await an_event(app_sessions)
    handle = delivery(time_client, endpoint, event_id)
    await until_started(handle)
    assert await outcome(time_env, handle) == "delivered"
    log = await log_of(api, endpoint, event_id)
    first, second = log["history"]
    assert first["status_code"] is None and "no answer within" in first["error"]
    assert second["status_code"] == 200


async def test_during_a_rotation_both_secrets_sign(
    api: httpx.AsyncClient, relay: EventRelay, receiver: Receiver, app_sessions: Sessions
) -> None:
    endpoint = await subscribe(api, receiver.url)
    old = endpoint["secret"]
    rotated = await api.post(
        f"/v1/webhook-endpoints/{endpoint['id']}/rotate-secret",
        json={"grace_seconds": 3600},
        headers=AUTH,
    )
    assert rotated.status_code == 200, rotated.text
    new = rotated.json()["secret"]
    assert new != old and rotated.json()["previous_secret_expires_at"]
    await an_event(app_sessions)
    (request,) = await receiver.wait_for(1)
    assert len(request.headers["webhook-signature"].split(" ")) == 2
    request.verified(old)
    request.verified(new)

    # Without a grace period, only the new one signs.
    rotated = await api.post(
        f"/v1/webhook-endpoints/{endpoint['id']}/rotate-secret",
        json={"grace_seconds": 0},
        headers=AUTH,
    )
    newest = rotated.json()["secret"]
    await an_event(app_sessions)
    request = (await receiver.wait_for(2))[1]
    request.verified(newest)
    with pytest.raises(WebhookVerificationError):
        request.verified(new)


async def test_a_replay_sends_the_events_since_a_time_again(
    api: httpx.AsyncClient,
    relay: EventRelay,
    receiver: Receiver,
    app_sessions: Sessions,
    time_client: Client,
) -> None:
    endpoint = await subscribe(api, receiver.url)
    first = await an_event(app_sessions)
    await receiver.wait_for(1)
    since = datetime.now(UTC)
    await asyncio.sleep(0.01)
    later = [await an_event(app_sessions), await an_event(app_sessions)]
    await receiver.wait_for(3)

    answer = await api.post(
        f"/v1/webhook-endpoints/{endpoint['id']}/replay",
        json={"since": since.isoformat()},
        headers=AUTH,
    )
    assert answer.status_code == 202, answer.text
    replayed = (await receiver.wait_for(5))[3:]
    replay = time_client.get_workflow_handle(f"webhook-replay-{answer.json()['replay_id']}")
    assert await replay.result() == 2
    await keep_history(replay, "webhook_replay")
    assert [r.headers["webhook-id"] for r in replayed] == later  # oldest first, same ids
    assert first not in [r.headers["webhook-id"] for r in replayed]
    log = await _until(api, endpoint, later[0], "succeeded", attempts=2)
    assert [a["trigger"] for a in log["history"]] == ["event", "replay"]


async def test_deliveries_to_one_endpoint_do_not_wait_for_another(
    api: httpx.AsyncClient, relay: EventRelay, receiver: Receiver, app_sessions: Sessions
) -> None:
    stuck = await Receiver().start()
    stuck.answer = Reply(hang=True)
    try:
        await subscribe(api, stuck.url)
        await subscribe(api, receiver.url)
        for _ in range(3):
            await an_event(app_sessions)
        await receiver.wait_for(3, timeout=10)
    finally:
        await stuck.stop()
