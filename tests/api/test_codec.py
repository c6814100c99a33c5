"""The codec endpoint: operators read the encrypted payloads of a flow through it (the Web UI's
and the CLI's codec-server protocol): with the codec key, which opens nothing else (the Web UI
shows it), or an operator key sent as a header, never in a URL."""

from __future__ import annotations

import base64
import json

import httpx
import pytest
from google.protobuf.json_format import MessageToDict
from temporalio.client import Client

from core.settings import Settings
from tests.support.activations import SERVICE
from tests.support.activations import order_body
from tests.support.api import AUTH
from tests.support.temporal import STARTED_FLOWS
from tests.support.temporal import TEST_CODEC_KEY
from tests.support.temporal import TEST_OPERATOR_KEY

pytestmark = pytest.mark.asyncio
OPERATOR = {"Authorization": f"Bearer {TEST_OPERATOR_KEY}"}
CODEC = {"Authorization": f"Bearer {TEST_CODEC_KEY}"}
UI = "http://127.0.0.1:8233"


async def started_payloads(api: httpx.AsyncClient, client: Client) -> dict[str, object]:
    """The encrypted input of an order's flow, as the Temporal server keeps it."""
    ordered = await api.post("/v1/orders", json=order_body([SERVICE]), headers=AUTH)
    handle = client.get_workflow_handle(ordered.json()["id"])
    STARTED_FLOWS.append(handle)
    history = await handle.fetch_history()
    started = history.events[0].workflow_execution_started_event_attributes
    return MessageToDict(started.input)


async def test_an_operator_reads_a_flows_input_through_the_codec(
    api: httpx.AsyncClient, time_client: Client
) -> None:
    stored = await started_payloads(api, time_client)
    assert "Acme Corp" not in json.dumps(stored)
    for path, headers in [
        ("/codec/decode", OPERATOR),  # the CLI: --codec-auth "Bearer …"
        ("/codec/decode", CODEC),  # the codec key as a header
        (f"/codec/{TEST_CODEC_KEY}/decode", {}),  # the Web UI: its key in the path
    ]:
        decoded = await api.post(path, json=stored, headers=headers | {"X-Namespace": "default"})
        assert decoded.status_code == 200, decoded.text
        (payload,) = decoded.json()["payloads"]
        assert payload["metadata"]["encoding"] == "anNvbi9wbGFpbg=="  # json/plain
        assert "buyer@acme.example" in base64.b64decode(payload["data"]).decode()

    encoded = await api.post("/codec/encode", json=decoded.json(), headers=OPERATOR)
    again = await api.post("/codec/decode", json=encoded.json(), headers=OPERATOR)
    assert again.json() == decoded.json()


async def test_the_codec_answers_only_with_its_credential(
    api: httpx.AsyncClient, time_client: Client
) -> None:
    stored = await started_payloads(api, time_client)
    for path, headers in [
        ("/codec/decode", {}),
        ("/codec/decode", {"Authorization": "Bearer wrong"}),
        ("/codec/decode", AUTH),  # the portal's API key is not an operator key
        ("/codec/wrong/decode", {}),
        (f"/codec/decode?credential={TEST_OPERATOR_KEY}", {}),  # never from the query
        (f"/codec/{TEST_OPERATOR_KEY}/decode", {}),  # an operator key never in a URL
    ]:
        refused = await api.post(path, json=stored, headers=headers)
        assert refused.status_code == 401 and refused.json()["code"] == "invalid_operator_key"
        assert "Acme" not in refused.text


async def test_an_unknown_key_or_a_bad_body_is_a_clear_4xx(api: httpx.AsyncClient) -> None:
    foreign = {"payloads": [{"metadata": {"encoding": "YmluYXJ5L2VuY3J5cHRlZA==",
                                          "encryption-key-id": "cmV0aXJlZA=="},
                             "data": "AAAA"}]}  # fmt: skip
    unknown = await api.post("/codec/decode", json=foreign, headers=OPERATOR)
    assert unknown.status_code == 422 and unknown.json()["code"] == "unknown_payload_key"
    assert "'retired'" in unknown.json()["message"]
    garbled = await api.post("/codec/decode", content=b"{not json", headers=OPERATOR)
    assert garbled.status_code == 422


async def test_browsers_may_call_it_from_the_configured_ui_origin_only(
    api: httpx.AsyncClient, settings: Settings
) -> None:
    settings.codec_cors_origins = [UI]
    preflight = {"Origin": UI, "Access-Control-Request-Method": "POST"}
    allowed = await api.options(f"/codec/{TEST_CODEC_KEY}/decode", headers=preflight)
    assert allowed.status_code == 204 and allowed.headers["access-control-allow-origin"] == UI
    assert "X-Namespace" in allowed.headers["access-control-allow-headers"]
    elsewhere = await api.options(
        "/codec/decode", headers=preflight | {"Origin": "https://evil.example"}
    )
    assert "access-control-allow-origin" not in elsewhere.headers
    answered = await api.post(
        "/codec/decode", json={"payloads": []}, headers=OPERATOR | {"Origin": UI}
    )
    assert answered.status_code == 200 and answered.headers["access-control-allow-origin"] == UI


async def test_the_codec_key_opens_nothing_but_the_codec(
    api: httpx.AsyncClient, time_client: Client
) -> None:
    """What the Web UI shows (its codec endpoint, key included) opens no support API."""
    for key in [TEST_CODEC_KEY]:
        support = await api.get(
            "/v1/businesses/00000000-0000-4000-8000-000000000000/primary-changes",
            headers={"Authorization": f"Bearer {key}"},
        )
        assert support.status_code == 401
        portal = await api.post(
            "/v1/orders", json=order_body([SERVICE]), headers={"Authorization": f"Bearer {key}"}
        )
        assert portal.status_code == 401
