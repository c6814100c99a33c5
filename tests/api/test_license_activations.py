"""The license-activation API: orders, the Activation Link's steps and the businesses it fills,
over HTTP semantics on the time-skipping server with the real worker, SMTP and database."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from collections.abc import Callable
from datetime import date
from datetime import timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import delete
from sqlalchemy import func
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.ext.asyncio import async_sessionmaker
from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment

from api.flow_clients import license_activation
from core.settings import Settings
from core.tokens import hash_token
from core.tokens import new_token
from core.tokens import random_key
from models.records.domain import ActivationCode
from models.records.domain import Order
from tests.support.activations import ADDON
from tests.support.activations import CLOUD_AGREEMENTS
from tests.support.activations import CREDITS
from tests.support.activations import SERVICE
from tests.support.activations import existing_business
from tests.support.activations import lapsed_license
from tests.support.activations import order_body
from tests.support.api import AUTH
from tests.support.mail import MailSink
from tests.support.mail import code_in
from tests.support.mail import token_in
from tests.support.temporal import STARTED_FLOWS

pytestmark = pytest.mark.asyncio
Sessions = async_sessionmaker[AsyncSession]
AGREEMENTS = {"agreements": [{"id": id, "version": version} for id, version in CLOUD_AGREEMENTS]}


Place = Callable[..., Awaitable[tuple[dict[str, Any], str]]]


@pytest.fixture
def place_order(api: httpx.AsyncClient, smtp: MailSink, time_client: Client) -> Place:
    """Order over HTTP; returns the order and the code from the emailed Activation Link."""

    async def place(items: list[dict[str, Any]], **overrides: Any) -> tuple[dict[str, Any], str]:
        response = await api.post("/v1/orders", json=order_body(items, **overrides), headers=AUTH)
        assert response.status_code == 201, response.text
        order: dict[str, Any] = response.json()
        # Ended after the test: a flow left waiting would hold the shared time-skipping clock.
        STARTED_FLOWS.append(time_client.get_workflow_handle(order["id"]))
        mails = await smtp.wait_for(1, to=order["contact_email"])
        return order, code_in(mails[-1])

    return place


async def until_status(api: httpx.AsyncClient, code: str, status: str) -> dict[str, Any]:
    for _ in range(300):
        body: dict[str, Any] = (await api.get(f"/v1/activations/{code}")).json()
        if body.get("status") == status:
            return body
        await asyncio.sleep(0.05)
    raise AssertionError(f"never reached {status}: {body}")


async def test_an_order_is_created_and_its_link_shows_what_will_be_activated(
    place_order: Place, api: httpx.AsyncClient, smtp: MailSink
) -> None:
    order, code = await place_order([SERVICE, CREDITS], region="eu")
    assert order["status"] == "awaiting_account" and order["region"] == "eu"
    shown = (await api.get(f"/v1/activations/{code}")).json()  # the code alone is enough
    assert shown["company_name"] == "Acme Corp" and shown["order_id"] == order["order_id"]
    assert [(i["product_code"], i["units"], i["credits"]) for i in shown["items"]] == [
        ("endpoint-protection", 50, 0),
        ("xdr-credits", 0, 1000),
    ]
    assert shown["items"][0]["expires_on"] == SERVICE["expires_on"]
    assert [(a["id"], a["version"]) for a in shown["required_agreements"]] == CLOUD_AGREEMENTS
    assert all(a["title"] for a in shown["required_agreements"])
    # The portal (API key) reads the addresses; whoever holds the link reads them masked.
    assert shown["contact_email"] == "b***@acme.example"
    by_id = await api.get(f"/v1/orders/{order['order_id']}", headers=AUTH)
    assert by_id.json() == shown | {"contact_email": "buyer@acme.example"}
    assert (await api.get(f"/v1/orders/{order['order_id']}")).status_code == 401


async def test_a_code_once_read_needs_no_database_read_and_an_unknown_code_is_not_kept(
    place_order: Place, api: httpx.AsyncClient, app_sessions: Sessions, monkeypatch: Any
) -> None:
    monkeypatch.setattr(license_activation, "KNOWN_CODES_KEPT", 1)
    order, code = await place_order([SERVICE])
    unknown = new_token(random_key())  # well formed, stored only later
    assert (await api.get(f"/v1/activations/{unknown}")).status_code == 404
    async with app_sessions.begin() as session:
        row = await session.get_one(ActivationCode, hash_token(code))
        session.add(
            ActivationCode(code_hash=hash_token(unknown), order_id=row.order_id, link_number=2)
        )
    # A code stored after a miss is found: misses are not kept.
    shown = await api.get(f"/v1/activations/{unknown}")
    assert shown.json()["order_id"] == order["order_id"]
    # The last code read is kept: it reads with its row gone (codes are never deleted; this only
    # shows that no row is read). The one read before it has made room, so it is read again.
    assert (await api.get(f"/v1/activations/{code}")).status_code == 200
    async with app_sessions.begin() as session:
        await session.execute(delete(ActivationCode))
    assert (await api.get(f"/v1/activations/{code}")).json()["order_id"] == order["order_id"]
    assert (await api.get(f"/v1/activations/{unknown}")).status_code == 404


async def test_an_order_repeated_with_its_reference_is_the_same_order(
    place_order: Place, api: httpx.AsyncClient, smtp: MailSink, app_sessions: Sessions
) -> None:
    first, _ = await place_order([SERVICE], reference="SO-2026-0042")
    again = await api.post(
        "/v1/orders", json=order_body([SERVICE], reference="SO-2026-0042"), headers=AUTH
    )
    assert again.status_code == 201 and again.json()["order_id"] == first["order_id"]
    async with app_sessions() as session:
        assert await session.scalar(select(func.count()).select_from(Order)) == 1
    assert len(smtp.messages()) == 1


async def test_an_order_reference_reused_with_other_terms_is_409(
    place_order: Place, api: httpx.AsyncClient
) -> None:
    await place_order([SERVICE], reference="SO-7")
    other = await api.post(
        "/v1/orders", json=order_body([{**SERVICE, "units": 99}], reference="SO-7"), headers=AUTH
    )
    assert other.status_code == 409 and other.json()["code"] == "order_reference_conflict"


@pytest.mark.parametrize(
    ("step", "body"),
    [
        ("account", {"email": "not-an-email"}),
        ("account", {"email": "a@acme.example", "locale": "xx"}),
        ("agreements", {"agreements": "all of them"}),
        ("agreements", {"agreements": [{"id": "privacy-notice"}]}),
        ("agreements", {}),
        ("instance", {}),
        ("instance", {"instance_id": "../../etc"}),
        ("sign-in", {"account_id": ""}),
    ],
)
async def test_bad_step_bodies_are_422_and_change_nothing(
    place_order: Place, api: httpx.AsyncClient, step: str, body: dict[str, Any]
) -> None:
    _, code = await place_order([SERVICE])
    response = await api.post(f"/v1/activations/{code}/{step}", json=body, headers=AUTH)
    assert response.status_code == 422 and response.json()["code"] == "invalid_request"
    assert code not in response.text
    assert (await api.get(f"/v1/activations/{code}")).json()["status"] == "awaiting_account"


PAST = (date.today() - timedelta(days=1)).isoformat()


@pytest.mark.parametrize(
    ("items", "overrides", "code"),
    [
        ([{**SERVICE, "product": "no-such-product"}], {}, "invalid_order"),
        ([{**CREDITS, "units": 5}], {}, "invalid_order"),
        ([{**SERVICE, "units": 0}], {}, "invalid_order"),
        ([{**SERVICE, "credits": 10}], {}, "invalid_order"),
        ([{**SERVICE, "expires_on": PAST}], {}, "invalid_order"),
        ([SERVICE], {"region": "mars"}, "invalid_order"),
        ([], {}, "invalid_request"),
        ([SERVICE], {"contact_email": "not-an-email"}, "invalid_request"),
        ([SERVICE], {"company_name": "   "}, "invalid_request"),
        ([SERVICE], {"locale": "fr"}, "invalid_request"),
        ([SERVICE], {"reference": "has spaces"}, "invalid_request"),
        ([{**SERVICE, "units": -1}], {}, "invalid_request"),
        ([{**SERVICE, "expires_on": "next year"}], {}, "invalid_request"),
        ([SERVICE], {"unexpected": True}, "invalid_request"),
        ([CREDITS], {"trial": True}, "invalid_order"),  # a trial has service products only
        ([{"product": "endpoint-protection", "units": 5}], {}, "invalid_order"),  # paid: a date
    ],
)
async def test_bad_orders_are_422_and_change_nothing(
    api: httpx.AsyncClient,
    smtp: MailSink,
    app_sessions: Sessions,
    items: list[dict[str, Any]],
    overrides: dict[str, Any],
    code: str,
) -> None:
    response = await api.post("/v1/orders", json=order_body(items, **overrides), headers=AUTH)
    assert response.status_code == 422
    assert response.json()["code"] == code and response.json()["details"]
    async with app_sessions() as session:
        assert await session.scalar(select(func.count()).select_from(Order)) == 0
    assert smtp.messages() == []


@pytest.mark.parametrize(
    "code", ["nothing-like-a-code", "b" * 24 + "." + "c" * 43, "a" * 201, "%00"]
)
async def test_unknown_or_malformed_codes_are_404(api: httpx.AsyncClient, code: str) -> None:
    response = await api.get(f"/v1/activations/{code}")
    assert response.status_code in (404, 422)
    assert response.json()["code"] in ("activation_not_found", "invalid_request")
    posted = await api.post(f"/v1/activations/{code}/agreements", json=AGREEMENTS)
    assert posted.status_code in (404, 422)


async def test_an_existing_customer_signs_in_accepts_and_sees_the_instance(
    place_order: Place, api: httpx.AsyncClient, smtp: MailSink, app_sessions: Sessions
) -> None:
    business_id, account_id, (old_site,) = await existing_business(app_sessions, 1)
    order, code = await place_order([SERVICE, CREDITS])
    sign_in = f"/v1/activations/{code}/sign-in"
    assert (await api.post(sign_in, json={"account_id": account_id})).status_code == 401
    unknown = await api.post(sign_in, json={"account_id": "0" * 36}, headers=AUTH)
    assert unknown.status_code == 404 and unknown.json()["code"] == "account_not_found"
    signed_in = await api.post(sign_in, json={"account_id": account_id}, headers=AUTH)
    assert signed_in.status_code == 200
    assert signed_in.json()["status"] == "awaiting_agreements"

    partial = await api.post(
        f"/v1/activations/{code}/agreements",
        json={"agreements": [{"id": "privacy-notice", "version": "2025-06"}]},
    )
    assert partial.status_code == 422 and partial.json()["code"] == "agreements_invalid"
    problems = {(d["agreement"], d["problem"]) for d in partial.json()["details"]}
    assert problems == {
        ("cloud-service-terms", "missing"),
        ("privacy-notice", "outdated"),
        ("data-collection-notice", "missing"),
    }
    accepted = await api.post(f"/v1/activations/{code}/agreements", json=AGREEMENTS)
    assert accepted.status_code == 200, accepted.text
    done = await until_status(api, code, "activated")
    assert done["business_id"] == business_id

    again = await api.post(f"/v1/activations/{code}/agreements", json=AGREEMENTS)
    assert again.status_code == 409 and again.json()["code"] == "activation_completed"
    instances = (await api.get(f"/v1/businesses/{business_id}/instances", headers=AUTH)).json()
    assert len(instances) == 2 and old_site in {i["id"] for i in instances}
    business = (await api.get(f"/v1/businesses/{business_id}", headers=AUTH)).json()
    assert business["credit_balance"] == 1000
    assert business["primary_account"] == {"id": account_id, "email": "owner@acme.example"}
    assert {lic["status"] for lic in business["licenses"]} == {"active"}


async def test_several_instances_make_the_customer_choose_for_the_addon(
    place_order: Place, api: httpx.AsyncClient, smtp: MailSink, app_sessions: Sessions
) -> None:
    business_id, account_id, (site_1, site_2) = await existing_business(app_sessions, 2)
    _, code = await place_order([ADDON])
    await api.post(f"/v1/activations/{code}/sign-in", json={"account_id": account_id}, headers=AUTH)
    state = (await api.post(f"/v1/activations/{code}/agreements", json=AGREEMENTS)).json()
    assert state["status"] == "awaiting_instance_choice"
    assert {c["instance_id"] for c in state["instance_choices"]} == {site_1, site_2}
    wrong = await api.post(f"/v1/activations/{code}/instance", json={"instance_id": "x" * 36})
    assert wrong.status_code == 422 and wrong.json()["code"] == "instance_choice_invalid"
    chosen = await api.post(f"/v1/activations/{code}/instance", json={"instance_id": site_1})
    assert chosen.status_code == 200
    await until_status(api, code, "activated")
    instances = (await api.get(f"/v1/businesses/{business_id}/instances", headers=AUTH)).json()
    addons = {i["id"]: [(a["product_code"], a["status"]) for a in i["addons"]] for i in instances}
    assert addons == {site_1: [("edr-addon", "active")], site_2: []}


async def test_an_addon_for_a_business_without_instances_is_409(
    place_order: Place, api: httpx.AsyncClient, smtp: MailSink, app_sessions: Sessions
) -> None:
    _, account_id, _ = await existing_business(app_sessions, 0)
    _, code = await place_order([ADDON])
    response = await api.post(
        f"/v1/activations/{code}/sign-in", json={"account_id": account_id}, headers=AUTH
    )
    assert response.status_code == 409 and response.json()["code"] == "no_instance_for_addon"


async def test_signing_up_answers_alike_for_every_address_and_the_mail_tells_the_rest(
    place_order: Place, api: httpx.AsyncClient, smtp: MailSink, app_sessions: Sessions
) -> None:
    """No key: whether an address owns an account is for its mailbox to learn. An owner's
    address proves itself by mail like any other, then signs in."""
    business_id, _, _ = await existing_business(app_sessions, 0, email="owner@acme.example")
    _, owners_code = await place_order([SERVICE])
    _, strangers_code = await place_order([SERVICE], contact_email="other@acme.example")
    owner = await api.post(
        f"/v1/activations/{owners_code}/account", json={"email": "owner@acme.example"}
    )
    stranger = await api.post(
        f"/v1/activations/{strangers_code}/account", json={"email": "new@acme.example"}
    )
    assert owner.status_code == stranger.status_code == 202
    assert owner.json()["status"] == stranger.json()["status"] == "verifying_email"
    assert owner.json()["account_email"] is stranger.json()["account_email"] is None
    verification_id = stranger.json()["verification_id"]
    await smtp.wait_for(1, to="new@acme.example")
    # The verification is an ordinary one: the portal can read it (and resend) by its id.
    shown = await api.get(f"/v1/email-verifications/{verification_id}", headers=AUTH)
    assert shown.json()["status"] == "pending" and shown.json()["purpose"] == "activation"
    twice = await api.post(
        f"/v1/activations/{strangers_code}/account", json={"email": "b@acme.example"}
    )
    assert twice.status_code == 409 and twice.json()["code"] == "activation_wrong_step"

    (proof,) = await smtp.wait_for(1, to="owner@acme.example")
    confirmed = await api.post("/v1/email-verifications/confirm", json={"token": token_in(proof)})
    assert confirmed.status_code == 200
    signed_in = await until_status(api, owners_code, "awaiting_agreements")
    assert signed_in["business_id"] == business_id  # its own Business: signed in, none made


async def test_one_activation_link_tries_only_a_few_addresses_an_hour(
    place_order: Place, api: httpx.AsyncClient, smtp: MailSink, settings: Settings
) -> None:
    _, code = await place_order([SERVICE])
    tries = [
        await api.post(f"/v1/activations/{code}/account", json={"email": f"n{n}@acme.example"})
        for n in range(settings.sign_ups_per_code_per_hour + 1)
    ]
    assert tries[0].status_code == 202
    assert tries[-1].status_code == 429 and tries[-1].json()["code"] == "too_many_requests"


async def test_an_expired_link_is_410(
    place_order: Place, api: httpx.AsyncClient, time_env: WorkflowEnvironment, smtp: MailSink
) -> None:
    _, code = await place_order([SERVICE])
    await time_env.sleep(timedelta(days=30, hours=1))
    for _ in range(100):
        response = await api.get(f"/v1/activations/{code}")
        if response.status_code == 410:
            break
        await asyncio.sleep(0.05)
    assert response.status_code == 410 and response.json()["code"] == "activation_expired"
    posted = await api.post(f"/v1/activations/{code}/agreements", json=AGREEMENTS)
    assert posted.status_code == 410


async def test_a_cancelled_order_refuses_its_link(
    place_order: Place, api: httpx.AsyncClient, smtp: MailSink
) -> None:
    order, code = await place_order([SERVICE])
    cancelled = await api.delete(f"/v1/orders/{order['order_id']}", headers=AUTH)
    assert cancelled.status_code == 200 and cancelled.json()["status"] == "cancelled"
    await until_status(api, code, "cancelled")
    refused = await api.post(f"/v1/activations/{code}/account", json={"email": "x@acme.example"})
    assert refused.status_code == 409 and refused.json()["code"] == "activation_closed"
    again = await api.delete(f"/v1/orders/{order['order_id']}", headers=AUTH)
    assert again.status_code == 409


async def test_unknown_businesses_are_404(api: httpx.AsyncClient) -> None:
    missing = "00000000-0000-0000-0000-000000000000"
    for path in (f"/v1/businesses/{missing}", f"/v1/businesses/{missing}/instances"):
        response = await api.get(path, headers=AUTH)
        assert response.status_code == 404 and response.json()["code"] == "business_not_found"
    assert (await api.get("/v1/businesses/not-an-id", headers=AUTH)).status_code == 422
    assert (await api.get(f"/v1/businesses/{missing}")).status_code == 401


async def test_a_trial_order_runs_for_the_trial_term_and_is_refused_to_a_user_of_the_product(
    place_order: Place, api: httpx.AsyncClient, smtp: MailSink, app_sessions: Sessions
) -> None:
    _, account_id, _ = await existing_business(app_sessions, 1)
    order, code = await place_order([{"product": "endpoint-protection", "units": 5}], trial=True)
    (item,) = order["items"]
    assert item["trial"] is True
    assert item["expires_on"] == (date.today() + timedelta(days=30)).isoformat()
    response = await api.post(
        f"/v1/activations/{code}/sign-in", json={"account_id": account_id}, headers=AUTH
    )
    assert response.status_code == 409 and response.json()["code"] == "trial_not_available"
    assert "trial" in response.json()["message"]


async def test_a_renewal_over_http_brings_a_lapsed_license_and_its_instance_back(
    place_order: Place,
    api: httpx.AsyncClient,
    smtp: MailSink,
    app_sessions: Sessions,
    time_env: WorkflowEnvironment,
) -> None:
    today = (await time_env.get_current_time()).date()
    business_id, account_id, _ = await existing_business(app_sessions, 0)
    license_id, instance_id = await lapsed_license(app_sessions, business_id, today)
    listed = f"/v1/businesses/{business_id}/instances"
    (instance,) = (await api.get(listed, headers=AUTH)).json()
    assert (instance["license_id"], instance["license_status"]) == (license_id, "expired")

    later = (today + timedelta(days=365)).isoformat()
    _, code = await place_order([{**SERVICE, "expires_on": later}])
    await api.post(f"/v1/activations/{code}/sign-in", json={"account_id": account_id}, headers=AUTH)
    await api.post(f"/v1/activations/{code}/agreements", json=AGREEMENTS)
    done = await until_status(api, code, "activated")
    (item,) = done["items"]
    assert item["instance_id"] == instance_id
    assert item["replaces"] == {
        "license_id": license_id,
        "instance_id": instance_id,
        "expires_on": (today - timedelta(days=7)).isoformat(),
        "trial": False,
    }
    (instance,) = (await api.get(listed, headers=AUTH)).json()
    assert (instance["license_status"], instance["license_expires_on"]) == ("active", later)
    business = (await api.get(f"/v1/businesses/{business_id}", headers=AUTH)).json()
    statuses = {
        lic["id"]: (lic["status"], lic["renews_license_id"]) for lic in business["licenses"]
    }
    assert statuses == {license_id: ("active", None), item["license_id"]: ("renewal", license_id)}
