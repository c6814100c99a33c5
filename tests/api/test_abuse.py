"""Hardening against abuse (as an attacker would try it): header injection through free text,
mail bombing one address, a second primary account by letter case, racing one registration,
a Temporal server that is not there."""

from __future__ import annotations

import asyncio

import httpx
import pytest
from sqlalchemy import func
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.ext.asyncio import async_sessionmaker
from temporalio.client import Client
from temporalio.client import WorkflowUpdateRPCTimeoutOrCancelledError
from temporalio.service import RPCError
from temporalio.service import RPCStatusCode

from api.app import create_app
from core.settings import Settings
from models.contracts.product_registration import flow_id_of
from models.records.domain import Business
from tests.support.activations import SERVICE
from tests.support.activations import existing_business
from tests.support.activations import order_body
from tests.support.api import AUTH
from tests.support.declared_refusals import DeclaredRefusals
from tests.support.mail import MailSink
from tests.support.mail import code_in
from tests.support.mail import token_in
from tests.support.net import free_port
from tests.support.temporal import STARTED_FLOWS

pytestmark = pytest.mark.asyncio
Sessions = async_sessionmaker[AsyncSession]
UNSAFE = ["Acme\nX: 1", "Acme\r\nBcc: x@evil.example", "Acme\u2028X", "Acme\x85X", "Acme\x0bX",
          "Acme\x00", "Acme\u202eX"]  # fmt: skip


@pytest.mark.parametrize("company_name", UNSAFE)
async def test_control_characters_in_a_company_name_are_422_naming_the_field(
    api: httpx.AsyncClient, smtp: MailSink, company_name: str
) -> None:
    body = order_body([SERVICE], company_name=company_name)
    response = await api.post("/v1/orders", json=body, headers=AUTH)
    assert response.status_code == 422, response.text
    assert response.json()["details"][0]["loc"] == ["body", "company_name"]
    assert smtp.messages() == []


async def test_control_characters_in_names_and_descriptions_are_422(
    api: httpx.AsyncClient, app_sessions: Sessions
) -> None:
    business_id, account_id, (site,) = await existing_business(app_sessions, 1)
    headers = AUTH | {"X-Acting-Account": account_id}
    for path, body, field in [
        (
            f"/v1/businesses/{business_id}/local-accounts",
            {"email": "it@acme.example", "instance_id": site, "display_name": "IT\nX: y"},
            "display_name",
        ),
        (
            f"/v1/businesses/{business_id}/enrollment-tokens",
            {"instance_type": "endpoint-protection", "description": "Lab\r\n"},
            "description",
        ),
    ]:
        response = await api.post(path, json=body, headers=headers)
        assert response.status_code == 422, response.text
        assert response.json()["details"][0]["loc"] == ["body", field]


async def test_only_configured_purposes_are_accepted(api: httpx.AsyncClient) -> None:
    for purpose in ("purpose-1", "activation"):  # "activation" is the activation flow's own
        body = {"email": "ada@example.com", "purpose": purpose}
        response = await api.post("/v1/email-verifications", json=body, headers=AUTH)
        assert response.status_code == 422
        assert response.json()["details"][0]["loc"] == ["body", "purpose"]


async def test_one_address_gets_no_more_than_the_hourly_limit_across_flows(
    api: httpx.AsyncClient, time_client: Client, settings: Settings, smtp: MailSink
) -> None:
    settings.mail_per_address_per_hour = 3
    victim = "victim@x.com"
    # Start and cancel, then orders without a reference: each would mail the same address.
    started = await api.post("/v1/email-verifications", json={"email": victim}, headers=AUTH)
    flow_id = started.json()["id"]
    await smtp.wait_for(1, to=victim)
    assert (await api.delete(f"/v1/email-verifications/{flow_id}", headers=AUTH)).status_code == 200
    for expected in (2, 3):
        order = await api.post(
            "/v1/orders", json=order_body([SERVICE], contact_email=victim), headers=AUTH
        )
        assert order.status_code == 201
        STARTED_FLOWS.append(time_client.get_workflow_handle(order.json()["id"]))
        await smtp.wait_for(expected, to=victim)
    refused = [
        await api.post("/v1/email-verifications", json={"email": "Victim@X.com"}, headers=AUTH),
        await api.post(
            "/v1/orders", json=order_body([SERVICE], contact_email=victim), headers=AUTH
        ),
    ]
    for response in refused:
        assert response.status_code == 429, response.text
        assert response.json()["code"] == "mail_rate_limited"
        assert 3500 < int(response.headers["Retry-After"]) <= 3601
    await asyncio.sleep(0.3)
    assert len(smtp.messages(to=victim)) == 3


