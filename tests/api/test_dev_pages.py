"""What a newcomer sees on `make dev`: the development mailbox as an inbox in a browser (JSON for
scripts), and pages that ask nothing of any host but this one (no CDN)."""

from __future__ import annotations

import logging
import re
from urllib.parse import urlsplit

import httpx
import pytest
from playwright.async_api import Page
from playwright.async_api import Request

from core.logging import SkipRepeatedRequests
from core.settings import Settings
from tests.support.activations import SERVICE
from tests.support.browser import order
from tests.support.browser import shot
from tests.support.mail import MailSink

pytestmark = pytest.mark.asyncio


@pytest.fixture
def settings(settings: Settings, smtp: MailSink) -> Settings:
    """Development: the mailbox is mounted, and reads the folder the test's SMTP server fills."""
    settings.mailbox_dir.symlink_to(smtp.maildir, target_is_directory=True)
    return settings.model_copy(update={"environment": "development"})


async def test_the_mailbox_is_an_inbox_in_a_browser_and_json_for_scripts(
    site: str, page: Page, smtp: MailSink
) -> None:
    link = await order(site, smtp, [SERVICE])
    async with httpx.AsyncClient(base_url=site) as http:
        mails = (await http.get("/dev/mailbox")).json()  # a script's view
    assert [mail["to"] for mail in mails] == ["buyer@acme.example"]
    await page.goto(f"{site}/dev/mailbox")
    assert await page.locator("h1").inner_text() == "Mailbox"
    await page.get_by_role("link", name=re.compile("Activate the licenses")).first.click()
    frame = page.frame_locator("iframe.mail")
    button = frame.get_by_role("link", name="Activate Now")
    assert await button.get_attribute("href") == link
    await shot(page, "dev-mailbox-mail")


async def test_no_page_asks_anything_of_another_host(site: str, page: Page, smtp: MailSink) -> None:
    """Every request the browser sends to the network (one the page's own policy stops in the
    browser is none) goes to this host."""
    elsewhere: list[str] = []

    def sent(request: Request) -> None:
        if urlsplit(request.url).hostname not in ("127.0.0.1", "localhost", None):
            elsewhere.append(request.url)

    def stopped(request: Request) -> None:
        if request.failure == "csp" and request.url in elsewhere:
            elsewhere.remove(request.url)  # the page's policy kept it in the browser

    page.on("request", sent)
    page.on("requestfailed", stopped)
    link = await order(site, smtp, [SERVICE])
    for path in (link, "/activate", "/account-lookup", "/agreements/privacy-notice", "/docs"):
        await page.goto(path if path.startswith("http") else f"{site}{path}")
        await page.wait_for_load_state("networkidle")
    await page.goto(f"{site}/redoc")
    await page.wait_for_load_state("networkidle")
    assert elsewhere == []


@pytest.mark.filterwarnings("ignore::pytest.PytestWarning")  # a plain function among async ones
def test_the_development_log_leaves_out_polls_and_assets() -> None:
    keep = SkipRepeatedRequests()

    def line(request: str) -> logging.LogRecord:
        message = '%s - "%s HTTP/1.1" %d'
        args = ("127.0.0.1:5000", request, 200)
        return logging.LogRecord("uvicorn.access", logging.INFO, "", 0, message, args, None)

    assert not keep.filter(line("GET /activate/status"))
    assert not keep.filter(line("GET /assets/pages.css"))
    assert keep.filter(line("POST /activate/email"))
    assert keep.filter(line("GET /activate"))
