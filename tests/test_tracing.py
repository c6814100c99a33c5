"""Traces: one order is one trace, from the API's request through the workflow and its
activities to the mail's delivery over SMTP, read from an in-memory exporter (OTLP in a
deployment)."""

from __future__ import annotations

import asyncio
import uuid

import httpx
import pytest
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.ext.asyncio import async_sessionmaker
from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment

from api.app import create_app
from core import tracing
from core.payload_codec import data_converter
from core.settings import Settings
from tests.support.activations import SERVICE
from tests.support.activations import order_body
from tests.support.api import AUTH
from tests.support.mail import MailSink
from tests.support.temporal import STARTED_FLOWS
from tests.support.temporal import end_started_flows
from workers.worker import build_worker

pytestmark = pytest.mark.asyncio


async def test_an_order_is_one_trace_from_the_request_to_smtp(
    dev_env: WorkflowEnvironment,
    settings: Settings,
    app_sessions: async_sessionmaker[AsyncSession],
    smtp: MailSink,
) -> None:
    spans = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(spans))
    tracing.use(provider)
    settings.temporal_task_queue = f"traces-{uuid.uuid4().hex[:8]}"
    try:
        client = await Client.connect(
            dev_env.client.service_client.config.target_host,
            data_converter=data_converter(settings.payload_keys),
            interceptors=tracing.temporal_interceptors(),
        )
        app = create_app(settings, temporal=client)
        async with build_worker(client, settings, app_sessions), app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://api") as http:
                ordered = await http.post("/v1/orders", json=order_body([SERVICE]), headers=AUTH)
            assert ordered.status_code == 201, ordered.text
            STARTED_FLOWS.append(dev_env.client.get_workflow_handle(ordered.json()["id"]))
            await smtp.wait_for(1, to="buyer@acme.example")
            for _ in range(50):  # the send's span ends once the activity returns
                if any(span.name == "smtp send" for span in spans.get_finished_spans()):
                    break
                await asyncio.sleep(0.1)
            await end_started_flows(dev_env)
    finally:
        tracing.use(None)
    finished = spans.get_finished_spans()
    order = next(span for span in finished if span.name == "POST /v1/orders")
    one_trace = {span.name for span in finished if span.context.trace_id == order.context.trace_id}
    assert {
        "RunWorkflow:LicenseActivationWorkflow",
        "RunActivity:license_activation.send_link",
        "smtp send",
    } <= one_trace, sorted(one_trace)
    assert any(name.startswith(("SELECT", "INSERT")) for name in one_trace), sorted(one_trace)


async def test_traces_are_off_unless_the_otel_variables_ask(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for name in ("OTEL_TRACES_EXPORTER", "OTEL_EXPORTER_OTLP_ENDPOINT",
                 "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "OTEL_SDK_DISABLED"):  # fmt: skip
        monkeypatch.delenv(name, raising=False)
    assert not tracing.asked_for()
    tracing.configure_from_environment("api")
    assert tracing.provider() is None and tracing.temporal_interceptors() == []
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", "http://127.0.0.1:4318")
    assert tracing.asked_for()
    monkeypatch.setenv("OTEL_SDK_DISABLED", "true")
    assert not tracing.asked_for()
