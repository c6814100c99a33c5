"""The FastAPI application: one Temporal client and one database engine per process."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI
from fastapi import Request
from fastapi.responses import Response
from fastapi_offline import FastAPIOffline
from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor
from prometheus_client import CollectorRegistry
from prometheus_client import start_http_server
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import configure_mappers
from starlette.types import ASGIApp
from starlette.types import Message
from starlette.types import Receive
from starlette.types import Scope
from starlette.types import Send
from temporalio.client import Client
from temporalio.client import WorkflowUpdateRPCTimeoutOrCancelledError
from temporalio.service import RPCError
from temporalio.service import RPCStatusCode

from api.body_limit import BodyLimitMiddleware
from api.errors import ApiError
from api.errors import document_common_answers
from api.errors import install_error_handlers
from api.errors import problem_response
from api.metrics import HttpMetrics
from api.pages import ShowPage
from api.pages import compile_templates
from api.pages import page_locale
from api.pages import render
from api.pages import show_page
from api.routes import account_lookups
from api.routes import accounts
from api.routes import activation_pages
from api.routes import agreement_page
from api.routes import businesses
from api.routes import codec
from api.routes import credits
from api.routes import dev_mailbox
from api.routes import email_verifications
from api.routes import events
from api.routes import health
from api.routes import installations
from api.routes import license_activations
from api.routes import link_pages
from api.routes import lookup_page
from api.routes import on_premises_pages
from api.routes import ownership_transfers
from api.routes import page_assets
from api.routes import primary_changes
from api.routes import product_registrations
from api.routes import provisioning
from api.routes import verify_page
from api.routes import webhook_deliveries
from api.routes import webhook_endpoints
from api.routes.codec import CODEC_MAX_BYTES
from api.throttle import Throttle
from core import tracing
from core.settings import Settings
from core.settings import get_settings
from core.temporal import API_RETRY
from core.temporal import connect
from models.catalog import catalog_for
from models.errors import ApiProblem
from models.errors import DomainError
from models.errors import FlowProblem
from models.records.base import make_engine
from models.records.base import make_session_factory

log = logging.getLogger(__name__)
# How an unreachable, restarting or overloaded Temporal server shows: a dropped connection
# mid-call is UNKNOWN ("transport error"). The routes handle NOT_FOUND themselves.
_UNAVAILABLE = {
    RPCStatusCode.UNAVAILABLE,
    RPCStatusCode.DEADLINE_EXCEEDED,
    RPCStatusCode.UNKNOWN,
    RPCStatusCode.CANCELLED,
    RPCStatusCode.ABORTED,
    RPCStatusCode.RESOURCE_EXHAUSTED,
    RPCStatusCode.INTERNAL,
}


def _workflow_task_failing(exc: RPCError) -> bool:
    """An update or query the server refuses because the flow's workflow task keeps failing
    (typically a worker build that cannot replay it, docs/operations.md)."""
    return any(
        detail.type_url.endswith(".WorkflowNotReadyFailure") for detail in exc.grpc_status.details
    )


class DocsOnlyFromHere:
    """The API's documentation pages load nothing from elsewhere: Redoc's bundle would fetch
    its logo from a CDN, which this Content-Security-Policy stops in the browser."""

    POLICY = (
        b"default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; "
        b"script-src 'self' 'unsafe-inline'; worker-src 'self' blob:; frame-ancestors 'none'"
    )

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] not in ("/docs", "/redoc"):
            await self.app(scope, receive, send)
            return

        async def with_policy(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = [*message.get("headers", []), (b"content-security-policy", self.POLICY)]
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, with_policy)


def create_app(settings: Settings | None = None, temporal: Client | None = None) -> FastAPI:
    settings = settings or get_settings()
    if not settings.api_keys:
        raise RuntimeError("set ACTIVATION_API_KEYS: the API refuses to run without keys")

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        engine = make_engine(settings.database_url)
        tracing.instrument(engine)
        app.state.settings = settings
        app.state.sessions = make_session_factory(engine)
        app.state.catalog = catalog_for(settings)
        # The public keys of license files (read once: the keys file does not change under us).
        app.state.license_keys = settings.license_keys().jwks()
        # Lazy: the API starts (and /health says why) even while Temporal is still coming up.
        app.state.temporal = temporal or await connect(settings, lazy=True, retry=API_RETRY)
        try:
            yield
        finally:
            await engine.dispose()

    about: dict[str, Any] = {
        "title": "Activation pipelines",
        "summary": "Durable activation pipelines of a B2B product, run as Temporal workflows.",
        "version": "0.1.0",
        "lifespan": lifespan,
    }
    if settings.api_docs:
        # /docs and /redoc with their assets served from a package: they work offline (no CDN).
        app = FastAPIOffline(**about)
        app.add_middleware(DocsOnlyFromHere)
    else:  # turned off: no /docs, /redoc or /openapi.json
        app = FastAPI(docs_url=None, redoc_url=None, openapi_url=None, **about)
    install_error_handlers(app)
    app.add_exception_handler(ShowPage, show_page)
    # Per process (docs/security.md): what anyone may ask without a key, per client and per code.
    app.state.lookup_throttle = Throttle(settings.lookups_per_client_per_hour, 3600)
    app.state.sign_up_throttle = Throttle(settings.sign_ups_per_code_per_hour, 3600)

    _answer_unavailable_parts(app, settings)
    for router in (
        health.router,
        email_verifications.router,
        verify_page.router,
        license_activations.router,
        businesses.router,
        product_registrations.router,
        accounts.router,
        ownership_transfers.router,
        link_pages.router,
        activation_pages.router,
        agreement_page.router,
        page_assets.router,
        codec.router,
        account_lookups.router,
        lookup_page.router,
        primary_changes.router,
        credits.router,
        webhook_endpoints.router,
        webhook_deliveries.router,
        events.router,
        provisioning.router,
        installations.router,
        on_premises_pages.router,
    ):
        app.include_router(router)
    if settings.is_development:
        app.include_router(dev_mailbox.router)
    app.add_middleware(
        BodyLimitMiddleware, max_bytes=settings.max_body_bytes, larger={"/codec/": CODEC_MAX_BYTES}
    )
    if (traces := tracing.provider()) is not None:
        FastAPIInstrumentor.instrument_app(app, tracer_provider=traces)
    # Outermost: what it counts is what the client got, refusals of the middlewares included.
    app.state.metrics = CollectorRegistry()
    app.add_middleware(HttpMetrics, registry=app.state.metrics)
    document_common_answers(app)
    return app


def _answer_unavailable_parts(app: FastAPI, settings: Settings) -> None:
    """Temporal or the database down is a 503 with Retry-After, never a 500: the error body for
    a program, a page in the customer's language for a browser on the customer's pages."""

    def unavailable(request: Request, problem: DomainError) -> Response:
        program = request.url.path.startswith(("/v1/", "/codec"))
        if program or "text/html" not in request.headers.get("accept", ""):
            return problem_response(problem)
        page = render(
            request, settings, "message", locale=page_locale(request, ""), status_code=503,
            key="dead.unavailable", back=False,
        )  # fmt: skip
        page.headers.update(ApiError(problem).headers or {})
        return page

    @app.exception_handler(RPCError)
    async def _temporal_down(request: Request, exc: RPCError) -> Response:
        if exc.status in _UNAVAILABLE:
            log.warning("Temporal unavailable: %s", exc.status.name if exc.status else "?")
            return unavailable(request, ApiProblem.TEMPORAL_UNAVAILABLE)
        if exc.status == RPCStatusCode.FAILED_PRECONDITION and _workflow_task_failing(exc):
            # The ActivationWorkflowTasksFailing alert names the cause; the flow is not lost.
            log.error("a flow's workflow task is failing: %s", exc.message)
            return unavailable(request, FlowProblem.FLOW_STUCK)
        raise exc

    # An update whose call timed out or was cancelled while the server was unreachable.
    @app.exception_handler(WorkflowUpdateRPCTimeoutOrCancelledError)
    async def _update_timed_out(request: Request, exc: Exception) -> Response:
        log.warning("Temporal update call did not complete")
        return unavailable(request, ApiProblem.TEMPORAL_UNAVAILABLE)

    # The lazy client's first call while the server is down ("Failed client connect: ...").
    @app.exception_handler(RuntimeError)
    async def _temporal_not_connected(request: Request, exc: RuntimeError) -> Response:
        if str(exc).startswith("Failed client connect"):
            log.warning("Temporal unreachable at connect")
            return unavailable(request, ApiProblem.TEMPORAL_UNAVAILABLE)
        raise exc

    # SQLAlchemy wraps what SQLite raises; asyncpg's refused connection arrives as an OSError.
    @app.exception_handler(OperationalError)
    @app.exception_handler(ConnectionError)
    async def _database_down(request: Request, exc: Exception) -> Response:
        log.warning("database unavailable: %s", type(exc).__name__)
        return unavailable(request, ApiProblem.DATABASE_UNAVAILABLE)


def warm_up(app: FastAPI) -> None:
    """Do before serving what the first requests would otherwise wait for: FastAPI prepares a
    router's request handling on its first request (generating the OpenAPI schema prepares
    every route), Jinja compiles a page's template on its first render, and SQLAlchemy sets up
    its mappers on the first query. About 0.2 s at start, and 30-40 ms less for the first
    visitor of a page (measured: the Activation Link's landing 40 ms cold, 5 ms warmed)."""
    configure_mappers()
    compile_templates()
    app.openapi()


def serve_api_metrics(app: FastAPI, settings: Settings) -> None:
    """The API's metrics on `ACTIVATION_API_METRICS_ADDRESS` (host:port), if set."""
    if settings.api_metrics_address:
        host, _, port = settings.api_metrics_address.rpartition(":")
        start_http_server(int(port), host or "0.0.0.0", registry=app.state.metrics)
