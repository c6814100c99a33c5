"""Every mail as a person sees it: rendered in both languages, opened in Chromium at a phone's and
a desktop's width, checked for what sticks out and for the shared layout (the vendor's name on
top; why the mail came and whom to ask below), and shot to tests/screenshots/mails/."""

from __future__ import annotations

import re

import pytest
from playwright.async_api import Browser
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.ext.asyncio import async_sessionmaker

from activities.mail import MailSender
from core.settings import Settings
from core.words import text
from tests.support.browser import SHOTS
from tests.support.mail_samples import SAMPLES

pytestmark = pytest.mark.asyncio
WIDTHS = {"phone": (390, 844), "desktop": (1280, 800)}
# Names a Chinese mail may carry as they are: the sample's company, products, people and links.
NAMES = re.compile(
    r"Acme( Corp| production)?|A\*\*\* Corp|Endpoint Protection|Network Sensor|XDR( Credits)?|EDR|"
    r"Grace|UTC|"
    r"Activation Service|we_123|Webhook|[\w.*+-]+@[\w.-]+|https?://\S+|\b(us|GET|POST|PATCH|Gone)\b"
)
WIDER_THAN_THE_SCREEN = "() => document.documentElement.scrollWidth - window.innerWidth"
# The words a person reads: code (an API call in the operators' mail) is not prose.
PROSE = """() => { const body = document.body.cloneNode(true);
  body.querySelectorAll("code").forEach((c) => c.remove()); return body.innerText; }"""


@pytest.mark.parametrize("locale", ["en", "zh-TW"])
async def test_every_mail_has_the_layout_and_fits_a_phone(
    browser: Browser,
    settings: Settings,
    app_sessions: async_sessionmaker[AsyncSession],
    locale: str,
) -> None:
    mail = MailSender(settings, app_sessions)
    folder = SHOTS / "mails"
    folder.mkdir(parents=True, exist_ok=True)
    for width, (w, h) in WIDTHS.items():
        context = await browser.new_context(viewport={"width": w, "height": h})
        page = await context.new_page()
        for template, case, values in SAMPLES:
            rendered = mail.render(template, locale, values)
            name = f"{template}-{case}-{locale}-{width}"
            for part in (rendered.text, rendered.html):
                assert text(locale, f"why.{template}", brand=settings.brand_name) in part, name
                assert text(locale, "mail.support", support=settings.support_contact) in part
                assert "{{" not in part and "{%" not in part, name
            await page.set_content(rendered.html)
            assert await page.evaluate(WIDER_THAN_THE_SCREEN) <= 0, name
            header = await page.locator("td").first.inner_text()
            assert settings.brand_name in header, name
            if locale == "zh-TW":  # no English but the names the sample gives
                words = NAMES.sub("", await page.evaluate(PROSE) + rendered.subject)
                assert not re.findall(r"[A-Za-z]{2,}", words), (name, words)
            await page.screenshot(path=str(folder / f"{name}.png"), full_page=True)
        await context.close()
