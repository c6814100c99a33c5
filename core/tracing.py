"""Traces (OpenTelemetry), off unless the standard `OTEL_*` variables ask for them
(docs/operations.md): an OTLP endpoint (`OTEL_EXPORTER_OTLP_ENDPOINT` or
`OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`) or `OTEL_TRACES_EXPORTER=otlp|console`, and not
`OTEL_SDK_DISABLED=true`. Then one activation is one trace: the order's request (FastAPI), its
database queries (SQLAlchemy), the workflow, its children and activities (Temporal's interceptor,
which carries the context in the headers of each call) and the mail's delivery to SMTP.

The provider is this module's, not OpenTelemetry's global one, so a test can give its own.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager

from opentelemetry import trace
from opentelemetry.instrumentation.sqlalchemy import SQLAlchemyInstrumentor
from opentelemetry.sdk.resources import SERVICE_NAME
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor
from opentelemetry.sdk.trace.export import ConsoleSpanExporter
from opentelemetry.sdk.trace.export import SpanExporter
from sqlalchemy.ext.asyncio import AsyncEngine
from temporalio.contrib.opentelemetry import TracingInterceptor

_provider: TracerProvider | None = None
NAME = "activation-pipelines"


def asked_for() -> bool:
    """Whether the environment asks for traces, as OpenTelemetry's variables say it."""
    if os.environ.get("OTEL_SDK_DISABLED", "").lower() == "true":
        return False
    exporter = os.environ.get("OTEL_TRACES_EXPORTER", "")
    endpoint = os.environ.get("OTEL_EXPORTER_OTLP_ENDPOINT") or os.environ.get(
        "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"
    )
    return exporter not in ("", "none") or bool(endpoint)


def configure_from_environment(process: str) -> None:
    """At a process's start: traces to the exporter the variables name, if they ask."""
    if not asked_for():
        return
    exporter: SpanExporter
    if os.environ.get("OTEL_TRACES_EXPORTER") == "console":
        exporter = ConsoleSpanExporter()
    else:
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

        exporter = OTLPSpanExporter()  # reads OTEL_EXPORTER_OTLP_* itself
    name = os.environ.get("OTEL_SERVICE_NAME") or f"{NAME}-{process}"
    provider = TracerProvider(resource=Resource.create({SERVICE_NAME: name}))
    provider.add_span_processor(BatchSpanProcessor(exporter))
    use(provider)


def use(provider: TracerProvider | None) -> None:
    """Trace with `provider` from now on (None: no traces)."""
    global _provider
    _provider = provider


def provider() -> TracerProvider | None:
    return _provider


def temporal_interceptors() -> list[TracingInterceptor]:
    """For the Temporal client (its workers take them from it)."""
    return [TracingInterceptor(_provider.get_tracer(NAME))] if _provider else []


def instrument(engine: AsyncEngine) -> None:
    """The engine's queries as spans, when tracing."""
    if _provider is not None:
        # The instrumentation names SQLAlchemy < 2.1; its engine events are the same in 2.1.
        SQLAlchemyInstrumentor().instrument(
            engine=engine.sync_engine, tracer_provider=_provider, skip_dep_check=True
        )


@contextmanager
def span(name: str) -> Iterator[None]:
    """A span of this service's own work (the delivery of a mail), when tracing."""
    if _provider is None:
        yield
        return
    with _provider.get_tracer(NAME).start_as_current_span(name, kind=trace.SpanKind.CLIENT):
        yield
