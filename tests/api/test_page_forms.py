"""Every form of the customer pages in a real browser: post/redirect/get on success and on error
(Back and Reload after an error show a page, never Chromium's "Confirm Form Resubmission"), a
double submission answered as the first, and the verifying step that moves on by itself, with and
without JavaScript."""

from __future__ import annotations

import asyncio
import re

import httpx
import pytest
from playwright.async_api import Browser
from playwright.async_api import Page
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.ext.asyncio import async_sessionmaker

from api.pages import FLASH_COOKIE
from core.settings import Settings
from core.words import text
from models.catalog import load_catalog
from tests.support.activations import ADDON
from tests.support.activations import SERVICE
from tests.support.activations import existing_business
from tests.support.browser import order
from tests.support.browser import reload_and_back
from tests.support.browser import shot
from tests.support.mail import MailSink
from tests.support.mail import text_of

pytestmark = pytest.mark.asyncio


async def send(page: Page, email: str, button: str) -> None:
    """Type an address and press the form's button."""
    await page.fill("#email", email)
    await page.get_by_role("button", name=button).click()


async def accept_all(page: Page, button: str = "Continue") -> None:
    for box in await page.locator("input[type=checkbox]").all():
        await box.check()
    await page.get_by_role("button", name=button).click()


async def signed_up(page: Page, site: str, smtp: MailSink, email: str) -> None:
    await page.goto(await order(site, smtp, [SERVICE]))
    await page.fill("#email", email)
    await page.get_by_role("button", name="Send verification email").click()
    await page.wait_for_selector("h1:text-is('Verifying your email')")


async def confirm(site: str, smtp: MailSink, email: str, locale: str = "en") -> None:
    """The verification mail's link, used from another device (over HTTP)."""
    mail = text_of((await smtp.wait_for(1, to=email))[-1])
    token = re.search(r"token=(\S+)", mail)
    assert token is not None
    async with httpx.AsyncClient(base_url=site, follow_redirects=True) as http:
        confirmed = await http.post("/verify-email", data={"token": token[1]})
    assert text(locale, "verify.done.title") in confirmed.text


@pytest.mark.parametrize("locale", ["en", "zh-TW"])
async def test_back_and_reload_after_an_error_on_the_activation_forms(
    site: str,
    page: Page,
    smtp: MailSink,
    app_sessions: async_sessionmaker[AsyncSession],
    locale: str,
) -> None:
    catalog = load_catalog()
    await existing_business(app_sessions, 2, email="owner@acme.example")
    await page.goto(await order(site, smtp, [ADDON], locale=locale))
    # The address: a bad one, then a good one; Reload and Back never post again.
    await send(page, "not an address", text(locale, "send"))
    assert text(locale, "email.error") in await page.locator(".error-summary").inner_text()
    assert await page.input_value("#email") == "not an address"  # what was typed stays
    await shot(page, f"error-email-{locale}")
    await reload_and_back(page, text(locale, "activate.title"))
    await page.goto(f"{site}/activate")
    await send(page, "owner@acme.example", text(locale, "send"))
    await page.wait_for_selector(f"h1:text-is('{text(locale, 'verifying.title')}')")
    back = await page.go_back()
    assert back is not None and back.request.method == "GET"

    # A different address: a bad one, then Reload and Back.
    await page.goto(f"{site}/activate/change")
    await send(page, "still not one", text(locale, "send"))
    assert page.url == f"{site}/activate/change"
    assert text(locale, "email.error") in await page.locator(".error-summary").inner_text()
    await shot(page, f"error-change-address-{locale}")
    await reload_and_back(page, text(locale, "change"))

    # The agreements: one of three ticked; the tick stays and the other two are named.
    await confirm(site, smtp, "owner@acme.example", locale)
    await page.goto(f"{site}/activate")
    await page.wait_for_selector(f"h1:text-is('{text(locale, 'agreements.title')}')")
    first, *others = catalog.required_agreements(["edr-addon"])
    terms = page.locator("details.agreement").first  # the text, on the step itself
    sample = (first.text_in(locale) or "").splitlines()[-1]
    assert sample not in await page.locator("main").inner_text()  # folded at first
    await terms.locator("summary").click()
    assert sample in await terms.inner_text()
    await page.locator("input[type=checkbox]").first.check()
    await page.get_by_role("button", name=text(locale, "continue")).click()
    summary = await page.locator(".error-summary").inner_text()
    assert all(agreement.title_in(locale) in summary for agreement in others)
    assert first.title_in(locale) not in summary
    assert await page.locator("input[type=checkbox]").first.is_checked()
    await shot(page, f"error-agreements-{locale}")
    await reload_and_back(page, text(locale, "agreements.title"))
    await page.goto(f"{site}/activate")
    await accept_all(page, text(locale, "continue"))

    # The instance: none chosen, then Reload and Back.
    add_on = catalog.product("edr-addon").name_in(locale)
    choose = text(locale, "instance.title").format(product=add_on)
    await page.wait_for_selector(f"h1:text-is('{choose}')")
    await page.get_by_role("button", name=text(locale, "continue")).click()
    assert text(locale, "instance.error") in await page.locator(".error-summary").inner_text()
    await shot(page, f"error-instance-{locale}")
    await reload_and_back(page, choose)
    await page.goto(f"{site}/activate")
    await page.locator("input[type=radio]").first.check()
    await page.get_by_role("button", name=text(locale, "continue")).click()
    done = text(locale, "done.title")
    await page.wait_for_selector(f"h1:text-is('{done}')", timeout=20_000)
    await reload_and_back(page, done)


