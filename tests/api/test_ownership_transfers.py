"""The ownership-transfer API over HTTP semantics, on the time-skipping server with the real
worker, SMTP and database: offer, accept (the primary changes hands), decline, cancel, expiry,
one pending transfer per Business, and targets that do not qualify."""

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

from models.contracts.ownership_transfer import flow_id_of
from tests.support.accounts import add_local_account
from tests.support.activations import existing_business
from tests.support.api import AUTH
from tests.support.mail import MailSink
from tests.support.mail import token_in
from tests.support.temporal import STARTED_FLOWS

pytestmark = pytest.mark.asyncio
Sessions = async_sessionmaker[AsyncSession]
OWNER, TARGET = "owner@acme.example", "grace@acme.example"


class Business:
    def __init__(self, business_id: str, owner_id: str, target_id: str, site: str) -> None:
        self.id, self.owner_id, self.target_id, self.site = business_id, owner_id, target_id, site
        self.headers = {**AUTH, "X-Acting-Account": owner_id}
        self.transfers = f"/v1/businesses/{business_id}/ownership-transfers"


Offer = Callable[..., Awaitable[httpx.Response]]


@pytest.fixture
async def business(app_sessions: Sessions) -> Business:
    business_id, owner_id, (site,) = await existing_business(app_sessions, 1, email=OWNER)
    target_id = await add_local_account(app_sessions, business_id, site, TARGET)
    return Business(business_id, owner_id, target_id, site)


@pytest.fixture
def offer(api: httpx.AsyncClient, time_client: Client, business: Business) -> Offer:
    async def post(target_id: str | None = None, **headers: str) -> httpx.Response:
        response = await api.post(
            business.transfers,
            json={"target_account_id": target_id or business.target_id},
            headers=business.headers | headers,
        )
        if response.status_code == 202:  # ended after the test, not left to hold the clock
            STARTED_FLOWS.append(time_client.get_workflow_handle(flow_id_of(response.json()["id"])))
        return response

    return post


async def accounts(api: httpx.AsyncClient, business: Business) -> dict[str, tuple[Any, ...]]:
    listed = (await api.get(f"/v1/businesses/{business.id}/accounts", headers=AUTH)).json()
    return {a["email"]: (a["kind"], a["status"], a["instance_id"]) for a in listed}


def refused(response: httpx.Response) -> tuple[int, str]:
    return response.status_code, response.json()["code"]


async def test_the_target_accepts_and_becomes_the_primary_account(
    api: httpx.AsyncClient, offer: Offer, business: Business, smtp: MailSink
) -> None:
    response = await offer()
    assert response.status_code == 202, response.text
    transfer = response.json()
    assert transfer["status"] == "pending" and transfer["to_account_id"] == business.target_id
    (link,) = await smtp.wait_for(1, to=TARGET)
    token = token_in(link)

    page = await api.get(f"/ownership-transfer?token={token}")  # a mail scanner's prefetch
    assert page.status_code == 200 and "Accept" in page.text and "Decline" in page.text
    shown = await api.get(f"{business.transfers}/{transfer['id']}", headers=AUTH)
    assert shown.json()["status"] == "pending"

    accepted = await api.post("/v1/ownership-transfers/accept", json={"token": token})
    assert accepted.status_code == 200, accepted.text
    assert accepted.json()["status"] == "accepted" and accepted.json()["decided_at"]
    assert await accounts(api, business) == {
        TARGET: ("primary", "active", None),
        OWNER: ("local", "active", business.site),
    }
    summary = (await api.get(f"/v1/businesses/{business.id}", headers=AUTH)).json()
    assert summary["primary_account"] == {"id": business.target_id, "email": TARGET}
    await smtp.wait_for(2, to=TARGET)
    await smtp.wait_for(1, to=OWNER)

    # The old primary is a local account now: owner's actions are refused to it.
    as_old_owner = await offer(business.target_id)
    assert refused(as_old_owner) == (403, "not_primary_account")
    again = await api.post("/v1/ownership-transfers/accept", json={"token": token})
    assert refused(again) == (409, "ownership_transfer_completed")
    listed = (await api.get(business.transfers, headers=AUTH)).json()
    assert [(t["id"], t["status"]) for t in listed] == [(transfer["id"], "accepted")]


async def test_one_pending_transfer_per_business(
    api: httpx.AsyncClient,
    offer: Offer,
    business: Business,
    app_sessions: Sessions,
) -> None:
    other = await add_local_account(app_sessions, business.id, business.site, "alan@acme.example")
    first = await offer()
    assert first.status_code == 202
    assert refused(await offer(other)) == (409, "ownership_transfer_pending")
    assert refused(await offer()) == (409, "ownership_transfer_pending")
    cancelled = await api.delete(
        f"{business.transfers}/{first.json()['id']}", headers=business.headers
    )
    assert cancelled.status_code == 200 and cancelled.json()["status"] == "cancelled"
    assert (await offer(other)).status_code == 202


async def test_the_target_declines_with_the_page(
    api: httpx.AsyncClient, offer: Offer, business: Business, smtp: MailSink
) -> None:
    transfer = (await offer()).json()
    token = token_in((await smtp.wait_for(1, to=TARGET))[0])
    undecided = await api.post("/ownership-transfer", data={"token": token})
    assert undecided.status_code == 303  # a form without a choice decides nothing, and says so
    assert "Choose Accept or Decline" in (await api.get(undecided.headers["location"])).text
    pressed = await api.post("/ownership-transfer", data={"token": token, "action": "decline"})
    page = await api.get(pressed.headers["location"])
    assert page.status_code == 200 and "Offer declined" in page.text
    shown = await api.get(f"{business.transfers}/{transfer['id']}", headers=AUTH)
    assert shown.json()["status"] == "declined"
    late = await api.post("/v1/ownership-transfers/accept", json={"token": token})
    assert refused(late) == (409, "ownership_transfer_declined")
    reopened = await api.get(f"/ownership-transfer?token={token}")
    assert "Offer declined" in reopened.text and "Accept" not in reopened.text
    assert (await accounts(api, business))[OWNER][0] == "primary"
    await smtp.wait_for(1, to=OWNER)


