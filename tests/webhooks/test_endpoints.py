"""Managing webhook endpoints over the API: create (the secret shown once), list, read, change,
disable and enable, rotate the secret, delete; and what is refused: an unknown event type, a
URL this service may not call (production's rule, tried with loopback only), no key."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.ext.asyncio import async_sessionmaker

from api.app import create_app
from core.settings import Settings
from models.records.webhooks import WebhookEndpoint
from tests.support.api import AUTH
from tests.support.catalogs import published_agreements
from tests.webhooks.conftest import subscribe

pytestmark = pytest.mark.asyncio


async def test_an_endpoint_is_created_read_changed_and_deleted(
    api: httpx.AsyncClient, app_sessions: async_sessionmaker[AsyncSession]
) -> None:
    created = await subscribe(
        api,
        "http://127.0.0.1:9/hooks",
        ["order.created", "activation.completed"],
        description="CRM",
    )
    endpoint_id = created["id"]
    assert created["event_types"] == ["activation.completed", "order.created"]
    assert created["enabled"] is True and created["previous_secret_expires_at"] is None
    async with app_sessions() as session:
        row = await session.get(WebhookEndpoint, endpoint_id)
        assert row is not None and created["secret"].encode() not in row.secret  # sealed

    listed = await api.get("/v1/webhook-endpoints", headers=AUTH)
    assert [e["id"] for e in listed.json()["data"]] == [endpoint_id]
    assert all("secret" not in e for e in listed.json()["data"])

    url = f"/v1/webhook-endpoints/{endpoint_id}"
    changed = await api.patch(
        url, json={"event_types": None, "description": "CRM (all)"}, headers=AUTH
    )
    assert changed.status_code == 200, changed.text
    assert changed.json()["event_types"] is None and changed.json()["description"] == "CRM (all)"
    disabled = await api.patch(url, json={"enabled": False}, headers=AUTH)
    assert disabled.json()["enabled"] is False and disabled.json()["disabled_reason"] == "manual"
    unchanged = await api.patch(url, json={}, headers=AUTH)
    assert unchanged.json()["enabled"] is False

    assert (await api.delete(url, headers=AUTH)).status_code == 204
    gone = await api.get(url, headers=AUTH)
    assert gone.status_code == 404 and gone.json()["code"] == "webhook_endpoint_not_found"
    assert (await api.delete(url, headers=AUTH)).status_code == 404


async def test_what_is_refused(api: httpx.AsyncClient) -> None:
    url = "http://127.0.0.1:9/hooks"
    for body, code in (
        ({"url": url, "event_types": ["order.created", "order.shipped"]}, "unknown_event_type"),
        ({"url": url, "event_types": []}, "invalid_request"),
        ({"url": "ftp://127.0.0.1/hooks"}, "webhook_url_refused"),
        ({"url": "http://user:pw@127.0.0.1/hooks"}, "webhook_url_refused"),
        ({"url": url, "secret": "mine"}, "invalid_request"),
    ):
        answer = await api.post("/v1/webhook-endpoints", json=body, headers=AUTH)
        assert answer.status_code == 422 and answer.json()["code"] == code, (body, answer.text)
    assert (await api.get("/v1/webhook-endpoints")).status_code == 401
    missing = await api.get("/v1/webhook-endpoints/ep_000000000000000000000000", headers=AUTH)
    assert missing.status_code == 404
    malformed = await api.get("/v1/webhook-endpoints/nope", headers=AUTH)
    assert malformed.status_code == 422 and malformed.json()["code"] == "invalid_request"


@pytest.mark.parametrize(
    "url",
    [
        "https://127.0.0.1:8443/hooks",  # loopback, by address
        "https://localhost:8443/hooks",  # loopback, by name: checked once resolved
        "https://[::1]:8443/hooks",
        "https://[::ffff:127.0.0.1]:8443/hooks",  # loopback, IPv4-mapped
        "http://crm.example.com/hooks",  # not https (refused before any lookup)
    ],
)
async def test_production_refuses_what_is_not_a_public_https_address(
    settings: Settings, url: str, tmp_path: Path
) -> None:
    catalog = published_agreements(tmp_path / "catalog.json")
    production = settings.model_copy(update={"environment": "production", "catalog_file": catalog})
    app = create_app(production, temporal=None)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
            answer = await http.post("/v1/webhook-endpoints", json={"url": url}, headers=AUTH)
    assert answer.status_code == 422, answer.text
    assert answer.json()["code"] == "webhook_url_refused"


async def test_a_rotation_keeps_the_previous_secret_for_its_grace_only(
    api: httpx.AsyncClient, app_sessions: async_sessionmaker[AsyncSession]
) -> None:
    created = await subscribe(api, "http://127.0.0.1:9/hooks")
    url = f"/v1/webhook-endpoints/{created['id']}/rotate-secret"
    for body in ({"grace_seconds": -1}, {"grace_seconds": 8 * 24 * 3600}, {"grace_seconds": "1"}):
        assert (await api.post(url, json=body, headers=AUTH)).status_code == 422
    rotated = await api.post(url, json={}, headers=AUTH)  # a day by default
    assert rotated.status_code == 200 and rotated.json()["secret"] != created["secret"]
    assert rotated.json()["previous_secret_expires_at"]
    async with app_sessions() as session:
        rows = list(await session.scalars(select(WebhookEndpoint)))
        assert rows[0].previous_secret is not None
