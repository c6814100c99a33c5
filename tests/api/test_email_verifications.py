"""The email-verification HTTP contract (issue 2), on the time-skipping server."""

from __future__ import annotations

from datetime import datetime
from datetime import timedelta

import httpx
import pytest
from temporalio.testing import WorkflowEnvironment

from core.settings import Settings
from tests.support.api import AUTH
from tests.support.mail import MailSink
from tests.support.mail import token_in
from tests.support.temporal import STARTED_FLOWS
from workflows.email_verification import EmailVerificationWorkflow

pytestmark = pytest.mark.asyncio


async def start(api: httpx.AsyncClient, email: str = "ada@example.com", **extra: str) -> dict:  # type: ignore[type-arg]
    response = await api.post(
        "/v1/email-verifications", json={"email": email, **extra}, headers=AUTH
    )
    assert response.status_code == 202, response.text
    body: dict = response.json()  # type: ignore[type-arg]
    return body


def track(time_env: WorkflowEnvironment, flow_id: str) -> None:
    STARTED_FLOWS.append(
        time_env.client.get_workflow_handle_for(EmailVerificationWorkflow.run, flow_id)
    )


async def test_start_returns_the_flow_and_a_repeat_returns_the_same(
    api: httpx.AsyncClient, time_env: WorkflowEnvironment, smtp: MailSink
) -> None:
    first = await start(api, "ada@example.com", locale="zh-TW")
    track(time_env, first["id"])
    assert first["status"] == "pending"
    assert first["resends_left"] == 5 and first["attempts_left"] == 5
    expires = datetime.fromisoformat(first["expires_at"])
    resend_at = datetime.fromisoformat(first["resend_available_at"])
    assert expires - resend_at == timedelta(hours=24) - timedelta(seconds=60)
    assert "ada@example.com" not in first["id"]

    again = await start(api, "ADA@example.com")
    assert again["id"] == first["id"]
    (mail,) = await smtp.wait_for(1)
    assert mail["Subject"] is not None and mail["Message-ID"]

    live = await api.get(f"/v1/email-verifications/{first['id']}", headers=AUTH)
    assert live.status_code == 200 and live.json()["status"] == "pending"


async def test_resend_inside_cooldown_is_429_with_retry_after_then_202(
    api: httpx.AsyncClient, time_env: WorkflowEnvironment, smtp: MailSink
) -> None:
    flow = await start(api)
    track(time_env, flow["id"])
    refused = await api.post(f"/v1/email-verifications/{flow['id']}/resend", headers=AUTH)
    assert refused.status_code == 429
    assert refused.json()["code"] == "resend_cooldown"
    assert 1 <= int(refused.headers["Retry-After"]) <= 60

    await time_env.sleep(timedelta(seconds=61))
    accepted = await api.post(f"/v1/email-verifications/{flow['id']}/resend", headers=AUTH)
    assert accepted.status_code == 202 and accepted.json()["resends_left"] == 4
    first, second = await smtp.wait_for(2)
    confirm = await api.post("/v1/email-verifications/confirm", json={"token": token_in(first)})
    assert confirm.status_code == 400 and confirm.json()["code"] == "token_invalid"
    confirm = await api.post("/v1/email-verifications/confirm", json={"token": token_in(second)})
    assert confirm.status_code == 200 and confirm.json() == {"id": flow["id"], "status": "verified"}


async def test_change_of_address_while_pending(
    api: httpx.AsyncClient, time_env: WorkflowEnvironment, settings: Settings, smtp: MailSink
) -> None:
    flow = await start(api, "old@example.com")
    track(time_env, flow["id"])
    await time_env.sleep(timedelta(seconds=61))
    changed = await api.post(
        f"/v1/email-verifications/{flow['id']}/email",
        json={"email": "new@example.com"},
        headers=AUTH,
    )
    assert changed.status_code == 202 and changed.json()["email"] == "new@example.com"
    (mail,) = await smtp.wait_for(1, to="new@example.com")
    confirm = await api.post("/v1/email-verifications/confirm", json={"token": token_in(mail)})
    assert confirm.json()["status"] == "verified"


async def test_confirm_is_repeatable_and_actions_after_it_are_409(
    api: httpx.AsyncClient, time_env: WorkflowEnvironment, smtp: MailSink
) -> None:
    flow = await start(api)
    track(time_env, flow["id"])
    token = token_in((await smtp.wait_for(1))[0])
    for _ in range(2):  # a double click is not an error
        confirm = await api.post("/v1/email-verifications/confirm", json={"token": token})
        assert confirm.status_code == 200 and confirm.json()["status"] == "verified"
    await time_env.client.get_workflow_handle(flow["id"]).result()
    resend = await api.post(f"/v1/email-verifications/{flow['id']}/resend", headers=AUTH)
    assert resend.status_code == 409 and resend.json()["code"] == "verification_not_pending"
    status = await api.get(f"/v1/email-verifications/{flow['id']}", headers=AUTH)
    assert status.json()["status"] == "verified"


