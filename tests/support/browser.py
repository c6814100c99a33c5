"""Helpers of the browser tests: a screenshot that first checks the page fits a phone, and an
order placed over the API whose "Activate Now" link comes back from the mail."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import httpx
from playwright.async_api import Page

from tests.support.activations import order_body
from tests.support.api import AUTH
from tests.support.mail import MailSink
from tests.support.mail import text_of

SHOTS = Path(__file__).parent.parent / "screenshots"


# What sticks out of the page's content box (on a phone: a table too wide, a word too long).
STICKING_OUT = """() => {
  const main = document.querySelector("main"), box = main.getBoundingClientRect();
  const right = box.right - parseFloat(getComputedStyle(main).paddingRight) + 0.5;
  return [...main.querySelectorAll("*")]
    .filter((e) => e.getBoundingClientRect().right > right)
    .map((e) => e.tagName + ": " + e.textContent.trim().slice(0, 40));
}"""


async def shot(page: Page, name: str) -> None:
    """A screenshot, once the page is seen to fit the phone's width."""
    assert await page.evaluate(STICKING_OUT) == [], name
    SHOTS.mkdir(exist_ok=True)
    await page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


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
