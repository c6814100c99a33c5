"""The accounts API over HTTP semantics, on the time-skipping server with the real worker, SMTP
and database: invitations and activation, the limit (also under concurrent requests on
PostgreSQL), lapse, the account list, and a primary account that cannot be changed."""

from __future__ import annotations

import asyncio
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

from activities.local_accounts import local_accounts_held
from api.flow_clients.local_accounts import invitation_flow_id
from core.settings import Settings
from tests.support.accounts import add_local_accounts
from tests.support.activations import existing_business
from tests.support.api import AUTH
from tests.support.mail import MailSink
from tests.support.mail import token_in
from tests.support.temporal import STARTED_FLOWS

pytestmark = pytest.mark.asyncio
Sessions = async_sessionmaker[AsyncSession]
Owner = tuple[str, dict[str, str], list[str]]


@pytest.fixture
async def owner(app_sessions: Sessions) -> Owner:
    """A Business with two instances, and the headers of its primary account's portal session."""
    business_id, account_id, sites = await existing_business(app_sessions, 2)
    return business_id, {**AUTH, "X-Acting-Account": account_id}, sites


Invite = Callable[..., Awaitable[httpx.Response]]


@pytest.fixture
def invite(api: httpx.AsyncClient, time_client: Client, settings: Settings, owner: Owner) -> Invite:
    """POST an invitation as the primary (to the first instance unless told otherwise)."""
    business_id, headers, (site, _) = owner

    async def post(email: str = "grace@acme.example", **body: str) -> httpx.Response:
        payload = {"email": email, "instance_id": site, "display_name": "Grace"} | body
        response = await api.post(
            f"/v1/businesses/{business_id}/local-accounts", json=payload, headers=headers
        )
        if response.status_code == 202:  # ended after the test, not left to hold the clock
            flow_id = invitation_flow_id(
                settings.secret_key, business_id, payload["instance_id"], email
            )
            STARTED_FLOWS.append(time_client.get_workflow_handle(flow_id))
        return response

    return post


async def accounts(api: httpx.AsyncClient, business_id: str) -> list[dict[str, Any]]:
    response = await api.get(f"/v1/businesses/{business_id}/accounts", headers=AUTH)
    assert response.status_code == 200, response.text
    listed: list[dict[str, Any]] = response.json()
    return listed


async def test_an_invited_user_activates_the_account_with_the_emailed_link(
    api: httpx.AsyncClient,
    owner: Owner,
    smtp: MailSink,
    invite: Invite,
) -> None:
    business_id, _, (site, _) = owner
    response = await invite()
    assert response.status_code == 202, response.text
    invitation = response.json()
    assert invitation["status"] == "pending" and invitation["instance_id"] == site
    (mail,) = await smtp.wait_for(1, to="grace@acme.example")
    token = token_in(mail)

    page = await api.get(f"/activate-account?token={token}")  # a mail scanner's prefetch
    assert page.status_code == 200 and "Activate" in page.text
    assert page.headers["cache-control"] == "no-store"
    listed = await accounts(api, business_id)
    assert [(a["kind"], a["status"]) for a in listed] == [
        ("primary", "active"),
        ("local", "pending"),
    ]

    activated = await api.post("/v1/local-accounts/activate", json={"token": token})
    assert activated.status_code == 200, activated.text
    assert activated.json()["status"] == "active"
    listed = await accounts(api, business_id)
    local = listed[1]
    assert (local["id"], local["status"], local["instance_id"]) == (
        invitation["account_id"],
        "active",
        site,
    )
    assert local["email"] == "grace@acme.example" and local["activated_at"]
    again = await api.post("/v1/local-accounts/activate", json={"token": token})
    assert (again.status_code, again.json()["code"]) == (409, "local_account_already_active")
    used = await api.get(f"/activate-account?token={token}")  # the link again: says it is done
    assert used.status_code == 200 and "Your account is active" in used.text


async def test_the_activation_page_activates_with_a_plain_form_post(
    api: httpx.AsyncClient,
    owner: Owner,
    smtp: MailSink,
    invite: Invite,
) -> None:
    business_id, _, _ = owner
    assert (await invite()).status_code == 202
    token = token_in((await smtp.wait_for(1))[0])
    pressed = await api.post("/activate-account", data={"token": token, "action": "activate"})
    assert pressed.status_code == 303  # post/redirect/get: the link's page says what happened
    page = await api.get(pressed.headers["location"])
    assert page.status_code == 200 and "Your account is active" in page.text
    assert (await accounts(api, business_id))[1]["status"] == "active"
    wrong = await api.post("/activate-account", data={"token": "nonsense"})
    page = await api.get(wrong.headers["location"])
    assert page.status_code == 400 and "This link does not work" in page.text