async def test_an_expired_link_is_410(
    api: httpx.AsyncClient, time_env: WorkflowEnvironment, smtp: MailSink
) -> None:
    flow = await start(api)
    token = token_in((await smtp.wait_for(1))[0])
    await time_env.sleep(timedelta(hours=24, seconds=1))
    await time_env.client.get_workflow_handle(flow["id"]).result()
    confirm = await api.post("/v1/email-verifications/confirm", json={"token": token})
    assert confirm.status_code == 410 and confirm.json()["code"] == "verification_expired"
    page = await api.get(f"/verify-email?token={token}")
    assert page.status_code == 410 and "expired" in page.text


async def test_a_mangled_token_or_a_guessed_link_reaches_no_flow(
    api: httpx.AsyncClient, time_env: WorkflowEnvironment, smtp: MailSink
) -> None:
    flow = await start(api)
    track(time_env, flow["id"])
    token = token_in((await smtp.wait_for(1))[0])
    flow_key = flow["id"].removeprefix("email-verification-")
    guesses = [
        token[:-4] + "AAAA",
        f"{flow_key}.{token.partition('.')[2]}",
        f"{flow_key}.{'x' * 43}",
    ]
    for guess in guesses * 2:
        refused = await api.post("/v1/email-verifications/confirm", json={"token": guess})
        assert refused.status_code == 400 and refused.json()["code"] == "token_invalid"
    live = await api.get(f"/v1/email-verifications/{flow['id']}", headers=AUTH)
    assert live.json()["attempts_left"] == 5  # knowing the flow's id locks nothing
    right = await api.post("/v1/email-verifications/confirm", json={"token": token})
    assert right.status_code == 200 and right.json()["status"] == "verified"


async def test_five_replaced_links_lock_with_423(
    api: httpx.AsyncClient, time_env: WorkflowEnvironment, smtp: MailSink
) -> None:
    flow = await start(api)
    track(time_env, flow["id"])
    for _ in range(5):
        await time_env.sleep(timedelta(seconds=61))
        resent = await api.post(f"/v1/email-verifications/{flow['id']}/resend", headers=AUTH)
        assert resent.status_code == 202, resent.text
    mails = await smtp.wait_for(6)
    replaced, current = [token_in(mail) for mail in mails[:5]], token_in(mails[5])
    codes = [
        (await api.post("/v1/email-verifications/confirm", json={"token": old})).status_code
        for old in replaced
    ]
    assert codes == [400, 400, 400, 400, 423]
    right = await api.post("/v1/email-verifications/confirm", json={"token": current})
    assert right.status_code == 423 and right.json()["code"] == "verification_locked"


async def test_a_link_of_an_earlier_run_never_touches_a_later_one(
    api: httpx.AsyncClient, time_env: WorkflowEnvironment, smtp: MailSink
) -> None:
    first = await start(api)
    old = token_in((await smtp.wait_for(1))[0])
    cancelled = await api.delete(f"/v1/email-verifications/{first['id']}", headers=AUTH)
    assert cancelled.status_code == 200
    await time_env.client.get_workflow_handle(first["id"]).result()
    again = await start(api)  # the same address and purpose: the same flow id, a new run
    track(time_env, again["id"])
    assert again["id"] == first["id"]
    new = token_in((await smtp.wait_for(2))[1])
    for _ in range(6):
        refused = await api.post("/v1/email-verifications/confirm", json={"token": old})
        assert refused.status_code == 400
    live = await api.get(f"/v1/email-verifications/{again['id']}", headers=AUTH)
    assert live.json()["status"] == "pending" and live.json()["attempts_left"] == 5
    right = await api.post("/v1/email-verifications/confirm", json={"token": new})
    assert right.status_code == 200 and right.json()["status"] == "verified"


async def test_cancel_then_the_link_is_dead(
    api: httpx.AsyncClient, time_env: WorkflowEnvironment, smtp: MailSink
) -> None:
    flow = await start(api)
    track(time_env, flow["id"])
    token = token_in((await smtp.wait_for(1))[0])
    cancelled = await api.delete(f"/v1/email-verifications/{flow['id']}", headers=AUTH)
    assert cancelled.status_code == 200 and cancelled.json()["status"] == "cancelled"
    again = await api.delete(f"/v1/email-verifications/{flow['id']}", headers=AUTH)
    assert again.status_code == 409
    confirm = await api.post("/v1/email-verifications/confirm", json={"token": token})
    assert confirm.status_code == 400 and confirm.json()["code"] == "token_invalid"


async def test_opening_the_link_does_not_consume_it(
    api: httpx.AsyncClient, time_env: WorkflowEnvironment, smtp: MailSink
) -> None:
    flow = await start(api)
    track(time_env, flow["id"])
    token = token_in((await smtp.wait_for(1))[0])
    for _ in range(3):  # a mail scanner prefetching the link changes nothing
        page = await api.get(f"/verify-email?token={token}")
        assert page.status_code == 200 and 'method="post"' in page.text
        assert page.headers["Cache-Control"] == "no-store"
    status = await api.get(f"/v1/email-verifications/{flow['id']}", headers=AUTH)
    assert status.json()["status"] == "pending" and status.json()["attempts_left"] == 5

    confirmed = await api.post("/verify-email", data={"token": token})
    assert confirmed.status_code == 303  # post/redirect/get
    assert "confirmed" in (await api.get(confirmed.headers["location"])).text
    status = await api.get(f"/v1/email-verifications/{flow['id']}", headers=AUTH)
    assert status.json()["status"] == "verified"