@pytest.mark.parametrize("locale", ["en", "zh-TW"])
async def test_back_and_reload_after_an_error_on_the_account_lookup(
    site: str, page: Page, smtp: MailSink, locale: str
) -> None:
    await page.goto(f"{site}/account-lookup?lang={locale}")
    await send(page, "nope", text(locale, "lookup.button"))
    assert text(locale, "email.error") in await page.locator(".error-summary").inner_text()
    await shot(page, f"error-lookup-{locale}")
    await reload_and_back(page, text(locale, "lookup.title"))
    await page.goto(f"{site}/account-lookup")
    await send(page, "who@acme.example", text(locale, "lookup.button"))
    await page.wait_for_selector(f"h1:text-is('{text(locale, 'lookup.sent.title')}')")
    await reload_and_back(page, text(locale, "lookup.sent.title"))
    await smtp.wait_for(1, to="who@acme.example")


async def test_the_confirm_button_then_reload_and_back_say_confirmed(
    site: str, page: Page, smtp: MailSink, browser: Browser
) -> None:
    await signed_up(page, site, smtp, "it@acme.example")
    mail = text_of((await smtp.wait_for(1, to="it@acme.example"))[0])
    link = re.search(r"http\S+/verify-email\?token=\S+", mail)
    assert link is not None
    tab = await page.context.new_page()
    await tab.goto(link[0])
    await tab.get_by_role("button", name="Confirm email address").click()
    await tab.wait_for_selector("h1:text-is('Email address confirmed')")
    reloaded = await tab.reload()
    assert reloaded is not None and reloaded.request.method == "GET"
    assert await tab.locator("h1").inner_text() == "Email address confirmed"


async def test_a_double_submission_is_answered_as_the_first(
    site: str, page: Page, smtp: MailSink
) -> None:
    # In the browser: a double click sends the form once (the button is disabled meanwhile).
    await page.goto(await order(site, smtp, [SERVICE]))
    await page.fill("#email", "twice@acme.example")
    await page.get_by_role("button", name="Send verification email").dblclick()
    await page.wait_for_selector("h1:text-is('Verifying your email')")
    assert await page.locator(".error-summary").count() == 0
    await smtp.wait_for(1, to="twice@acme.example")

    # Without the script (two posts racing): both answer with the current step, no error.
    link = await order(site, smtp, [SERVICE], contact_email="other-buyer@acme.example")
    async with httpx.AsyncClient(base_url=site) as http:
        landing = await http.get(link)
        assert landing.status_code == 303
        page_html = (await http.get("/activate")).text
        csrf = re.search(r'name="csrf" value="([^"]+)"', page_html)
        assert csrf is not None
        form = {"csrf": csrf[1], "email": "race@acme.example"}
        answers = await asyncio.gather(*(http.post("/activate/email", data=form) for _ in range(2)))
        for answer in answers:
            assert answer.status_code == 303 and answer.headers["location"] == "/activate"
            assert FLASH_COOKIE not in answer.cookies  # no error left for the page
        shown = await http.get("/activate")
        assert "Verifying your email" in shown.text and "There is a problem" not in shown.text
    assert len(await smtp.wait_for(1, to="race@acme.example")) == 1


