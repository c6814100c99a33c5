""" "Do I already have an account?": the same answer for every address; the mail says the rest."""

from __future__ import annotations

import re
from email.header import decode_header
from email.header import make_header

import httpx
import pytest
from sqlalchemy import select
from temporalio.client import Client

from core.settings import Settings
from models.records.outbox import OutboxMessage
from tests.support.activations import SERVICE
from tests.support.activations import existing_business
from tests.support.activations import order_body
from tests.support.api import AUTH
from tests.support.histories import keep_history
from tests.support.mail import MailSink
from tests.support.mail import text_of
from tests.support.temporal import STARTED_FLOWS

pytestmark = pytest.mark.asyncio


async def lookups_started(app_sessions: object, client: Client) -> None:
    """The lookup flows (found by their mails), so their histories are checked afterwards."""
    async with app_sessions() as session:  # type: ignore[operator]
        keys = await session.scalars(
            select(OutboxMessage.idempotency_key).where(OutboxMessage.template == "account_lookup")
        )
        for key in keys:
            STARTED_FLOWS.append(client.get_workflow_handle(key.split("/")[0]))


async def test_the_answer_is_the_same_and_the_mail_tells_the_address(
    api: httpx.AsyncClient, time_client: Client, app_sessions: object, smtp: MailSink
) -> None:
    await existing_business(app_sessions, 0, email="owner@acme.example")  # type: ignore[arg-type]
    owner = await api.post("/v1/account-lookups", json={"email": "Owner@ACME.example"})
    stranger = await api.post("/v1/account-lookups", json={"email": "new@acme.example"})
    assert owner.status_code == stranger.status_code == 202
    assert owner.json() == stranger.json()  # nothing tells the two apart

    (known,) = await smtp.wait_for(1, to="owner@acme.example")
    (unknown,) = await smtp.wait_for(1, to="new@acme.example")
    assert known["Subject"] == unknown["Subject"] == "Your account lookup"
    assert "is the primary account of A*** C***" in text_of(known)  # masked
    assert "Acme Corp" not in text_of(known)
    assert "not the primary account of any company" in text_of(unknown)
    assert "Activate Now" in text_of(unknown)
    await lookups_started(app_sessions, time_client)
    await keep_history(STARTED_FLOWS[-1], "account_lookup_sent")


async def test_lookups_have_their_own_small_limit_and_still_answer_the_same(
    api: httpx.AsyncClient,
    time_client: Client,
    app_sessions: object,
    smtp: MailSink,
    settings: Settings,
) -> None:
    assert settings.lookup_mails_per_address_per_hour == 2
    answers = [
        await api.post("/v1/account-lookups", json={"email": email, "locale": "zh-TW"})
        for email in ["x@acme.example", "X@ACME.example", "x@Acme.Example", "x@acme.example"]
    ]
    assert {(a.status_code, a.text) for a in answers} == {(202, answers[0].text)}
    mails = await smtp.wait_for(2, to="x@acme.example")
    subjects = {str(make_header(decode_header(str(m["Subject"])))) for m in mails}
    assert subjects == {"您的帳號查詢結果"}  # in the asked language
    await lookups_started(app_sessions, time_client)
    assert len(smtp.messages(to="x@acme.example")) == 2


async def test_a_burst_of_lookups_never_blocks_the_vendors_mail_to_that_address(
    api: httpx.AsyncClient, time_client: Client, app_sessions: object, smtp: MailSink
) -> None:
    """Nobody without a key can spend an address's mail budget: after a burst of lookups (any
    letter case), an order to that address still mails its Activation Link."""
    for number in range(12):
        email = "buyer@acme.example" if number % 2 else "BUYER@acme.example"
        assert (await api.post("/v1/account-lookups", json={"email": email})).status_code == 202
    order = await api.post("/v1/orders", json=order_body([SERVICE]), headers=AUTH)
    assert order.status_code == 201, order.text
    mails = await smtp.wait_for(3, to="buyer@acme.example")  # two answers, then the link
    assert "/activate/" in text_of(mails[-1])
    await lookups_started(app_sessions, time_client)
    STARTED_FLOWS.append(time_client.get_workflow_handle(order.json()["id"]))


async def test_one_client_may_ask_only_so_often(
    api: httpx.AsyncClient, time_client: Client, app_sessions: object, settings: Settings
) -> None:
    asked = [
        await api.post("/v1/account-lookups", json={"email": f"n{number}@acme.example"})
        for number in range(settings.lookups_per_client_per_hour + 1)
    ]
    assert [a.status_code for a in asked[:-1]] == [202] * settings.lookups_per_client_per_hour
    assert asked[-1].status_code == 429 and asked[-1].json()["code"] == "too_many_requests"
    assert 3500 <= int(asked[-1].headers["Retry-After"]) <= 3601
    page = await api.get("/account-lookup")
    csrf = re.search(r'name="csrf" value="([^"]+)"', page.text)
    assert csrf is not None
    refused = await api.post("/account-lookup", data={"csrf": csrf[1], "email": "p@acme.example"})
    assert refused.status_code == 303  # post/redirect/get: the form says why
    assert "Try again in 60 min" in (await api.get("/account-lookup")).text
    await lookups_started(app_sessions, time_client)


@pytest.mark.parametrize(
    "body",
    [{}, {"email": "not an address"}, {"email": "a@b.example", "extra": 1}, {"email": "a@b.c\n"}],
)
async def test_a_bad_lookup_is_a_422(api: httpx.AsyncClient, body: dict[str, object]) -> None:
    assert (await api.post("/v1/account-lookups", json=body)).status_code == 422


async def test_the_page_asks_then_says_check_your_inbox(
    api: httpx.AsyncClient, time_client: Client, app_sessions: object, smtp: MailSink
) -> None:
    page = await api.get("/account-lookup")
    assert page.status_code == 200 and "Do you already have an account?" in page.text
    csrf = re.search(r'name="csrf" value="([^"]+)"', page.text)
    assert csrf is not None
    forged = await api.post("/account-lookup", data={"csrf": "forged", "email": "a@acme.example"})
    assert forged.status_code == 303  # post/redirect/get, on error too: the form says why
    assert "Enter your address again" in (await api.get("/account-lookup")).text
    wrong = await api.post("/account-lookup", data={"csrf": csrf[1], "email": "nope"})
    assert wrong.status_code == 303
    again = await api.get("/account-lookup")
    assert "name@example.com" in again.text and 'value="nope"' in again.text
    assert "name@example.com" not in (await api.get("/account-lookup")).text  # said once
    sent = await api.post("/account-lookup", data={"csrf": csrf[1], "email": "a@acme.example"})
    assert sent.status_code == 303 and sent.headers["location"] == "/account-lookup?sent=1"
    inbox = await api.get(sent.headers["location"])
    assert "Check your inbox" in inbox.text and "a@acme.example" not in inbox.text
    await smtp.wait_for(1, to="a@acme.example")
    assert smtp.messages(to="a@acme.example") and not smtp.messages(to="forged")
    await lookups_started(app_sessions, time_client)
