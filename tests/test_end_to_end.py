"""End to end on the real Temporal dev server: the API served by uvicorn on a real port, the
worker, a real SMTP server on loopback; the test follows the link from the received mail."""

from __future__ import annotations

import asyncio
import io
import logging
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.ext.asyncio import async_sessionmaker
from temporalio.client import Client

from api.app import create_app
from core.logging import configure_logging
from core.settings import Settings
from core.words import text
from tests.support.activations import ADDON
from tests.support.activations import CREDITS
from tests.support.activations import SERVICE
from tests.support.activations import existing_business
from tests.support.activations import order_body
from tests.support.declared_refusals import DeclaredRefusals
from tests.support.mail import MailSink
from tests.support.mail import code_in
from tests.support.mail import text_of
from tests.support.mail import token_in
from tests.support.net import free_port
from tests.support.served import serving_on

Sessions = async_sessionmaker[AsyncSession]

pytestmark = pytest.mark.asyncio


@pytest.fixture
async def served(dev_client: Client, settings: Settings) -> AsyncIterator[tuple[str, io.StringIO]]:
    """The API on a free port, logging through the service's own (redacting) configuration."""
    port = free_port()
    settings.public_base_url = f"http://127.0.0.1:{port}"
    logs = io.StringIO()
    saved = logging.getLogger().handlers[:], logging.getLogger().level
    configure_logging("INFO", stream=logs)
    observed = DeclaredRefusals(create_app(settings, temporal=dev_client))
    async with serving_on(observed, port):
        yield settings.public_base_url, logs
    observed.assert_declared()
    logging.getLogger().handlers[:], _ = saved
    logging.getLogger().setLevel(saved[1])


async def find_flows(client: Client, query: str) -> list[str]:
    """Workflow IDs matching a visibility query (eventually consistent: poll a little)."""
    found: list[str] = []
    for _ in range(100):
        found = [wf.id async for wf in client.list_workflows(query)]
        if found:
            break
        await asyncio.sleep(0.05)
    return found


async def until_status(http: httpx.AsyncClient, link: str, status: str) -> dict[str, Any]:
    state: dict[str, Any] = {}
    for _ in range(200):
        state = (await http.get(link)).json()
        if state["status"] == status:
            break
        await asyncio.sleep(0.05)
    assert state["status"] == status, state
    return state


async def test_start_mail_link_confirm_verified_and_findable_in_temporal(
    served: tuple[str, io.StringIO], dev_client: Client, smtp: MailSink
) -> None:
    base, logs = served
    auth = {"Authorization": "Bearer test-api-key-of-16-chars"}
    async with httpx.AsyncClient(base_url=base) as http:
        assert (await http.get("/ready")).json() == {
            "status": "ok",
            "database": "ok",
            "temporal": "ok",
        }
        started = await http.post(
            "/v1/email-verifications",
            headers=auth,
            json={"email": "grace@example.com", "business_id": "biz-42"},
        )
        assert started.status_code == 202
        flow_id = started.json()["id"]

        (mail,) = await smtp.wait_for(1, to="grace@example.com")
        token = token_in(mail)
        link = f"{base}/verify-email?token={token}"
        page = await http.get(link)  # the link as the recipient opens it
        assert page.status_code == 200 and token in page.text, (token, page.text)
        assert (await http.get(f"/v1/email-verifications/{flow_id}", headers=auth)).json()[
            "status"
        ] == "pending"

        clicked = await http.post("/verify-email", data={"token": token})  # the button
        assert clicked.status_code == 303  # post/redirect/get: the link's page says it
        assert "confirmed" in (await http.get(clicked.headers["location"])).text
        status = await http.get(f"/v1/email-verifications/{flow_id}", headers=auth)
        assert status.json()["status"] == "verified"

    handle = dev_client.get_workflow_handle(flow_id)
    await handle.result()
    query = (
        'ActivationFlow = "email-verification" AND ActivationStatus = "verified" '
        'AND BusinessId = "biz-42"'
    )
    found = await find_flows(dev_client, query)
    assert found == [flow_id]
    description = await handle.describe()
    assert await description.static_summary() == "Email verification (signup) for g***@example.com"

    logged = logs.getvalue()
    assert "/verify-email?token=[redacted]" in logged  # the access log ran, and was redacted
    assert token not in logged and token.split(".")[1] not in logged