async def test_a_repeated_invitation_returns_the_pending_one(
    api: httpx.AsyncClient,
    owner: Owner,
    smtp: MailSink,
    invite: Invite,
) -> None:
    first = (await invite()).json()
    again = await invite("GRACE@acme.example")
    assert again.status_code == 202 and again.json()["account_id"] == first["account_id"]
    await smtp.wait_for(1)
    await asyncio.sleep(0.2)
    assert len(smtp.messages()) == 1


async def test_the_fifty_first_local_account_is_refused(
    api: httpx.AsyncClient,
    owner: Owner,
    smtp: MailSink,
    app_sessions: Sessions,
    invite: Invite,
) -> None:
    business_id, _, (site, other_site) = owner
    await add_local_accounts(app_sessions, business_id, site, 25)
    await add_local_accounts(app_sessions, business_id, other_site, 25, status="pending")
    response = await invite()
    assert (response.status_code, response.json()["code"]) == (409, "local_account_limit_reached")
    assert "50" in response.json()["message"]
    assert smtp.messages() == []


@pytest.fixture
def on_postgres(settings: Settings, pg_url: str) -> None:
    """Run the API and worker of this test on PostgreSQL (requested before them)."""
    settings.database_url = pg_url


async def test_concurrent_invitations_do_not_pass_the_limit_on_postgresql(
    on_postgres: None,
    api: httpx.AsyncClient,
    owner: Owner,
    app_sessions: Sessions,
    invite: Invite,
) -> None:
    assert app_sessions.kw["bind"].dialect.name == "postgresql"
    business_id, _, (site, _) = owner
    await add_local_accounts(app_sessions, business_id, site, 47)
    responses = await asyncio.gather(*(invite(f"racer{n}@acme.example") for n in range(8)))
    codes = sorted(r.status_code for r in responses)
    assert codes == [202] * 3 + [409] * 5, [r.text for r in responses]
    assert {r.json()["code"] for r in responses if r.status_code == 409} == {
        "local_account_limit_reached"
    }
    async with app_sessions() as session:
        assert await local_accounts_held(session, business_id) == 50


async def test_a_lapsed_invitation_is_refused_and_frees_its_place(
    api: httpx.AsyncClient,
    time_env: WorkflowEnvironment,
    owner: Owner,
    smtp: MailSink,
    app_sessions: Sessions,
    invite: Invite,
) -> None:
    business_id, _, _ = owner
    assert (await invite()).status_code == 202
    (mail,) = await smtp.wait_for(1)
    await time_env.sleep(timedelta(days=7, minutes=1))
    await smtp.wait_for(2)  # the reminder went out on day 6
    response = await api.post("/v1/local-accounts/activate", json={"token": token_in(mail)})
    assert (response.status_code, response.json()["code"]) == (410, "invitation_lapsed")
    assert (await accounts(api, business_id))[1]["status"] == "lapsed"
    async with app_sessions() as session:
        assert await local_accounts_held(session, business_id) == 0
    assert (await invite()).status_code == 202  # invited again: a new account


async def test_the_primary_account_cannot_be_edited_disabled_or_deleted(
    api: httpx.AsyncClient, owner: Owner
) -> None:
    business_id, headers, _ = owner
    primary_id = headers["X-Acting-Account"]
    url = f"/v1/businesses/{business_id}/accounts/{primary_id}"
    for response in (
        await api.patch(url, json={"display_name": "New name"}, headers=headers),
        await api.patch(url, json={"status": "disabled"}, headers=headers),
        await api.delete(url, headers=headers),
    ):
        assert (response.status_code, response.json()["code"]) == (
            409,
            "primary_account_immutable",
        )
    listed = await accounts(api, business_id)
    assert (listed[0]["kind"], listed[0]["status"], listed[0]["display_name"]) == (
        "primary",
        "active",
        None,
    )