async def test_an_address_that_owns_a_business_in_any_letter_case_signs_in_not_up_again(
    api: httpx.AsyncClient, time_client: Client, app_sessions: Sessions, smtp: MailSink
) -> None:
    business_id, _, _ = await existing_business(app_sessions, 0, email="grace@acme.example")
    order = await api.post("/v1/orders", json=order_body([SERVICE]), headers=AUTH)
    STARTED_FLOWS.append(time_client.get_workflow_handle(order.json()["id"]))
    code = code_in((await smtp.wait_for(1))[0])
    started = await api.post(
        f"/v1/activations/{code}/account", json={"email": "Grace@ACME.example"}
    )
    assert started.status_code == 202  # as for any address: the mailbox learns the rest
    (proof,) = await smtp.wait_for(1, to="grace@acme.example")
    await api.post("/v1/email-verifications/confirm", json={"token": token_in(proof)})
    for _ in range(200):
        shown = (await api.get(f"/v1/activations/{code}")).json()
        if shown["status"] == "awaiting_agreements":
            break
        await asyncio.sleep(0.05)
    assert shown["business_id"] == business_id  # its own Business: no second one
    async with app_sessions() as session:
        assert await session.scalar(select(func.count()).select_from(Business)) == 1


async def test_concurrent_repeats_of_one_registration_all_answer_200(
    api: httpx.AsyncClient, time_client: Client, app_sessions: Sessions
) -> None:
    business_id, account_id, (site,) = await existing_business(app_sessions, 1)
    created = await api.post(
        f"/v1/businesses/{business_id}/enrollment-tokens",
        json={"instance_type": "endpoint-protection", "description": "Lab"},
        headers=AUTH | {"X-Acting-Account": account_id},
    )
    assert created.status_code == 201, created.text
    STARTED_FLOWS.append(time_client.get_workflow_handle(flow_id_of(created.json()["id"])))
    token = created.json()["token"]
    answers = await asyncio.gather(
        *[
            api.post("/v1/registrations", json={"token": token, "instance_id": site})
            for _ in range(6)
        ]
    )
    assert [a.status_code for a in answers] == [200] * 6, [a.text for a in answers]
    assert {a.json()["registration_status"] for a in answers} == {"registered"}


async def test_a_temporal_server_that_is_not_there_is_a_503(settings: Settings) -> None:
    settings.temporal_address = f"127.0.0.1:{free_port()}"  # nothing listens
    app = create_app(settings)
    observed = DeclaredRefusals(app)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=observed)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            answers = [
                await client.get(
                    "/v1/email-verifications/email-verification-" + "a" * 24, headers=AUTH
                ),
                await client.post(
                    "/v1/email-verifications", json={"email": "a@example.com"}, headers=AUTH
                ),
            ]
    for response in answers:
        assert response.status_code == 503, response.text
        assert response.json()["code"] == "temporal_unavailable"
        assert response.headers["Retry-After"] == "5"
    observed.assert_declared()  # every route says it may answer so


@pytest.mark.parametrize(
    "failure",
    [
        RPCError("transport error", RPCStatusCode.UNKNOWN, b""),
        RPCError("connection reset", RPCStatusCode.UNAVAILABLE, b""),
        RPCError("deadline", RPCStatusCode.DEADLINE_EXCEEDED, b""),
        WorkflowUpdateRPCTimeoutOrCancelledError(),
    ],
    ids=["transport-error", "unavailable", "deadline", "update-timeout"],
)
async def test_every_way_temporal_can_drop_a_call_is_a_503(
    time_client: Client, settings: Settings, failure: Exception
) -> None:
    app = create_app(settings, temporal=time_client)

    @app.get("/v1/fails-like-temporal")
    async def fails() -> None:
        raise failure

    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            response = await client.get("/v1/fails-like-temporal")
    assert response.status_code == 503
    assert response.json()["code"] == "temporal_unavailable"
    assert response.headers["Retry-After"] == "5"