async def test_order_to_activated_instances_through_http_and_mail(
    served: tuple[str, io.StringIO], dev_client: Client, smtp: MailSink
) -> None:
    base, logs = served
    auth = {"Authorization": "Bearer test-api-key-of-16-chars"}
    items = [SERVICE, ADDON, CREDITS]
    async with httpx.AsyncClient(base_url=base) as http:
        ordered = await http.post("/v1/orders", headers=auth, json=order_body(items))
        assert ordered.status_code == 201
        activation_id = ordered.json()["id"]

        (link_mail,) = await smtp.wait_for(1, to="buyer@acme.example")
        code = code_in(link_mail)
        link = text_of(link_mail).split("Activate Now:")[1].split()[0]
        assert link == f"{base}/activate/{code}"
        landing = await http.get(link)  # the customer's page: the code moves into a cookie
        assert landing.status_code == 303 and landing.headers["location"] == "/activate"
        link = f"{base}/v1/activations/{code}"  # the same code, as an integrator uses it
        shown = await http.get(link)
        assert shown.status_code == 200 and shown.json()["status"] == "awaiting_account"

        signup = await http.post(f"{link}/account", json={"email": "it@acme.example"})
        assert signup.status_code == 202
        verify = token_in((await smtp.wait_for(1, to="it@acme.example"))[0])
        clicked = await http.post("/verify-email", data={"token": verify})
        assert clicked.status_code == 303

        await until_status(http, link, "awaiting_agreements")
        agreements = [
            {"id": a["id"], "version": a["version"]} for a in shown.json()["required_agreements"]
        ]
        accepted = await http.post(f"{link}/agreements", json={"agreements": agreements})
        assert accepted.status_code == 200

        state = await until_status(http, link, "activated")
        business_id = state["business_id"]
        instances = (await http.get(f"/v1/businesses/{business_id}/instances", headers=auth)).json()
        assert [
            (i["product_code"], [a["product_code"] for a in i["addons"]]) for i in instances
        ] == [("endpoint-protection", ["edr-addon"])]
        business = (await http.get(f"/v1/businesses/{business_id}", headers=auth)).json()
        assert business["name"] == "Acme Corp" and business["credit_balance"] == 1000

    await smtp.wait_for(2, to="it@acme.example")  # the verification, then the confirmation
    query = (
        f'ActivationFlow = "license-activation" AND ActivationStatus = "activated" '
        f'AND BusinessId = "{business_id}"'
    )
    found = await find_flows(dev_client, query)
    assert found == [activation_id]
    summary = await (
        await dev_client.get_workflow_handle(activation_id).describe()
    ).static_summary()
    assert summary == (
        f"License activation of order {ordered.json()['order_id'][:8]} for Acme Corp "
        "(b***@acme.example): edr-addon, endpoint-protection, xdr-credits"
    )
    logged = logs.getvalue()
    assert "/v1/activations/[redacted]" in logged  # the access log ran, and was redacted
    assert "/activate/[redacted]" in logged
    assert code not in logged and code.split(".")[1] not in logged


async def test_enrollment_token_registers_an_instance_through_http(
    served: tuple[str, io.StringIO], dev_client: Client, app_sessions: Sessions
) -> None:
    base, logs = served
    business_id, account_id, (site,) = await existing_business(app_sessions, 1)
    owner = {"Authorization": "Bearer test-api-key-of-16-chars", "X-Acting-Account": account_id}
    async with httpx.AsyncClient(base_url=base) as http:
        created = await http.post(
            f"/v1/businesses/{business_id}/enrollment-tokens",
            headers=owner,
            json={"instance_type": "endpoint-protection", "description": "Taipei office"},
        )
        assert created.status_code == 201
        token = created.json()["token"]
        registered = await http.post(
            "/v1/registrations", json={"token": token, "instance_id": site}
        )
        assert registered.status_code == 200
        instances = (
            await http.get(f"/v1/businesses/{business_id}/instances", headers=owner)
        ).json()
        assert [(i["registration_status"], i["description"]) for i in instances] == [
            ("registered", "Taipei office")
        ]
    query = (
        f'ActivationFlow = "product-registration" AND ActivationStatus = "used" '
        f'AND BusinessId = "{business_id}"'
    )
    assert await find_flows(dev_client, query) == [f"product-registration-{created.json()['id']}"]
    assert token not in logs.getvalue() and token.split(".")[1] not in logs.getvalue()


