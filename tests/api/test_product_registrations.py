"""The product-registration API over HTTP semantics, on the time-skipping server with the real
worker and database: tokens shown once, listed without secrets, revoked; registration errors."""

from __future__ import annotations

from collections.abc import Awaitable
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.ext.asyncio import async_sessionmaker
from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment

from models.contracts.product_registration import flow_id_of
from tests.support.activations import existing_business
from tests.support.api import AUTH
from tests.support.temporal import STARTED_FLOWS

pytestmark = pytest.mark.asyncio
Sessions = async_sessionmaker[AsyncSession]
Issue = Callable[..., Awaitable[dict[str, Any]]]


@pytest.fixture
async def owner(app_sessions: Sessions) -> tuple[str, dict[str, str], list[str]]:
    """A Business with two instances, and the headers of its primary account's portal session."""
    business_id, account_id, sites = await existing_business(app_sessions, 2)
    return business_id, {**AUTH, "X-Acting-Account": account_id}, sites


@pytest.fixture
def issue(
    api: httpx.AsyncClient, time_client: Client, owner: tuple[str, dict[str, str], list[str]]
) -> Issue:
    business_id, headers, _ = owner

    async def create(**body: Any) -> dict[str, Any]:
        response = await api.post(
            f"/v1/businesses/{business_id}/enrollment-tokens",
            json={"instance_type": "endpoint-protection", "description": "Lab"} | body,
            headers=headers,
        )
        assert response.status_code == 201, response.text
        created: dict[str, Any] = response.json()
        STARTED_FLOWS.append(time_client.get_workflow_handle(flow_id_of(created["id"])))
        return created

    return create


async def test_a_token_is_shown_once_listed_without_it_and_registers_an_instance(
    api: httpx.AsyncClient, issue: Issue, owner: tuple[str, dict[str, str], list[str]]
) -> None:
    business_id, headers, (site, _) = owner
    created = await issue(description="Branch office appliances")
    token = created["token"]
    assert token.startswith(created["id"] + ".") and created["status"] == "active"
    assert created["max_uses"] == 1 and created["uses"] == 0
    listed = (
        await api.get(f"/v1/businesses/{business_id}/enrollment-tokens", headers=headers)
    ).json()
    assert [t["id"] for t in listed] == [created["id"]]
    assert "token" not in listed[0] and token.split(".")[1] not in str(listed)

    registered = await api.post("/v1/registrations", json={"token": token, "instance_id": site})
    assert registered.status_code == 200, registered.text
    assert registered.json()["registration_status"] == "registered"
    again = await api.post("/v1/registrations", json={"token": token, "instance_id": site})
    assert again.status_code == 200  # idempotent, even though the token is used up now
    instances = (await api.get(f"/v1/businesses/{business_id}/instances", headers=AUTH)).json()
    shown = next(i for i in instances if i["id"] == site)
    assert shown["registration_status"] == "registered"
    assert shown["description"] == "Branch office appliances"
    # Used from the moment the registration answered (the flow records it as it closes).
    listed = (
        await api.get(f"/v1/businesses/{business_id}/enrollment-tokens", headers=headers)
    ).json()
    assert listed[0]["status"] == "used" and listed[0]["uses"] == 1


async def test_used_expired_revoked_and_unknown_tokens_have_their_own_codes(
    api: httpx.AsyncClient,
    time_env: WorkflowEnvironment,
    issue: Issue,
    owner: tuple[str, dict[str, str], list[str]],
) -> None:
    business_id, headers, (site_1, site_2) = owner
    used = await issue()
    await api.post("/v1/registrations", json={"token": used["token"], "instance_id": site_1})
    refused = await api.post(
        "/v1/registrations", json={"token": used["token"], "instance_id": site_2}
    )
    assert refused.status_code == 409 and refused.json()["code"] == "enrollment_token_used"

    revoked = await issue()
    path = f"/v1/businesses/{business_id}/enrollment-tokens/{revoked['id']}"
    response = await api.delete(path, headers=headers)
    assert response.status_code == 200 and response.json()["status"] == "revoked"
    assert (await api.delete(path, headers=headers)).status_code == 409
    refused = await api.post(
        "/v1/registrations", json={"token": revoked["token"], "instance_id": site_2}
    )
    assert refused.status_code == 410 and refused.json()["code"] == "enrollment_token_revoked"

    short = await issue(expires_in=600)
    await time_env.sleep(timedelta(minutes=11))
    refused = await api.post(
        "/v1/registrations", json={"token": short["token"], "instance_id": site_2}
    )
    assert refused.status_code == 410 and refused.json()["code"] == "enrollment_token_expired"
    listed = (
        await api.get(f"/v1/businesses/{business_id}/enrollment-tokens", headers=headers)
    ).json()
    assert {t["id"]: t["status"] for t in listed}[short["id"]] == "expired"

    for unknown in ("b" * 24 + "." + "c" * 43, "garbage", short["token"][:-1] + "x"):
        refused = await api.post(
            "/v1/registrations", json={"token": unknown, "instance_id": site_2}
        )
        assert refused.status_code == 400 and refused.json()["code"] == "enrollment_token_invalid"
        assert unknown not in refused.text