async def test_the_verifying_step_moves_on_by_itself_without_javascript(
    site: str, browser: Browser, smtp: MailSink
) -> None:
    context = await browser.new_context(java_script_enabled=False)
    page = await context.new_page()
    await signed_up(page, site, smtp, "nojs@acme.example")
    refresh = page.locator("noscript")
    assert 'http-equiv="refresh"' in await refresh.inner_html()
    await confirm(site, smtp, "nojs@acme.example")
    await page.wait_for_selector("h1:text-is('Accept the agreements')", timeout=20_000)
    await context.close()


async def test_the_verifying_step_offers_resend_when_it_may_and_says_where_it_went(
    site: str, browser: Browser, smtp: MailSink, settings: Settings
) -> None:
    settings.verification_resend_cooldown_seconds = 2
    context = await browser.new_context(timezone_id="Asia/Taipei")  # a reader far from UTC
    page = await context.new_page()
    await signed_up(page, site, smtp, "wait@acme.example")
    shown = await page.locator("main").inner_text()
    assert "w***@acme.example" in shown and "just now" in shown
    assert "less than a minute" in shown  # the wait, as a person says it
    sent_at = page.locator("time[data-clock]").first
    assert "UTC" not in await sent_at.inner_text()  # rewritten to the reader's own clock
    # Once the cooldown is over the page shows Resend by itself, no reload by hand.
    resend = page.get_by_role("button", name="Send the email again")
    await resend.wait_for(timeout=10_000)
    await resend.click()
    notice = await page.locator(".notice").inner_text()
    assert "A new verification email is on its way to w***@acme.example" in notice
    await smtp.wait_for(2, to="wait@acme.example")

    # A typo is fixed at once: no cooldown for another address.
    await page.get_by_role("link", name="Use a different email address").click()
    await send(page, "right@acme.example", "Send verification email")
    assert "r***@acme.example" in await page.locator(".notice").inner_text()
    await smtp.wait_for(1, to="right@acme.example")
    await confirm(site, smtp, "right@acme.example")
    await page.wait_for_selector("h1:text-is('Accept the agreements')", timeout=10_000)
    await context.close()


@pytest.mark.parametrize("template", [None, "https://{region}.console.example/i/{instance_id}"])
async def test_the_console_button_comes_from_the_template_or_not_at_all(
    site: str, page: Page, smtp: MailSink, settings: Settings, template: str | None
) -> None:
    """No product backend here: the console is the template's, per instance and region; with
    no template there is no button (and nothing points at the API's own pages)."""
    settings.console_url_template = template
    await signed_up(page, site, smtp, "console@acme.example")
    await confirm(site, smtp, "console@acme.example")
    await page.wait_for_selector("h1:text-is('Accept the agreements')", timeout=10_000)
    await accept_all(page)
    await page.wait_for_selector("h1:text-is('Your products are active')", timeout=20_000)
    buttons = page.get_by_role("link", name=re.compile("Open the console"))
    mails = await smtp.wait_for(2, to="console@acme.example")  # verification, confirmation
    (mail,) = [text_of(m) for m in mails if "are active" in str(m["Subject"])]
    if template is None:
        assert await buttons.count() == 0 and "/docs" not in await page.content()
        assert "Console:" not in mail
        return
    href = await buttons.get_attribute("href")
    assert href is not None and re.fullmatch(r"https://us\.console\.example/i/[\w-]+", href)
    assert f"Console: {href}" in mail


async def test_an_agreement_page_is_in_the_readers_language(site: str) -> None:
    async with httpx.AsyncClient(base_url=site) as http:
        chinese = await http.get("/agreements/privacy-notice?lang=zh-TW")
        english = await http.get("/agreements/privacy-notice?lang=en")
        unknown = await http.get("/agreements/no-such-thing")
    assert (
        chinese.status_code == 200 and "隱私權聲明" in chinese.text and "範例文字" in chinese.text
    )
    assert "Privacy Notice" in english.text and "SAMPLE TEXT" in english.text
    assert unknown.status_code == 404
