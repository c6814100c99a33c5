from __future__ import annotations

import httpx
import pytest
from prometheus_client import generate_latest
from temporalio.client import Client

from api.app import create_app
from api.app import warm_up
from api.pages import TEMPLATES_DIR
from api.pages import compile_templates
from core.settings import Settings
from tests.support.api import AUTH

pytestmark = pytest.mark.asyncio


async def test_ready_reports_both_dependencies(api: httpx.AsyncClient) -> None:
    response = await api.get("/ready")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok", "temporal": "ok"}


async def test_not_ready_is_503_and_names_the_broken_database_while_alive(
    time_client: Client, settings: Settings
) -> None:
    settings.database_url = "sqlite+aiosqlite:////nonexistent-folder/app.db"
    app = create_app(settings, temporal=time_client)
    async with app.router.lifespan_context(app):
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://testserver"
        ) as client:
            response = await client.get("/ready")
            alive = await client.get("/health")
    assert alive.status_code == 200  # the process is fine: no restart, just no traffic
    assert response.status_code == 503
    assert response.json()["database"].startswith("error") and response.json()["temporal"] == "ok"


async def test_openapi_docs_describe_the_flow_and_its_auth(api: httpx.AsyncClient) -> None:
    assert (await api.get("/docs")).status_code == 200
    spec = (await api.get("/openapi.json")).json()
    assert "/v1/email-verifications" in spec["paths"]
    start = spec["paths"]["/v1/email-verifications"]["post"]
    assert start["security"] and "401" in start["responses"]
    assert "security" not in spec["paths"]["/v1/email-verifications/confirm"]["post"]
    # The error contract: each status lists the codes the endpoint can answer with it.
    resend = spec["paths"]["/v1/email-verifications/{flow_id}/resend"]["post"]["responses"]
    assert "`resend_cooldown`" in resend["429"]["description"]
    assert "`mail_rate_limited`" in resend["429"]["description"]
    assert "`verification_locked`" in resend["423"]["description"]
    # What every route can answer is said for each: its own error body for a bad parameter,
    # and a 503 when the database or Temporal is down.
    read = spec["paths"]["/v1/activations/{code}"]["get"]["responses"]
    assert read["422"]["description"] == "One of: `invalid_request`"
    assert read["422"]["content"]["application/json"]["schema"]["$ref"].endswith("/ErrorBody")
    assert "`temporal_unavailable`" in read["503"]["description"]
    assert "HTTPValidationError" not in spec["components"]["schemas"]


@pytest.mark.parametrize(
    "url",
    [
        "sqlite+aiosqlite:////nonexistent-folder/app.db",
        "postgresql+asyncpg://postgres@127.0.0.1:1/nothing-listens-here",
    ],
)
async def test_a_broken_database_is_a_503_not_a_500(
    time_client: Client, settings: Settings, url: str
) -> None:
    settings.database_url = url
    app = create_app(settings, temporal=time_client)
    code = "a" * 24 + "." + "b" * 43
    async with app.router.lifespan_context(app):
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://testserver"
        ) as client:
            for response in (
                await client.get(f"/v1/activations/{code}"),
                await client.get(
                    "/v1/businesses/00000000-0000-0000-0000-000000000000",
                    headers={"Authorization": "Bearer test-api-key-of-16-chars"},
                ),
            ):
                assert response.status_code == 503
                assert response.json()["code"] == "database_unavailable"
                assert response.headers["Retry-After"] == "5"


async def test_the_docs_work_offline_with_assets_from_a_package(api: httpx.AsyncClient) -> None:
    for page, asset in [("/docs", "swagger-ui-bundle.js"), ("/redoc", "redoc.standalone.js")]:
        html = (await api.get(page)).text
        assert f"/static-offline-docs/{asset}" in html and "cdn.jsdelivr" not in html
        served = await api.get(f"/static-offline-docs/{asset}")
        assert served.status_code == 200 and len(served.content) > 100_000


async def test_warm_up_prepares_every_route_and_compiles_every_page(settings: Settings) -> None:
    app = create_app(settings)
    assert app.openapi_schema is None
    warm_up(app)
    assert app.openapi_schema is not None and "/v1/orders" in app.openapi_schema["paths"]
    on_disk = {f"pages/{page.name}" for page in (TEMPLATES_DIR / "pages").glob("*.html")}
    assert set(compile_templates()) == on_disk and "pages/activate.html" in on_disk


async def test_the_docs_can_be_turned_off(time_client: Client, settings: Settings) -> None:
    settings.api_docs = False
    app = create_app(settings, temporal=time_client)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
            for path in ("/docs", "/redoc", "/openapi.json"):
                assert (await http.get(path)).status_code == 404
            assert (await http.get("/health")).status_code == 200


async def test_requests_are_counted_by_route_template_never_by_path(
    api: httpx.AsyncClient,
) -> None:
    code_id = "a" * 24
    assert (await api.get(f"/v1/license-codes/{code_id}", headers=AUTH)).status_code == 404
    assert (await api.get("/no/such/page")).status_code == 404
    app = api._transport.app  # type: ignore[attr-defined]
    exported = generate_latest(app.app.state.metrics).decode()  # through DeclaredRefusals
    assert (
        'activation_http_requests_total{method="GET",route="/v1/license-codes/{code_id}",'
        'status="404"} 1.0'
    ) in exported
    assert 'route="unmatched",status="404"' in exported
    assert code_id not in exported and "activation_http_request_seconds_bucket" in exported
