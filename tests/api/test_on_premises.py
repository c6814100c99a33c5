"""On-premises licenses over the API, on the real servers: an order of an on-premises product
mails a certificate with its Activation Code (no account, no instance); installations activate
with the code and get license files that verify against the published keys; the seats hold,
under concurrency too; deactivations free seats, only so many a day; the vendor renews and
revokes (the end of a term: tests/workflows/test_license_code.py)."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import httpx
import pytest
from temporalio.testing import WorkflowEnvironment

from core.license_codes import ALPHABET
from core.license_verifier import verify
from core.settings import Settings
from models.contracts.on_premises import certificate_flow_id
from models.contracts.on_premises import code_flow_id
from tests.support.activations import NEXT_YEAR
from tests.support.activations import SERVICE
from tests.support.activations import order_body
from tests.support.api import AUTH
from tests.support.histories import keep_history
from tests.support.mail import MailSink
from tests.support.mail import text_of
from tests.support.on_premises import BSA
from tests.support.on_premises import SENSOR
from tests.support.on_premises import certificate
from tests.support.temporal import STARTED_FLOWS

pytestmark = pytest.mark.asyncio


async def activate(
    api: httpx.AsyncClient, code: str, fingerprint: str, agreement: dict[str, str] = BSA
) -> httpx.Response:
    body = {"activation_code": code, "fingerprint": fingerprint, "agreement": agreement}
    return await api.post("/v1/installations", json=body)


async def test_a_certificate_code_activates_installations_up_to_its_seats(
    api: httpx.AsyncClient, time_env: WorkflowEnvironment, smtp: MailSink
) -> None:
    answer, code = await certificate(api, time_env, smtp, SENSOR)
    (issued,) = answer["codes"]
    assert (issued["product_code"], issued["seats"]) == ("network-sensor", 2)
    assert "code" not in issued  # the code is the customer's: mail and page only
    # The mail names the product in its language and links the printable certificate.
    mail = text_of((await smtp.wait_for(1, to="buyer@acme.example"))[0])
    assert "Network Sensor: 2 seats" in mail and "/certificate?token=" in mail

    first = await activate(api, code, "HOST-A-0001")
    assert first.status_code == 201, first.text
    jwks = (await api.get("/.well-known/jwks.json")).json()
    claims = verify(first.json()["license_file"], jwks, fingerprint="HOST-A-0001")
    assert (claims["product"], claims["seats"], claims["business"]) == (
        "network-sensor", 2, "Acme Corp")  # fmt: skip
    assert claims["agreement"] == BSA and claims["term_ends_on"] == NEXT_YEAR.isoformat()
    # Online, a file lasts 30 days: the installation checks in for a fresh one.
    assert claims["exp"] - claims["iat"] == 30 * 24 * 3600

    again = await activate(api, code.lower().replace("-", " "), "HOST-A-0001")  # as typed
    assert (again.status_code, again.json()["seats_in_use"]) == (201, 1)
    assert (await activate(api, code, "HOST-B-0002")).json()["seats_in_use"] == 2
    full = await activate(api, code, "HOST-C-0003")
    assert (full.status_code, full.json()["code"]) == (409, "no_seat_left")

    freed = await api.post(
        "/v1/installations/deactivate",
        json={"activation_code": code, "fingerprint": "HOST-B-0002"},
    )
    assert (freed.status_code, freed.json()["seats_in_use"]) == (200, 1)
    assert (await activate(api, code, "HOST-C-0003")).status_code == 201
    await keep_history(
        time_env.client.get_workflow_handle(code_flow_id(issued["id"])), "license_code_seats"
    )
    await keep_history(
        time_env.client.get_workflow_handle(certificate_flow_id(answer["id"])),
        "license_certificate",
    )


async def test_what_the_code_refuses_before_and_after_looking(
    api: httpx.AsyncClient, time_env: WorkflowEnvironment, smtp: MailSink
) -> None:
    _, code = await certificate(api, time_env, smtp, SENSOR)
    # One character mistyped: the check character catches it, no lookup is made.
    wrong = ALPHABET[(ALPHABET.index(code[3]) + 1) % len(ALPHABET)]
    mistyped = await activate(api, code[:3] + wrong + code[4:], "HOST-A-0001")
    assert (mistyped.status_code, mistyped.json()["code"]) == (422, "activation_code_mistyped")
    old_terms = await activate(api, code, "HOST-A-0001", BSA | {"version": "2025-01"})
    assert (old_terms.status_code, old_terms.json()["code"]) == (422, "agreement_not_accepted")
    never_installed = await api.post(
        "/v1/installations/deactivate", json={"activation_code": code, "fingerprint": "HOST-Z-999"}
    )
    assert never_installed.json()["code"] == "installation_not_found"


async def test_concurrent_activations_for_the_last_seat_leave_exactly_one_winner(
    api: httpx.AsyncClient, time_env: WorkflowEnvironment, smtp: MailSink
) -> None:
    answer, code = await certificate(api, time_env, smtp, SENSOR | {"units": 3})
    for host in ("HOST-1-0000", "HOST-2-0000"):
        assert (await activate(api, code, host)).status_code == 201
    racing = await asyncio.gather(*(activate(api, code, f"RACE-{n}-0000") for n in range(8)))
    assert sorted(answer.status_code for answer in racing) == [201] + [409] * 7
    state = await api.get(f"/v1/license-codes/{answer['codes'][0]['id']}", headers=AUTH)
    assert state.json()["seats_in_use"] == 3


async def test_deactivate_and_activate_loops_are_limited(
    api: httpx.AsyncClient, time_env: WorkflowEnvironment, smtp: MailSink, settings: Settings
) -> None:
    """Each cycle would mint a file for one more machine (keygen's discussion #162)."""
    settings.license_deactivations_per_day = 2
    _, code = await certificate(api, time_env, smtp, SENSOR | {"units": 1})
    answers = []
    for n in range(3):
        await activate(api, code, f"LOOP-{n}-0000")
        leave = {"activation_code": code, "fingerprint": f"LOOP-{n}-0000"}
        answers.append((await api.post("/v1/installations/deactivate", json=leave)).status_code)
    assert answers == [200, 200, 429]
    await time_env.sleep(timedelta(days=1, seconds=1))
    leave = {"activation_code": code, "fingerprint": "LOOP-2-0000"}
    assert (await api.post("/v1/installations/deactivate", json=leave)).status_code == 200


async def test_the_vendor_renews_and_revokes_and_the_term_ends(
    api: httpx.AsyncClient, time_env: WorkflowEnvironment, smtp: MailSink
) -> None:
    soon = (await time_env.get_current_time()).date() + timedelta(days=10)  # the server's today
    answer, code = await certificate(api, time_env, smtp, SENSOR | {"expires_on": soon.isoformat()})
    (issued,) = answer["codes"]
    later = (soon + timedelta(days=365)).isoformat()
    renewed = await api.post(
        f"/v1/license-codes/{issued['id']}/renew", json={"expires_on": later}, headers=AUTH
    )
    assert (renewed.status_code, renewed.json()["expires_on"]) == (200, later)
    offline = await activate(api, code, "HOST-A-0001")
    assert offline.json()["license_file"]
    await time_env.sleep(timedelta(days=20))  # past the first term: the renewal holds
    assert (await activate(api, code, "HOST-A-0001")).status_code == 201

    revoked = await api.post(f"/v1/license-codes/{issued['id']}/revoke", headers=AUTH)
    assert (revoked.status_code, revoked.json()["status"]) == (200, "revoked")
    refused = await activate(api, code, "HOST-A-0001")
    assert (refused.status_code, refused.json()["code"]) == (410, "activation_code_revoked")


async def test_a_mixed_order_sends_the_activation_link_and_the_certificate(
    api: httpx.AsyncClient, time_env: WorkflowEnvironment, smtp: MailSink
) -> None:
    ordered = await api.post("/v1/orders", json=order_body([SERVICE, SENSOR]), headers=AUTH)
    assert ordered.status_code == 201, ordered.text
    answer = ordered.json()
    STARTED_FLOWS.append(time_env.client.get_workflow_handle(answer["id"]))
    STARTED_FLOWS.append(
        time_env.client.get_workflow_handle(certificate_flow_id(answer["order_id"]))
    )
    assert [item["product_code"] for item in answer["items"]] == ["endpoint-protection"]
    assert [code["product_code"] for code in answer["certificate"]["codes"]] == ["network-sensor"]
    mails = await smtp.wait_for(2, to="buyer@acme.example")
    subjects = sorted(str(mail["Subject"]) for mail in mails)
    assert subjects[0].startswith("Activate") and "License certificate" in subjects[1]


async def test_a_renewal_order_extends_the_same_code(
    api: httpx.AsyncClient, time_env: WorkflowEnvironment, smtp: MailSink
) -> None:
    answer, code = await certificate(api, time_env, smtp, SENSOR)
    code_id = answer["codes"][0]["id"]
    later = (NEXT_YEAR + timedelta(days=365)).isoformat()
    renewal = SENSOR | {"expires_on": later, "renews_code": code_id}
    ordered = await api.post("/v1/orders", json=order_body([renewal]), headers=AUTH)
    assert ordered.status_code == 201, ordered.text
    assert (ordered.json()["codes"], ordered.json()["renewed"][0]["expires_on"]) == ([], later)
    checked_in = await activate(api, code, "HOST-A-0001")
    assert checked_in.json()["license_file"] and checked_in.status_code == 201
    state = await api.get(f"/v1/license-codes/{code_id}", headers=AUTH)
    assert state.json()["expires_on"] == later
    # A renewal of a code for another product, or of no code, changes nothing.
    other = {"product": "endpoint-protection", "units": 1, "expires_on": later,
             "renews_code": code_id}  # fmt: skip
    wrong = await api.post("/v1/orders", json=order_body([other]), headers=AUTH)
    assert (wrong.status_code, wrong.json()["code"]) == (422, "invalid_order")
    unknown = SENSOR | {"renews_code": "a" * 24}
    missing = await api.post("/v1/orders", json=order_body([unknown]), headers=AUTH)
    assert (missing.status_code, missing.json()["code"]) == (404, "activation_code_not_found")