async def test_mismatched_instances_are_refused(
    api: httpx.AsyncClient,
    issue: Issue,
    app_sessions: Sessions,
    owner: tuple[str, dict[str, str], list[str]],
) -> None:
    _, _, (site, _) = owner
    _, _, (foreign,) = await existing_business(app_sessions, 1, email="other@else.example")
    token = (await issue())["token"]
    other_business = await api.post(
        "/v1/registrations", json={"token": token, "instance_id": foreign}
    )
    assert other_business.status_code == 403
    assert other_business.json()["code"] == "enrollment_token_business_mismatch"
    missing = await api.post(
        "/v1/registrations",
        json={"token": token, "instance_id": "00000000-0000-0000-0000-000000000000"},
    )
    assert missing.status_code == 404 and missing.json()["code"] == "instance_not_found"
    # Only service products run as instances: a token for anything else is refused up front.
    wrong_type = await api.post(
        f"/v1/businesses/{owner[0]}/enrollment-tokens",
        json={"instance_type": "xdr-credits", "description": "x"},
        headers=owner[1],
    )
    assert wrong_type.status_code == 422 and wrong_type.json()["code"] == "unknown_instance_type"
    ok = await api.post("/v1/registrations", json={"token": token, "instance_id": site})
    assert ok.status_code == 200


async def test_only_the_primary_account_manages_tokens(
    api: httpx.AsyncClient, app_sessions: Sessions, owner: tuple[str, dict[str, str], list[str]]
) -> None:
    business_id, headers, _ = owner
    _, stranger, _ = await existing_business(app_sessions, 0, email="stranger@else.example")
    path = f"/v1/businesses/{business_id}/enrollment-tokens"
    body = {"instance_type": "endpoint-protection", "description": "Lab"}
    for acting in ({}, {"X-Acting-Account": stranger}, {"X-Acting-Account": "nobody"}):
        response = await api.post(path, json=body, headers={**AUTH, **acting})
        assert response.status_code == 403 and response.json()["code"] == "not_primary_account"
        listed = await api.get(path, headers={**AUTH, **acting})
        assert listed.status_code == 403
    assert (await api.post(path, json=body, headers={"X-Acting-Account": "x"})).status_code == 401
    missing = "00000000-0000-0000-0000-000000000000"
    response = await api.get(f"/v1/businesses/{missing}/enrollment-tokens", headers=headers)
    assert response.status_code == 404


@pytest.mark.parametrize(
    "body",
    [
        {"description": "no type"},
        {"instance_type": "endpoint-protection"},
        {"instance_type": "endpoint-protection", "description": ""},
        {"instance_type": "endpoint-protection", "description": "x", "expires_in": 10},
        {"instance_type": "endpoint-protection", "description": "x", "expires_in": 10**9},
        {"instance_type": "endpoint-protection", "description": "x", "max_uses": 0},
        {"instance_type": "Endpoint Protection", "description": "x"},
        {"instance_type": "endpoint-protection", "description": "x", "extra": 1},
    ],
)
async def test_bad_token_requests_are_422(
    api: httpx.AsyncClient, owner: tuple[str, dict[str, str], list[str]], body: dict[str, Any]
) -> None:
    business_id, headers, _ = owner
    path = f"/v1/businesses/{business_id}/enrollment-tokens"
    response = await api.post(path, json=body, headers=headers)
    assert response.status_code == 422 and response.json()["code"] == "invalid_request"
    assert (await api.get(path, headers=headers)).json() == []


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"token": "x"},
        {"instance_id": "00000000-0000-0000-0000-000000000000"},
        {"token": "x", "instance_id": "../x"},
    ],
)
async def test_bad_registration_bodies_are_422(
    api: httpx.AsyncClient, body: dict[str, Any]
) -> None:
    response = await api.post("/v1/registrations", json=body)
    assert response.status_code == 422 and response.json()["code"] == "invalid_request"


async def test_an_instance_can_be_unregistered_and_register_again(
    api: httpx.AsyncClient, issue: Issue, owner: tuple[str, dict[str, str], list[str]]
) -> None:
    business_id, headers, (site, _) = owner
    first = await issue()
    await api.post("/v1/registrations", json={"token": first["token"], "instance_id": site})
    path = f"/v1/businesses/{business_id}/instances/{site}/registration"
    assert (await api.delete(path, headers=AUTH)).status_code == 403  # the primary only
    gone = await api.delete(path, headers=headers)
    assert gone.status_code == 200 and gone.json()["registration_status"] == "unregistered"
    assert (await api.delete(path, headers=headers)).status_code == 200  # idempotent
    second = await issue()
    again = await api.post(
        "/v1/registrations", json={"token": second["token"], "instance_id": site}
    )
    assert again.json()["enrollment_token_id"] == second["id"]
