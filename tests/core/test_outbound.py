"""Calling out (core/outbound.py) against a real receiver on loopback: what an answer keeps, a
redirect that is not followed, the time limit, a refused or dropped connection; and production's
address rule, tried with loopback only (a name is checked once resolved, where the connection is
made: nothing reaches the receiver)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from email.utils import formatdate

import pytest

from core.outbound import EXCERPT_BYTES
from core.outbound import AddressRefused
from core.outbound import CallFailed
from core.outbound import Outbound
from core.outbound import OutboundPolicy
from tests.support.net import free_port
from tests.support.receiver import Receiver
from tests.support.receiver import Reply

pytestmark = pytest.mark.asyncio
DEVELOPMENT = OutboundPolicy(development=True)
PRODUCTION = OutboundPolicy(development=False)


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    running = await Receiver().start()
    yield running
    await running.stop()


@pytest.fixture
async def outbound() -> AsyncIterator[Outbound]:
    client = Outbound(DEVELOPMENT, timeout_seconds=1.0)
    yield client
    await client.close()


async def test_an_answer_keeps_its_status_and_a_bounded_excerpt(
    receiver: Receiver, outbound: Outbound
) -> None:
    receiver.answer = Reply(201, body=b"x" * (EXCERPT_BYTES * 3))
    answer = await outbound.post(receiver.url, {"x-test": "1"}, b'{"a":1}')
    assert answer.status == 201 and answer.succeeded
    assert answer.excerpt == "x" * EXCERPT_BYTES
    (request,) = receiver.requests
    assert request.body == b'{"a":1}' and request.headers["x-test"] == "1"


async def test_a_redirect_is_an_answer_not_followed(receiver: Receiver, outbound: Outbound) -> None:
    receiver.answer = Reply(302, headers={"Location": "http://127.0.0.1:9/elsewhere"})
    answer = await outbound.post(receiver.url, {}, b"{}")
    assert answer.status == 302 and not answer.succeeded
    assert len(receiver.requests) == 1


async def test_retry_after_in_seconds_or_as_a_date(receiver: Receiver, outbound: Outbound) -> None:
    receiver.answer = Reply(429, headers={"Retry-After": "120"})
    assert (await outbound.post(receiver.url, {}, b"{}")).retry_after_seconds == 120
    receiver.answer = Reply(503, headers={"Retry-After": formatdate(usegmt=True)})
    later = (await outbound.post(receiver.url, {}, b"{}")).retry_after_seconds
    assert later is not None and 0 <= later < 5
    receiver.answer = Reply(503, headers={"Retry-After": "soon"})
    assert (await outbound.post(receiver.url, {}, b"{}")).retry_after_seconds is None


async def test_no_answer_in_time_a_dropped_or_a_refused_connection_fail_the_call(
    receiver: Receiver, outbound: Outbound
) -> None:
    receiver.answer = Reply(200, delay=5)
    with pytest.raises(CallFailed, match="no answer within 1 s"):
        await outbound.post(receiver.url, {}, b"{}")
    receiver.answer = Reply(drop=True)
    with pytest.raises(CallFailed, match="lost|not HTTP"):
        await outbound.post(receiver.url, {}, b"{}")
    with pytest.raises(CallFailed, match="refused"):
        await outbound.post(f"http://127.0.0.1:{free_port()}/", {}, b"{}")


@pytest.mark.parametrize(
    "url",
    [
        "https://127.0.0.1:{port}/hooks",
        "https://[::1]:{port}/hooks",
        "https://[::ffff:127.0.0.1]:{port}/hooks",
        "https://localhost:{port}/hooks",  # passes the URL's check; refused once resolved
        "http://127.0.0.1:{port}/hooks",
    ],
)
async def test_production_calls_no_loopback_address_nor_plain_http(
    receiver: Receiver, url: str
) -> None:
    client = Outbound(PRODUCTION, timeout_seconds=1.0)
    try:
        with pytest.raises(AddressRefused):
            await client.post(url.format(port=receiver.port), {}, b"{}")
    finally:
        await client.close()
    assert receiver.requests == []


async def test_development_calls_loopback_over_http() -> None:
    DEVELOPMENT.check_url("http://127.0.0.1:8000/hooks")
    await DEVELOPMENT.check("http://localhost:8000/hooks")
    for url in (
        "ftp://127.0.0.1/",
        "http:///nohost",
        "http://u:p@127.0.0.1/",
        "http://127.0.0.1:x/",
    ):
        with pytest.raises(AddressRefused):
            DEVELOPMENT.check_url(url)
