"""The pages the invitation, transfer and primary-change mails link to, in a real browser and in
both languages: what each says, its buttons, and Reload and Back after pressing one (a GET of the
link's page saying what happened, never a form posted again). Screenshots of each, and of a link
that does not work, land beside the activation's."""

from __future__ import annotations

import re

import httpx
import pytest
from playwright.async_api import Page
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.ext.asyncio import async_sessionmaker

from core.words import text
from tests.support.accounts import add_local_account
from tests.support.activations import existing_business
from tests.support.api import AUTH
from tests.support.browser import reload_and_back
from tests.support.browser import shot
from tests.support.mail import MailSink
from tests.support.mail import text_of
from tests.support.temporal import TEST_OPERATOR_KEY

pytestmark = pytest.mark.asyncio
Sessions = async_sessionmaker[AsyncSession]
LOCALES = ["en", "zh-TW"]


def link_in(smtp: MailSink, to: str, path: str, nth: int = 0) -> str:
    mails = smtp.messages(to=to)
    link = re.search(rf"http\S+/{path}\?token=\S+", text_of(mails[nth]))
    assert link is not None, f"no /{path} link in the mail to {to}"
    return link[0]


async def shown_then_pressed(
    page: Page, link: str, masked: str, title: str, button: str, done: str, name: str
) -> None:
    """A link page with its title and the masked address, shot; its button pressed, shot."""
    await page.goto(link)
    assert await page.locator("h1").inner_text() == title
    assert masked in await page.locator("main").inner_text()
    await shot(page, name)
    await press(page, button, done)
    await shot(page, f"{name}-done")


async def press(page: Page, button: str, heading: str) -> None:
    """Press a link page's button: the page that follows, reloaded and gone back from, says
    what the button did."""
    await page.get_by_role("button", name=button).click()
    await page.wait_for_selector(f"h1:text-is('{heading}')")
    await reload_and_back(page, heading)
    assert await page.locator("h1").inner_text() == heading
    assert await page.get_by_role("button", name=button).count() == 0


@pytest.mark.parametrize("locale", LOCALES)
async def test_an_invitation_is_accepted_from_its_page(
    site: str, page: Page, smtp: MailSink, app_sessions: Sessions, locale: str
) -> None:
    business_id, owner_id, (instance_id,) = await existing_business(app_sessions, 1)
    async with httpx.AsyncClient(base_url=site) as http:
        invited = await http.post(
            f"/v1/businesses/{business_id}/local-accounts",
            json={"email": "grace@acme.example", "instance_id": instance_id, "locale": locale},
            headers={**AUTH, "X-Acting-Account": owner_id},
        )
        assert invited.status_code == 202, invited.text
    await smtp.wait_for(1, to="grace@acme.example")
    link = link_in(smtp, "grace@acme.example", "activate-account")
    title, button = text(locale, "invite.title"), text(locale, "invite.button")
    done = text(locale, "invite.done.title")
    name = f"11-invitation-{locale}"
    await shown_then_pressed(page, link, "g***@acme.example", title, button, done, name)


@pytest.mark.parametrize("locale", LOCALES)
async def test_an_ownership_offer_is_decided_from_its_page(
    site: str, page: Page, smtp: MailSink, app_sessions: Sessions, locale: str
) -> None:
    business_id, owner_id, (instance_id,) = await existing_business(app_sessions, 1)
    target_id = await add_local_account(app_sessions, business_id, instance_id)
    async with httpx.AsyncClient(base_url=site) as http:
        offered = await http.post(
            f"/v1/businesses/{business_id}/ownership-transfers",
            json={"target_account_id": target_id},
            headers={**AUTH, "X-Acting-Account": owner_id},
        )
        assert offered.status_code == 202, offered.text
    await smtp.wait_for(1, to="grace@acme.example")
    await page.goto(f"{link_in(smtp, 'grace@acme.example', 'ownership-transfer')}&lang={locale}")
    assert await page.locator("h1").inner_text() == text(
        locale, "transfer.title", company="Acme Corp"
    )
    await shot(page, f"12-ownership-offer-{locale}")
    accepted = text(locale, "transfer.accepted.title")
    await press(page, text(locale, "transfer.accept"), accepted)
    await shot(page, f"12-ownership-accepted-{locale}")


@pytest.mark.parametrize("locale", LOCALES)
async def test_the_current_primary_stops_a_change_from_its_page(
    site: str, page: Page, smtp: MailSink, app_sessions: Sessions, locale: str
) -> None:
    """Support asks to move the primary account to a new address; once that address is proven,
    the current primary is told and may stop it."""
    business_id, _, _ = await existing_business(app_sessions, 1, email="owner@acme.example")
    support = {"Authorization": f"Bearer {TEST_OPERATOR_KEY}"}
    async with httpx.AsyncClient(base_url=site) as http:
        started = await http.post(
            f"/v1/businesses/{business_id}/primary-changes",
            json={"new_email": "new@acme.example", "ticket": "SUP-7", "requested_by": "bob"},
            headers=support,
        )
        assert started.status_code == 202, started.text
        await smtp.wait_for(1, to="new@acme.example")
        token = re.search(r"token=(\S+)", text_of(smtp.messages(to="new@acme.example")[0]))
        assert token is not None
        confirmed = await http.post("/v1/email-verifications/confirm", json={"token": token[1]})
        assert confirmed.status_code == 200
    await smtp.wait_for(1, to="owner@acme.example")
    link = f"{link_in(smtp, 'owner@acme.example', 'primary-change')}&lang={locale}"
    title, button = text(locale, "change.title"), text(locale, "change.button")
    done = text(locale, "change.stopped.title")
    name = f"10-stop-primary-change-{locale}"
    await shown_then_pressed(page, link, "n***@acme.example", title, button, done, name)


@pytest.mark.parametrize("locale", LOCALES)
async def test_a_link_that_does_not_work_says_what_to_do(
    site: str, page: Page, locale: str
) -> None:
    response = await page.goto(f"{site}/activate-account?token=mistyped&lang={locale}")
    assert response is not None and response.status == 400
    assert await page.locator("h1").inner_text() == text(locale, "link.invalid.title")
    await shot(page, f"13-link-invalid-{locale}")
