"""The customer pages' session: it lives in a signed cookie, and the server ends it."""

from __future__ import annotations

import time

import httpx
import pytest
from temporalio.client import Client

from core.settings import Settings
from tests.support.activations import SERVICE
from tests.support.activations import order_body
from tests.support.api import AUTH
from tests.support.mail import MailSink
from tests.support.mail import code_in
from tests.support.temporal import STARTED_FLOWS

pytestmark = pytest.mark.asyncio


async def test_a_page_session_ends_on_the_server_whatever_the_browser_keeps(
    api: httpx.AsyncClient,
    time_client: Client,
    smtp: MailSink,
    settings: Settings,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    ordered = await api.post("/v1/orders", json=order_body([SERVICE]), headers=AUTH)
    STARTED_FLOWS.append(time_client.get_workflow_handle(ordered.json()["id"]))
    (mail,) = await smtp.wait_for(1, to="buyer@acme.example")
    landing = await api.get(f"/activate/{code_in(mail)}")
    assert landing.status_code == 303
    assert f"Max-Age={settings.page_session_seconds}" in landing.headers["set-cookie"]
    assert (await api.get("/activate")).status_code == 200
    kept = {"Cookie": f"activation_session={api.cookies['activation_session']}"}
    api.cookies.clear()  # as a browser that keeps the cookie past its Max-Age sends it
    later = time.time() + settings.page_session_seconds + 1
    monkeypatch.setattr(time, "time", lambda: later)
    expired = await api.get("/activate", headers=kept)
    assert expired.status_code == 400
    again = await api.get(f"/activate/{code_in(mail)}")  # the link opens a new session
    assert again.status_code == 303
    assert (await api.get("/activate")).status_code == 200