async def test_invite_activate_then_transfer_ownership_through_http_and_mail(
    served: tuple[str, io.StringIO], dev_client: Client, smtp: MailSink, app_sessions: Sessions
) -> None:
    """The primary invites a user, the user activates from the mail; the primary offers the
    ownership, the user accepts from the mail; both are told, and the flows are findable."""
    base, logs = served
    business_id, owner_id, (site,) = await existing_business(app_sessions, 1)
    owner = {"Authorization": "Bearer test-api-key-of-16-chars", "X-Acting-Account": owner_id}
    async with httpx.AsyncClient(base_url=base) as http:
        invited = await http.post(
            f"/v1/businesses/{business_id}/local-accounts",
            headers=owner,
            json={"email": "grace@acme.example", "instance_id": site, "locale": "zh-TW"},
        )
        assert invited.status_code == 202, invited.text
        account_id = invited.json()["account_id"]
        (invitation,) = await smtp.wait_for(1, to="grace@acme.example")
        assert "Acme Corp" in str(invitation["Subject"]) or "帳號" in text_of(invitation)
        invitation_link = text_of(invitation).split("啟用您的帳號：\n")[1].split()[0]
        assert invitation_link.startswith(f"{base}/activate-account?token=")
        page = await http.get(invitation_link)  # in the invitation's language
        assert page.status_code == 200 and text("zh-TW", "invite.button") in page.text
        activated = await http.post(
            "/activate-account", data={"token": token_in(invitation), "action": "activate"}
        )
        assert activated.status_code == 303  # post/redirect/get
        shown = await http.get(activated.headers["location"])
        assert text("zh-TW", "invite.done.title") in shown.text
        again = await http.post(  # pressed again: the page says what the first press did
            "/activate-account", data={"token": token_in(invitation), "action": "activate"}
        )
        shown = await http.get(again.headers["location"])
        assert shown.status_code == 200 and text("zh-TW", "invite.done.title") in shown.text

        offered = await http.post(
            f"/v1/businesses/{business_id}/ownership-transfers",
            headers=owner,
            json={"target_account_id": account_id},
        )
        assert offered.status_code == 202, offered.text
        transfer_id = offered.json()["id"]
        _, request = await smtp.wait_for(2, to="grace@acme.example")
        accepted = await http.post(
            "/v1/ownership-transfers/accept", json={"token": token_in(request)}
        )
        assert accepted.status_code == 200 and accepted.json()["status"] == "accepted"
        listed = (await http.get(f"/v1/businesses/{business_id}/accounts", headers=owner)).json()
        assert [(a["id"], a["kind"], a["instance_id"]) for a in listed] == [
            (account_id, "primary", None),
            (owner_id, "local", site),
        ]
    await smtp.wait_for(3, to="grace@acme.example")  # invitation, offer, "you are the owner"
    await smtp.wait_for(1, to="owner@acme.example")  # "Acme Corp has a new owner"

    local_query = (
        f'ActivationFlow = "local-account-activation" AND ActivationStatus = "active" '
        f'AND BusinessId = "{business_id}"'
    )
    assert len(await find_flows(dev_client, local_query)) == 1
    transfer_query = (
        f'ActivationFlow = "ownership-transfer" AND ActivationStatus = "accepted" '
        f'AND BusinessId = "{business_id}"'
    )
    assert await find_flows(dev_client, transfer_query) == [f"ownership-transfer-{transfer_id}"]
    handle = dev_client.get_workflow_handle(f"ownership-transfer-{transfer_id}")
    summary = await (await handle.describe()).static_summary()
    assert summary == (
        f"Ownership transfer {transfer_id[:8]}: primary account {owner_id[:8]} "
        f"→ local account {account_id[:8]}"
    )
    logged = logs.getvalue()
    assert "token=[redacted]" in logged  # the access log ran, and was redacted
    for token in (token_in(invitation), token_in(request)):
        assert token not in logged and token.split(".")[1] not in logged
