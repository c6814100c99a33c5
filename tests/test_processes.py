"""Several processes at once, as a deployment runs them: two workers and two API processes on
one Temporal server and PostgreSQL, load through both APIs, one worker killed (-9) in the middle
of it and a new one started. Afterwards no flow is lost or stuck, no address got two different
mails (a send cut off by the kill is delivered again, identical), every first link works through
either API, and nothing answered 5xx."""

from __future__ import annotations

import asyncio
import signal
import time
from collections import defaultdict
from pathlib import Path

import httpx
import pytest

from core.settings import Settings
from tests.support.mail import MailSink
from tests.support.mail import token_in
from tests.support.mail import without_trace_headers
from tests.support.process_stack import running_stack

pytestmark = pytest.mark.asyncio
AUTH = {"Authorization": "Bearer test-api-key-of-16-chars"}
MAIL_WAIT = 90.0  # a send cut off by the kill is retried after its 30 s heartbeat timeout


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
