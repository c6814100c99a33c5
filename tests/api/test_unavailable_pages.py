"""Temporal out of reach while a customer uses the pages: the browser gets a page in the
customer's language saying to try again in a few minutes (503, Retry-After), where a program
calling the API gets its error body."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from playwright.async_api import Page
from temporalio.client import Client

from api.app import create_app
from core.payload_codec import data_converter
from core.settings import Settings
from core.words import text
from tests.support.api import AUTH
from tests.support.browser import shot
from tests.support.net import free_port
from tests.support.served import serving_on

pytestmark = pytest.mark.asyncio


@pytest.fixture
async def site_without_temporal(settings: Settings) -> AsyncIterator[str]:
    """The API and its pages with a Temporal client whose server is not there."""
    temporal = await Client.connect(
        f"127.0.0.1:{free_port()}", lazy=True, data_converter=data_converter(settings.payload_keys)
    )
    port = free_port()
    settings.public_base_url = f"http://127.0.0.1:{port}"
    async with serving_on(create_app(settings, temporal=temporal), port):
        yield settings.public_base_url


@pytest.mark.parametrize("locale", ["en", "zh-TW"])
async def test_a_customer_is_asked_to_try_again_in_their_language(
    site_without_temporal: str, page: Page, locale: str
) -> None:
    await page.goto(f"{site_without_temporal}/account-lookup?lang={locale}")
    await page.get_by_label(text(locale, "email.label")).fill("owner@acme.example")
    async with page.expect_response(lambda answer: answer.request.method == "POST") as posted:
        await page.keyboard.press("Enter")
    answer = await posted.value
    assert answer.status == 503 and answer.headers["retry-after"] == "5"
    await page.wait_for_selector(f"h1:text-is('{text(locale, 'dead.unavailable.title')}')")
    assert text(locale, "dead.unavailable.text") in await page.locator("main").inner_text()
    await shot(page, f"10-unavailable-{locale}")


async def test_a_program_still_gets_the_error_body(site_without_temporal: str) -> None:
    async with httpx.AsyncClient(base_url=site_without_temporal) as http:
        answer = await http.post(
            "/v1/email-verifications",
            json={"email": "ada@example.com"},
            headers=AUTH | {"Accept": "text/html,application/json"},
        )
    assert answer.status_code == 503
    assert answer.json()["code"] == "temporal_unavailable"