async def test_the_primary_renames_disables_and_removes_local_accounts(
    api: httpx.AsyncClient,
    owner: Owner,
    smtp: MailSink,
    app_sessions: Sessions,
    invite: Invite,
) -> None:
    business_id, headers, (site, _) = owner
    (active_id,) = await add_local_accounts(app_sessions, business_id, site, 1)
    url = f"/v1/businesses/{business_id}/accounts/{active_id}"
    renamed = await api.patch(url, json={"display_name": "Ada"}, headers=headers)
    assert renamed.status_code == 200 and renamed.json()["display_name"] == "Ada"
    disabled = await api.patch(url, json={"status": "disabled"}, headers=headers)
    assert disabled.json()["status"] == "disabled"
    assert (await api.patch(url, json={"status": "active"}, headers=headers)).json()[
        "status"
    ] == "active"
    removed = await api.delete(url, headers=headers)
    assert removed.status_code == 200 and removed.json()["status"] == "removed"
    assert (await api.delete(url, headers=headers)).status_code == 200  # idempotent
    closed = await api.patch(url, json={"display_name": "Back"}, headers=headers)
    assert (closed.status_code, closed.json()["code"]) == (409, "account_closed")

    # A pending invitation is withdrawn through its flow: its link stops working.
    pending = (await invite()).json()
    (mail,) = await smtp.wait_for(1)
    pending_url = f"/v1/businesses/{business_id}/accounts/{pending['account_id']}"
    not_yet = await api.patch(pending_url, json={"status": "disabled"}, headers=headers)
    assert (not_yet.status_code, not_yet.json()["code"]) == (409, "account_pending")
    withdrawn = await api.delete(pending_url, headers=headers)
    assert withdrawn.status_code == 200 and withdrawn.json()["status"] == "removed"
    response = await api.post("/v1/local-accounts/activate", json={"token": token_in(mail)})
    assert (response.status_code, response.json()["code"]) == (410, "invitation_cancelled")
    async with app_sessions() as session:
        assert await local_accounts_held(session, business_id) == 0


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ({"email": "not-an-address"}, 422, "invalid_request"),
        ({"instance_id": "x"}, 422, "invalid_request"),
        ({"instance_id": "00000000-0000-0000-0000-000000000000"}, 404, "instance_not_found"),
        ({"locale": "fr"}, 422, "invalid_request"),
        ({"display_name": ""}, 422, "invalid_request"),
        ({"role": "admin"}, 422, "invalid_request"),
    ],
)
async def test_bad_invitations_are_refused_with_a_clear_code(
    api: httpx.AsyncClient,
    owner: Owner,
    smtp: MailSink,
    body: dict[str, str],
    status: int,
    code: str,
    invite: Invite,
) -> None:
    response = await invite(**body)
    assert (response.status_code, response.json()["code"]) == (status, code)
    assert smtp.messages() == []


async def test_only_the_primary_may_invite_and_only_to_its_own_instances(
    api: httpx.AsyncClient,
    owner: Owner,
    app_sessions: Sessions,
    invite: Invite,
) -> None:
    business_id, headers, (site, _) = owner
    (local_id,) = await add_local_accounts(app_sessions, business_id, site, 1)
    _, _, (foreign_site,) = await existing_business(app_sessions, 1, email="boss@else.example")
    as_local = await api.post(
        f"/v1/businesses/{business_id}/local-accounts",
        json={"email": "x@acme.example", "instance_id": site},
        headers={**AUTH, "X-Acting-Account": local_id},
    )
    assert (as_local.status_code, as_local.json()["code"]) == (403, "not_primary_account")
    foreign = await invite(instance_id=foreign_site)
    assert (foreign.status_code, foreign.json()["code"]) == (404, "instance_not_found")
    no_key = await api.post(
        f"/v1/businesses/{business_id}/local-accounts",
        json={"email": "x@acme.example", "instance_id": site},
    )
    assert no_key.status_code == 401
    unknown = await api.get(
        "/v1/businesses/00000000-0000-0000-0000-000000000000/accounts", headers=AUTH
    )
    assert (unknown.status_code, unknown.json()["code"]) == (404, "business_not_found")


@pytest.mark.parametrize(
    "token",
    ["", "x" * 201, "no-dot", "abcdefghijklmnopqrstuvwx.short", "a" * 24 + "." + "s" * 43],
)
async def test_bad_activation_tokens_are_refused(api: httpx.AsyncClient, token: str) -> None:
    response = await api.post("/v1/local-accounts/activate", json={"token": token})
    assert response.status_code in (400, 422)
    assert token not in response.text or not token


@pytest.mark.parametrize(
    "body",
    [{}, {"status": "lapsed"}, {"status": "removed"}, {"display_name": ""}, {"kind": "primary"}],
)
async def test_bad_account_changes_are_422_and_change_nothing(
    api: httpx.AsyncClient, owner: Owner, app_sessions: Sessions, body: dict[str, str]
) -> None:
    business_id, headers, (site, _) = owner
    (account_id,) = await add_local_accounts(app_sessions, business_id, site, 1)
    url = f"/v1/businesses/{business_id}/accounts/{account_id}"
    response = await api.patch(url, json=body, headers=headers)
    assert (response.status_code, response.json()["code"]) == (422, "invalid_request")
    without_acting = await api.patch(url, json={"display_name": "X"}, headers=AUTH)
    assert (without_acting.status_code, without_acting.json()["code"]) == (
        403,
        "not_primary_account",
    )
    unknown = await api.delete(
        f"/v1/businesses/{business_id}/accounts/00000000-0000-0000-0000-000000000000",
        headers=headers,
    )
    assert (unknown.status_code, unknown.json()["code"]) == (404, "account_not_found")
    listed = await accounts(api, business_id)
    assert (listed[1]["status"], listed[1]["display_name"]) == ("active", None)
