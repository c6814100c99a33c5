"""Primary change by support, over the API on the time-skipping server: the new address proven,
the current primary told and given 72 h to object, then the swap; an objection or a cancel
changes nothing; a pending change and a pending ownership transfer exclude each other."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from email.message import Message
from typing import Any

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.ext.asyncio import async_sessionmaker
from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment

from models.records.domain import Account
from tests.support.accounts import add_local_account
from tests.support.activations import existing_business
from tests.support.api import AUTH
from tests.support.histories import keep_history
from tests.support.mail import MailSink
from tests.support.mail import text_of
from tests.support.mail import token_in
from tests.support.temporal import STARTED_FLOWS
from tests.support.temporal import TEST_OPERATOR_KEY

pytestmark = pytest.mark.asyncio
Sessions = async_sessionmaker[AsyncSession]
SUPPORT = {"Authorization": f"Bearer {TEST_OPERATOR_KEY}"}
OWNER = "owner@acme.example"


def body(**overrides: Any) -> dict[str, Any]:
    return {
        "new_email": "new@acme.example",
        "ticket": "SUP-1042",
        "requested_by": "alice (support)",
    } | overrides


async def start(api: httpx.AsyncClient, client: Client, business_id: str, **extra: Any) -> str:
    started = await api.post(
        f"/v1/businesses/{business_id}/primary-changes", json=body(**extra), headers=SUPPORT
    )
    assert started.status_code == 202, started.text
    assert started.json()["status"] == "verifying"
    assert started.json()["verification_id"].startswith("email-verification-")
    STARTED_FLOWS.append(client.get_workflow_handle(f"primary-change-{started.json()['id']}"))
    return str(started.json()["id"])


async def status_of(api: httpx.AsyncClient, business_id: str, change_id: str) -> dict[str, Any]:
    path = f"/v1/businesses/{business_id}/primary-changes/{change_id}"
    shown: dict[str, Any] = (await api.get(path, headers=SUPPORT)).json()
    return shown


async def until(api: httpx.AsyncClient, business_id: str, change_id: str, status: str) -> None:
    for _ in range(200):
        if (await status_of(api, business_id, change_id))["status"] == status:
            return
        await asyncio.sleep(0.02)
    raise AssertionError(await status_of(api, business_id, change_id))


async def prove_new_address(api: httpx.AsyncClient, smtp: MailSink) -> None:
    (mail,) = await smtp.wait_for(1, to="new@acme.example")
    assert "the primary account of Acme Corp" in text_of(mail)  # what the proof is for
    confirmed = await api.post("/v1/email-verifications/confirm", json={"token": token_in(mail)})
    assert confirmed.status_code == 200, confirmed.text


async def objection_mail(smtp: MailSink) -> Message:
    (mail,) = await smtp.wait_for(1, to=OWNER)
    # The new address is somebody else's: masked, as everywhere but in its own mails.
    assert "n***@acme.example" in text_of(mail) and "new@acme.example" not in text_of(mail)
    assert "stop" in text_of(mail).lower()
    return mail


async def primaries(sessions: Sessions, business_id: str) -> list[tuple[str, str]]:
    async with sessions() as session:
        rows = await session.execute(
            select(Account.email, Account.kind, Account.status)
            .where(Account.business_id == business_id)
            .order_by(Account.email)
        )
        return [(email, f"{kind}/{status}") for email, kind, status in rows]


async def test_with_no_objection_the_new_address_becomes_the_primary_after_72_hours(
    api: httpx.AsyncClient,
    time_client: Client,
    time_env: WorkflowEnvironment,
    app_sessions: Sessions,
    smtp: MailSink,
) -> None:
    business_id, _, (site,) = await existing_business(app_sessions, 1, email=OWNER)
    change_id = await start(api, time_client, business_id)
    assert await objection_wait(smtp) == []  # nobody is told before the address is proven
    await prove_new_address(api, smtp)
    await until(api, business_id, change_id, "waiting")
    await objection_mail(smtp)
    await time_env.sleep(timedelta(hours=71))
    assert (await status_of(api, business_id, change_id))["status"] == "waiting"
    await time_env.sleep(timedelta(hours=1, seconds=1))
    await until(api, business_id, change_id, "completed")

    assert await primaries(app_sessions, business_id) == [
        ("new@acme.example", "primary/active"),
        (OWNER, "local/active"),  # on the Business's first instance
    ]
    shown = await status_of(api, business_id, change_id)
    assert shown["verification_id"].startswith("email-verification-")  # its proof, for operators
    assert [event["step"] for event in shown["events"]] == [
        "requested",
        "verified",
        "owner_told",
        "completed",
    ]
    assert (shown["ticket"], shown["requested_by"]) == ("SUP-1042", "alice (support)")
    new_mails = await smtp.wait_for(2, to="new@acme.example")
    assert "You are now the primary account of Acme Corp" in str(new_mails[-1]["Subject"])
    owner_mails = await smtp.wait_for(2, to=OWNER)
    assert "has a new primary account" in str(owner_mails[-1]["Subject"])
    await keep_history(STARTED_FLOWS[-1], "primary_change_completed")


async def objection_wait(smtp: MailSink) -> list[Message]:
    await asyncio.sleep(0.2)
    return smtp.messages(to=OWNER)


async def test_the_current_primary_stops_the_change_by_link_and_nothing_changes(
    api: httpx.AsyncClient, time_client: Client, app_sessions: Sessions, smtp: MailSink
) -> None:
    business_id, _, (site,) = await existing_business(app_sessions, 1, email=OWNER)
    grace = await add_local_account(app_sessions, business_id, site, email="new@acme.example")
    before = await primaries(app_sessions, business_id)
    change_id = await start(api, time_client, business_id, old_primary="disabled")
    await prove_new_address(api, smtp)
    await until(api, business_id, change_id, "waiting")
    token = token_in(await objection_mail(smtp))

    page = await api.get(f"/primary-change?token={token}")  # GET never acts
    assert page.status_code == 200 and "Stop the change" in page.text
    assert "n***@acme.example" in page.text  # masked
    stopped = await api.post("/primary-change", data={"token": token, "action": "object"})
    assert stopped.status_code == 303  # post/redirect/get
    assert "The change is stopped" in (await api.get(stopped.headers["location"])).text
    again = await api.post("/v1/primary-changes/object", json={"token": token})
    assert again.status_code == 409 and again.json()["code"] == "primary_change_objected"

    assert (await status_of(api, business_id, change_id))["status"] == "objected"
    assert await primaries(app_sessions, business_id) == before
    assert grace  # the local account with the new address stayed a local account
    told = await smtp.wait_for(2, to=OWNER)
    assert "was stopped" in str(told[-1]["Subject"])
    await keep_history(STARTED_FLOWS[-1], "primary_change_objected")


async def test_support_cancels_and_the_verification_link_stops_working(
    api: httpx.AsyncClient, time_client: Client, app_sessions: Sessions, smtp: MailSink
) -> None:
    business_id, _, _ = await existing_business(app_sessions, 1, email=OWNER)
    change_id = await start(api, time_client, business_id)
    (proof,) = await smtp.wait_for(1, to="new@acme.example")
    path = f"/v1/businesses/{business_id}/primary-changes/{change_id}"
    cancelled = await api.delete(path, headers=SUPPORT)
    assert cancelled.status_code == 200 and cancelled.json()["status"] == "cancelled"
    late = await api.post("/v1/email-verifications/confirm", json={"token": token_in(proof)})
    assert late.status_code in (400, 409)
    assert (await api.delete(path, headers=SUPPORT)).json()["code"] == "primary_change_cancelled"
    assert smtp.messages(to=OWNER) == []  # never told: there was nothing to object to


async def test_a_pending_change_and_a_pending_transfer_exclude_each_other(
    api: httpx.AsyncClient, time_client: Client, app_sessions: Sessions, smtp: MailSink
) -> None:
    business_id, owner_id, (site,) = await existing_business(app_sessions, 1, email=OWNER)
    grace = await add_local_account(app_sessions, business_id, site)
    await start(api, time_client, business_id)
    owner = AUTH | {"X-Acting-Account": owner_id}
    offered = await api.post(
        f"/v1/businesses/{business_id}/ownership-transfers",
        json={"target_account_id": grace},
        headers=owner,
    )
    assert offered.status_code == 409 and offered.json()["code"] == "primary_change_pending"
    second = await api.post(
        f"/v1/businesses/{business_id}/primary-changes",
        json=body(new_email="other@acme.example"),
        headers=SUPPORT,
    )
    assert second.status_code == 409 and second.json()["code"] == "primary_change_pending"

    other_id, other_owner, (other_site,) = await existing_business(
        app_sessions, 1, email="boss@else.example"
    )
    target = await add_local_account(app_sessions, other_id, other_site, "t@else.example")
    transfer = await api.post(
        f"/v1/businesses/{other_id}/ownership-transfers",
        json={"target_account_id": target},
        headers=AUTH | {"X-Acting-Account": other_owner},
    )
    assert transfer.status_code == 202, transfer.text
    STARTED_FLOWS.append(
        time_client.get_workflow_handle(f"ownership-transfer-{transfer.json()['id']}")
    )
    refused = await api.post(
        f"/v1/businesses/{other_id}/primary-changes", json=body(), headers=SUPPORT
    )
    assert refused.status_code == 409 and refused.json()["code"] == "ownership_transfer_pending"


async def test_only_support_starts_a_change_and_bad_requests_are_4xx(
    api: httpx.AsyncClient, app_sessions: Sessions
) -> None:
    business_id, _, _ = await existing_business(app_sessions, 0, email=OWNER)
    path = f"/v1/businesses/{business_id}/primary-changes"
    for headers in ({}, AUTH, {"Authorization": "Bearer wrong"}):  # the portal's key is not one
        refused = await api.post(path, json=body(), headers=headers)
        assert refused.status_code == 401 and refused.json()["code"] == "invalid_operator_key"
    for wrong in (
        body(new_email="not an address"),
        body(ticket=""),
        body(ticket="SUP-1\nBcc: x@evil.example"),
        body(old_primary="deleted"),
        body(extra=1),
    ):
        assert (await api.post(path, json=wrong, headers=SUPPORT)).status_code == 422
    unknown = await api.post(
        "/v1/businesses/00000000-0000-0000-0000-000000000000/primary-changes",
        json=body(),
        headers=SUPPORT,
    )
    assert unknown.status_code == 404
    own = await api.post(path, json=body(new_email="Owner@ACME.example"), headers=SUPPORT)
    assert own.status_code == 409 and own.json()["code"] == "new_address_is_primary"
    local = await api.post(path, json=body(), headers=SUPPORT)  # no instance for the old one
    assert local.status_code == 409 and local.json()["code"] == "no_instance_for_local_account"
