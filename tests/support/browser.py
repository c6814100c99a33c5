"""Helpers of the browser tests: a screenshot that first checks the page fits a phone, and an
order placed over the API whose "Activate Now" link comes back from the mail."""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

import httpx
from playwright.async_api import Page
from playwright.async_api import ViewportSize

from tests.support.activations import order_body
from tests.support.api import AUTH
from tests.support.mail import MailSink
from tests.support.mail import text_of

# `make screenshots` points this at docs/images (the pictures the docs show).
SHOTS = Path(
    os.environ.get("ACTIVATION_SCREENSHOTS") or Path(__file__).parent.parent / "screenshots"
)
PHONE = ViewportSize(width=390, height=844)
DESKTOP = ViewportSize(width=1280, height=800)
# In a Chinese page, what may stay in Latin letters: names the catalog, the order or the vendor
# gives, addresses, versions and time zones, and codes (Activation Codes, fingerprints).
NAMES = re.compile(
    r"Acme( Corp)?|Site \d|XDR|EDR|Activation Service|English|UTC|GMT[+-]?\d*|[\w.*+-]+@[\w.-]+"
    r"|\b[A-Z0-9]{2,}(?:-[A-Z0-9]+)+\b"
)


# What sticks out of the page's content box (on a phone: a table too wide, a word too long).
STICKING_OUT = """() => {
  const main = document.querySelector("main"), box = main.getBoundingClientRect();
  const right = box.right - parseFloat(getComputedStyle(main).paddingRight) + 0.5;
  return [...main.querySelectorAll("*")]
    .filter((e) => e.getBoundingClientRect().right > right)
    .map((e) => e.tagName + ": " + e.textContent.trim().slice(0, 40));
}"""


async def shot(page: Page, name: str) -> None:
    """Screenshots at a phone's and a desktop's width, once the page is seen to fit the phone;
    a Chinese page is checked for English words but names."""
    size = page.viewport_size or PHONE
    await page.set_viewport_size(PHONE)
    assert await page.evaluate(STICKING_OUT) == [], name
    if await page.get_attribute("html", "lang") == "zh-TW":
        prose = NAMES.sub("", await page.locator("main").inner_text())
        assert not re.findall(r"[A-Za-z]{2,}", prose), (name, prose)
    SHOTS.mkdir(parents=True, exist_ok=True)
    await page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)
    await page.set_viewport_size(DESKTOP)
    await page.screenshot(path=str(SHOTS / f"{name}-desktop.png"), full_page=True)
    await page.set_viewport_size(size)


async def reload_and_back(page: Page, heading: str) -> None:
    """Reload, then Back: each is a GET of a page with `heading`, never a POST again."""
    reloaded = await page.reload()
    assert reloaded is not None and reloaded.request.method == "GET"
    assert await page.locator("h1").inner_text() == heading
    back = await page.go_back()
    assert back is not None and back.request.method == "GET", "Back resubmitted a form"
    assert await page.locator("h1").count() == 1  # a page of ours, not the browser's error


async def order(site: str, smtp: MailSink, items: list[dict[str, Any]], **extra: Any) -> str:
    """Place an order over the API; return the "Activate Now" link from the mail."""
    body = order_body(items, **extra)
    async with httpx.AsyncClient(base_url=site) as http:
        response = await http.post("/v1/orders", json=body, headers=AUTH)
        assert response.status_code == 201, response.text
    (mail,) = await smtp.wait_for(1, to=body["contact_email"])
    link = re.search(r"http\S+/activate/\S+", text_of(mail))
    assert link is not None
    return link[0]
