"""Bad input gets a clear 4xx with a stable code, and changes nothing (no flow, no mail)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.ext.asyncio import async_sessionmaker

from tests.support.activations import existing_business
from tests.support.api import AUTH
from tests.support.mail import MailSink

pytestmark = pytest.mark.asyncio
UNKNOWN_ID = "email-verification-" + "a" * 24
WELL_FORMED_UNKNOWN_TOKEN = "b" * 24 + "." + "c" * 43


@pytest.mark.parametrize(
    "body",
    [
        {"email": "not-an-email"},
        {"email": "a@b"},
        {},
        {"email": "ada@example.com", "locale": "fr"},
        {"email": "ada@example.com", "purpose": "Has Spaces"},
        {"email": "ada@example.com", "unexpected": 1},
        {"email": ["ada@example.com"]},
    ],
)
async def test_invalid_start_bodies_are_422(
    api: httpx.AsyncClient, smtp: MailSink, body: dict[str, object]
) -> None:
    response = await api.post("/v1/email-verifications", json=body, headers=AUTH)
    assert response.status_code == 422
    assert response.json()["code"] == "invalid_request"
    assert smtp.messages() == []


async def test_a_body_that_is_not_json_is_422(api: httpx.AsyncClient) -> None:
    response = await api.post(
        "/v1/email-verifications",
        content=b"{not json",
        headers=AUTH | {"content-type": "application/json"},
    )
    assert response.status_code == 422 and response.json()["code"] == "invalid_request"


async def test_an_oversized_body_is_413(api: httpx.AsyncClient, smtp: MailSink) -> None:
    body = {"email": "ada@example.com", "purpose": "x" * 20_000}
    response = await api.post("/v1/email-verifications", json=body, headers=AUTH)
    assert response.status_code == 413 and response.json()["code"] == "payload_too_large"
    assert smtp.messages() == []


async def test_a_chunked_oversized_body_is_413(api: httpx.AsyncClient) -> None:
    async def chunks() -> AsyncIterator[bytes]:
        for _ in range(40):
            yield b"x" * 1024

    response = await api.post("/v1/email-verifications/confirm", content=chunks())
    assert response.status_code == 413


@pytest.mark.parametrize(
    "headers", [{}, {"Authorization": "Bearer wrong"}, {"Authorization": "Basic eA=="}]
)
async def test_endpoints_without_a_valid_api_key_are_401(
    api: httpx.AsyncClient, smtp: MailSink, headers: dict[str, str]
) -> None:
    response = await api.post(
        "/v1/email-verifications", json={"email": "ada@example.com"}, headers=headers
    )
    assert response.status_code == 401
    assert response.json()["code"] in ("missing_api_key", "invalid_api_key")
    assert response.headers["WWW-Authenticate"] == "Bearer"
    for method, path in [
        ("GET", UNKNOWN_ID),
        ("POST", f"{UNKNOWN_ID}/resend"),
        ("DELETE", UNKNOWN_ID),
    ]:
        other = await api.request(method, f"/v1/email-verifications/{path}", headers=headers)
        assert other.status_code == 401
    assert smtp.messages() == []


@pytest.mark.parametrize("flow_id", [UNKNOWN_ID, "nope", "email-verification-" + "A" * 24])
async def test_unknown_ids_are_404(api: httpx.AsyncClient, flow_id: str) -> None:
    for method, path in [("GET", ""), ("POST", "/resend"), ("DELETE", "")]:
        response = await api.request(
            method, f"/v1/email-verifications/{flow_id}{path}", headers=AUTH
        )
        assert response.status_code == 404, (method, path)
        assert response.json()["code"] == "verification_not_found"
    changed = await api.post(
        f"/v1/email-verifications/{flow_id}/email", json={"email": "a@example.com"}, headers=AUTH
    )
    assert changed.status_code == 404


@pytest.mark.parametrize("token", ["garbage", WELL_FORMED_UNKNOWN_TOKEN, "a.b", "." * 50])
async def test_wrong_tokens_are_400(api: httpx.AsyncClient, token: str) -> None:
    response = await api.post("/v1/email-verifications/confirm", json={"token": token})
    assert response.status_code == 400 and response.json()["code"] == "token_invalid"
    page = await api.get("/verify-email", params={"token": token})
    assert page.status_code == 400


async def test_a_rejected_token_is_not_echoed_back(api: httpx.AsyncClient) -> None:
    secret = "s3cr3t" * 50
    response = await api.post("/v1/email-verifications/confirm", json={"token": secret})
    assert response.status_code == 422
    assert "s3cr3t" not in response.text


async def test_the_mailbox_is_404_outside_development(api: httpx.AsyncClient) -> None:
    response = await api.get("/dev/mailbox")
    assert response.status_code == 404, response.text[:300]


@pytest.mark.parametrize("count", [True, "7", 7.0, 7.5])
@pytest.mark.parametrize(
    "path, body, field",
    [
        ("/v1/credit-calculator", lambda n: {"sensors": {"xdr-endpoint": n}}, "xdr-endpoint"),
        (
            "/v1/orders",
            lambda n: {
                "company_name": "Acme Corp",
                "contact_email": "buyer@acme.example",
                "items": [
                    {"product": "endpoint-protection", "units": n, "expires_on": "2099-12-31"}
                ],
            },
            "units",
        ),  # fmt: skip
        (
            "/v1/businesses/{business}/credit-allocations/mobile",
            lambda n: {"units": n},
            "units",
        ),
        (
            "/v1/businesses/{business}/enrollment-tokens",
            lambda n: {"instance_type": "endpoint-protection", "description": "x", "max_uses": n},
            "max_uses",
        ),
    ],
)
async def test_counts_are_json_integers_and_nothing_else(
    api: httpx.AsyncClient,
    smtp: MailSink,
    app_sessions: async_sessionmaker[AsyncSession],
    path: str,
    body: Any,
    field: str,
    count: object,
) -> None:
    """`true` is not one unit and "7" is not seven: a wrong type is a 422 naming the field."""
    business_id, owner_id, _ = await existing_business(app_sessions, 0)
    headers = AUTH | {"X-Acting-Account": owner_id}
    method = api.put if "allocations" in path else api.post
    response = await method(path.format(business=business_id), json=body(count), headers=headers)
    assert response.status_code == 422, response.text
    assert response.json()["code"] == "invalid_request"
    assert any(field in detail["loc"] for detail in response.json()["details"])
    assert smtp.messages() == []


async def test_a_body_that_is_not_utf8_is_the_documented_422(api: httpx.AsyncClient) -> None:
    for path in ("/v1/email-verifications", "/v1/email-verifications/confirm", "/v1/orders"):
        response = await api.post(
            path,
            content=b'{"email": "\xff\xfe"}',
            headers=AUTH | {"content-type": "application/json"},
        )
        assert response.status_code == 422, (path, response.text)
        assert response.json()["code"] == "invalid_request"
