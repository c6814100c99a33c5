"""The API's Prometheus metrics (docs/operations.md): requests by method, route template and
status, with their latency. The route's template (`/v1/license-codes/{code_id}`), never the path:
no id, token or address reaches a label. Served on an address of their own
(`ACTIVATION_API_METRICS_ADDRESS`), not on the public port."""

from __future__ import annotations

import time

from prometheus_client import CollectorRegistry
from prometheus_client import Counter
from prometheus_client import Histogram
from starlette.types import ASGIApp
from starlette.types import Message
from starlette.types import Receive
from starlette.types import Scope
from starlette.types import Send

# Seconds: a page or an update answers in milliseconds; a start waits for its first record.
BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10)


class HttpMetrics:
    """ASGI middleware: one count and one latency sample per HTTP request."""

    def __init__(self, app: ASGIApp, registry: CollectorRegistry) -> None:
        self.app = app
        labels = ("method", "route", "status")
        self.requests = Counter(
            "activation_http_requests", "HTTP requests answered", labels, registry=registry
        )
        self.latency = Histogram(
            "activation_http_request_seconds",
            "time to answer an HTTP request",
            ("method", "route"),
            buckets=BUCKETS,
            registry=registry,
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        began, status = time.perf_counter(), 500

        async def answered(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, answered)
        finally:
            route = scope.get("route")
            template = getattr(route, "path", None) or "unmatched"
            method = scope["method"]
            self.requests.labels(method, template, str(status)).inc()
            self.latency.labels(method, template).observe(time.perf_counter() - began)