async def test_a_cancelled_transfer_link_no_longer_works(
    api: httpx.AsyncClient, offer: Offer, business: Business, smtp: MailSink
) -> None:
    transfer = (await offer()).json()
    token = token_in((await smtp.wait_for(1, to=TARGET))[0])
    url = f"{business.transfers}/{transfer['id']}"
    as_target = await api.delete(url, headers={**AUTH, "X-Acting-Account": business.target_id})
    assert refused(as_target) == (403, "not_primary_account")
    assert (await api.delete(url, headers=business.headers)).status_code == 200
    response = await api.post("/v1/ownership-transfers/accept", json={"token": token})
    assert refused(response) == (410, "ownership_transfer_cancelled")
    assert refused(await api.delete(url, headers=business.headers)) == (
        410,
        "ownership_transfer_cancelled",
    )


async def test_an_unanswered_transfer_expires_after_24_hours(
    api: httpx.AsyncClient,
    time_env: WorkflowEnvironment,
    offer: Offer,
    business: Business,
    smtp: MailSink,
) -> None:
    transfer = (await offer()).json()
    token = token_in((await smtp.wait_for(1, to=TARGET))[0])
    await time_env.sleep(timedelta(hours=24, minutes=1))
    await smtp.wait_for(1, to=OWNER)
    response = await api.post("/v1/ownership-transfers/accept", json={"token": token})
    assert refused(response) == (410, "ownership_transfer_expired")
    shown = await api.get(f"{business.transfers}/{transfer['id']}", headers=AUTH)
    assert shown.json()["status"] == "expired"
    assert (await accounts(api, business))[OWNER][0] == "primary"


async def test_targets_that_do_not_qualify_are_refused_before_any_mail(
    api: httpx.AsyncClient,
    offer: Offer,
    business: Business,
    smtp: MailSink,
    app_sessions: Sessions,
) -> None:
    pending = await add_local_account(
        app_sessions, business.id, business.site, "new@acme.example", "pending"
    )
    other_business, _, (other_site,) = await existing_business(
        app_sessions, 1, email="boss@else.example"
    )
    foreign = await add_local_account(app_sessions, other_business, other_site, "x@else.example")
    assert refused(await offer(pending)) == (409, "transfer_target_not_eligible")
    assert refused(await offer(business.owner_id)) == (409, "transfer_target_not_eligible")
    assert refused(await offer(foreign)) == (404, "transfer_target_not_found")
    unknown = "00000000-0000-0000-0000-000000000000"
    assert refused(await offer(unknown)) == (404, "transfer_target_not_found")
    assert refused(await offer(**{"X-Acting-Account": business.target_id})) == (
        403,
        "not_primary_account",
    )
    assert smtp.messages() == []
    assert (await api.get(business.transfers, headers=AUTH)).json() == []


@pytest.mark.parametrize(
    "body",
    [{}, {"target_account_id": "x"}, {"target_account_id": None}, {"target": "a", "x": 1}],
)
async def test_bad_transfer_requests_are_422(
    api: httpx.AsyncClient, business: Business, body: dict[str, Any]
) -> None:
    response = await api.post(business.transfers, json=body, headers=business.headers)
    assert refused(response) == (422, "invalid_request")


@pytest.mark.parametrize(
    ("token", "status"),
    [
        ("", 422),
        ("t" * 201, 422),
        ("no-dot", 400),
        ("abcdefghijklmnopqrstuvwx." + "s" * 43, 400),  # well formed, no such transfer
    ],
)
async def test_bad_decision_tokens_are_refused(
    api: httpx.AsyncClient, token: str, status: int
) -> None:
    for decision in ("accept", "decline"):
        response = await api.post(f"/v1/ownership-transfers/{decision}", json={"token": token})
        assert response.status_code == status
        assert not token or token not in response.text


async def test_unknown_transfers_are_404(api: httpx.AsyncClient, business: Business) -> None:
    missing = await api.get(f"{business.transfers}/{'a' * 24}", headers=AUTH)
    assert refused(missing) == (404, "ownership_transfer_not_found")
    malformed = await api.get(f"{business.transfers}/not-an-id", headers=AUTH)
    assert malformed.status_code == 422


async def test_another_business_cannot_read_or_cancel_a_transfer(
    api: httpx.AsyncClient, offer: Offer, business: Business, app_sessions: Sessions
) -> None:
    transfer = (await offer()).json()
    other_id, other_owner, _ = await existing_business(app_sessions, 1, email="boss@else.example")
    theirs = f"/v1/businesses/{other_id}/ownership-transfers/{transfer['id']}"
    as_their_owner = {**AUTH, "X-Acting-Account": other_owner}
    # Refused as if it did not exist: an ID from elsewhere tells nothing.
    assert refused(await api.get(theirs, headers=AUTH)) == (404, "ownership_transfer_not_found")
    assert refused(await api.delete(theirs, headers=as_their_owner)) == (
        404,
        "ownership_transfer_not_found",
    )
    shown = await api.get(f"{business.transfers}/{transfer['id']}", headers=AUTH)
    assert shown.json()["status"] == "pending"
