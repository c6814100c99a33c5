"""What the browser tests share: Debian's Chromium driven by Playwright (/usr/bin/chromium;
nothing downloads a browser), and the API with its pages served by uvicorn on the Temporal dev
server with the real worker, SMTP server and database."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from playwright.async_api import Browser
from playwright.async_api import Page
from playwright.async_api import async_playwright
from temporalio.client import Client

from api.app import create_app
from core.settings import Settings
from tests.support.declared_refusals import DeclaredRefusals
from tests.support.net import free_port
from tests.support.served import serving_on

CHROMIUM = Path("/usr/bin/chromium")


@pytest.fixture(scope="session")
async def browser() -> AsyncIterator[Browser]:
    if not CHROMIUM.exists():
        if os.environ.get("ACTIVATION_REQUIRE_BROWSER"):
            pytest.fail("the browser tests need Debian's chromium at /usr/bin/chromium")
        pytest.skip("Debian's chromium is not installed (apt-get install chromium)")
    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=["--no-sandbox"]
        )
        yield launched
        await launched.close()


@pytest.fixture
async def site(dev_client: Client, settings: Settings) -> AsyncIterator[str]:
    """The API and its pages on a free loopback port."""
    port = free_port()
    settings.public_base_url = f"http://127.0.0.1:{port}"
    observed = DeclaredRefusals(create_app(settings, temporal=dev_client))
    async with serving_on(observed, port):
        yield settings.public_base_url
    observed.assert_declared()


@pytest.fixture
async def page(browser: Browser, request: pytest.FixtureRequest) -> AsyncIterator[Page]:
    context = await browser.new_context(viewport={"width": 390, "height": 844})  # a phone
    opened = await context.new_page()
    yield opened
    await context.close()
