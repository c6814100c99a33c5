"""The customer's activation journey in a real browser: Playwright driving Debian's Chromium
(/usr/bin/chromium; nothing downloads a browser) against the API served by uvicorn on the
Temporal dev server with the real worker, SMTP server and database. Screenshots of each step
land in tests/screenshots/ (git-ignored)."""

from __future__ import annotations

import asyncio
import json
import re
from datetime import UTC
from datetime import date
from datetime import datetime
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.async_api import Page
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.ext.asyncio import async_sessionmaker
from temporalio.testing import WorkflowEnvironment

from core.settings import Settings
from core.signing import signed_headers
from core.words import text
from models.records.domain import AgreementAcceptance
from tests.support.activations import ADDON
from tests.support.activations import CREDITS
from tests.support.activations import SERVICE
from tests.support.activations import existing_business
from tests.support.activations import lapsed_license
from tests.support.activations import order_body
from tests.support.api import AUTH
from tests.support.browser import SHOTS
from tests.support.browser import order
from tests.support.browser import shot
from tests.support.mail import MailSink
from tests.support.mail import html_of
from tests.support.mail import text_of
from tests.support.product_backend import SECRET as PRODUCT_SECRET
from tests.support.product_backend import FakeBackend
from tests.support.product_backend import with_backend
from tests.support.temporal import STARTED_FLOWS

pytestmark = pytest.mark.asyncio


NAMES = {"en": ("Endpoint Protection", "United States"), "zh-TW": ("端點防護", "美國")}


@pytest.fixture
def settings(settings: Settings, backend: FakeBackend, tmp_path: Path) -> Settings:
    """Endpoint Protection is provisioned by a product backend, whose consoles the pages link."""
    return with_backend(settings, backend, tmp_path)


@pytest.mark.parametrize("locale", ["en", "zh-TW"])
async def test_a_new_customer_activates_everything_from_the_mail(
    site: str,
    page: Page,
    smtp: MailSink,
    app_sessions: async_sessionmaker[AsyncSession],
    backend: FakeBackend,
    locale: str,
) -> None:
    def t(key: str, **values: Any) -> str:  # the words of the order's language
        return text(locale, key, **values)

    link = await order(site, smtp, [SERVICE, CREDITS], locale=locale)
    await page.goto(link)
    assert page.url == f"{site}/activate"  # the code left the address bar
    await shot(page, f"1-activate-{locale}")
    assert await page.get_attribute("html", "lang") == locale
    assert await page.locator("h1").inner_text() == t("activate.title")
    assert await page.get_by_label(t("email.title")).is_visible()
    body = await page.locator("main").inner_text()
    # The catalog's names in the page's language ("端點防護", "美國").
    product, region = NAMES[locale]
    assert "Acme Corp" in body and product in body and "1,000" in body
    assert t("new_balance") in body

    await page.fill("#email", "not an address")
    await page.get_by_role("button", name=t("send")).click()
    assert t("email.error") in await page.locator(".error-summary").inner_text()
    await page.fill("#email", "it@acme.example")
    await page.keyboard.press("Enter")  # the keyboard alone sends the form
    await page.wait_for_selector(f"h1:text-is('{t('verifying.title')}')")
    shown = await page.locator("main").inner_text()
    assert "i***@acme.example" in shown and "it@acme.example" not in shown  # a page masks it
    await shot(page, f"2-verifying-{locale}")
    await page.reload()  # post/redirect/get: a reload shows the same step, sends nothing again
    assert await page.locator("h1").inner_text() == t("verifying.title")

    verify = text_of((await smtp.wait_for(1, to="it@acme.example"))[0])
    # The mail says what it is for: the company and products, never a raw purpose.
    # The products are named in the mail's language, as its words join them.
    products = {"en": "Endpoint Protection and XDR Credits", "zh-TW": "端點防護和XDR 點數"}
    assert products[locale] in verify and "Acme Corp" in verify and "(activation)" not in verify
    verify_link = re.search(r"http\S+/verify-email\?token=\S+", verify)
    assert verify_link is not None
    # Confirmed in a second tab, as from the mail: the first tab moves on by itself.
    mail_tab = await page.context.new_page()
    await mail_tab.goto(verify_link[0])
    assert await mail_tab.get_attribute("html", "lang") == locale  # the flow's language
    await mail_tab.get_by_role("button", name=t("verify.button")).click()
    assert t("verify.done.activation.text") in await mail_tab.locator("main").inner_text()
    await shot(mail_tab, f"3-confirmed-{locale}")
    await mail_tab.close()
    await page.wait_for_selector(f"text={t('agreements.title')}", timeout=10_000)
    # Every checkbox keeps its size, however long its label (a long one used to squeeze it).
    sizes = await page.eval_on_selector_all(
        "input[type=checkbox]", "boxes => boxes.map(b => b.getBoundingClientRect().width)"
    )
    assert len(sizes) == 3 and len(set(sizes)) == 1, sizes
    await shot(page, f"4-agreements-{locale}")
    boxes = await page.locator("input[type=checkbox]").all()
    await boxes[0].check()  # one of three: the tick stays, the others are named
    await page.get_by_role("button", name=t("continue")).click()
    summary = await page.locator(".error-summary").inner_text()
    named, ticked = {
        "en": ("Privacy Notice", "Cloud Service Terms"),
        "zh-TW": ("隱私權聲明", "雲端服務條款"),
    }[locale]
    assert named in summary and ticked not in summary
    assert await page.locator(".field-error").count() == 2
    assert await boxes[0].is_checked() and not await boxes[1].is_checked()
    for box in boxes[1:]:
        await box.focus()
        await page.keyboard.press("Space")  # ticked from the keyboard
        assert await box.is_checked()
    await page.get_by_role("button", name=t("continue")).click()
    await page.wait_for_selector(f"text={t('done.title')}", timeout=20_000)
    await shot(page, f"5-done-{locale}")
    result = await page.locator("main").inner_text()
    (instance_id,) = backend.instances
    where = f"{product} · {region}"
    console = page.get_by_role("link", name=t("console.open", name=where))
    assert await console.get_attribute("href") == f"https://console.example/{instance_id}"
    assert t("done.instance") in result and where in result  # where it went
    assert t("credit_balance") in result and "1,000" in result

    await page.goto(link)  # the link opened again shows the result, never an error
    await page.wait_for_selector(f"text={t('done.title')}")
    async with app_sessions() as session:
        records = (await session.scalars(select(AgreementAcceptance))).all()
    assert len(records) == 3  # each with who accepted it from where, with what
    assert {(r.client_address, "Chrome" in (r.user_agent or "")) for r in records} == {
        ("127.0.0.1", True)
    }


async def test_an_existing_customer_places_an_addon_in_chinese(
    site: str, page: Page, smtp: MailSink, app_sessions: async_sessionmaker[AsyncSession]
) -> None:
    await existing_business(app_sessions, 2, email="owner@acme.example")
    link = await order(site, smtp, [ADDON], locale="zh-TW")
    await page.goto(link)
    assert await page.locator("h1").inner_text() == "啟用您的產品"
    assert await page.get_attribute("html", "lang") == "zh-TW"
    await page.fill("#email", "Owner@acme.example")
    await page.get_by_role("button", name="寄送驗證信").click()
    assert "分鐘後" in await page.locator("main").inner_text()  # within the cooldown: when
    assert await page.get_by_role("button", name="重新寄送驗證信").count() == 0
    verify = re.search(r"http\S+/verify-email\?token=\S+", text_of(
        (await smtp.wait_for(1, to="owner@acme.example"))[0]))  # fmt: skip
    assert verify is not None
    await page.goto(verify[0])
    await page.get_by_role("button", name="驗證電子郵件地址").click()  # the flow's language
    await page.get_by_role("link", name="繼續啟用").click()
    await page.wait_for_selector("text=同意授權條款")
    for box in await page.locator("input[type=checkbox]").all():
        await box.check()
    await page.get_by_role("button", name="繼續").click()
    await page.wait_for_selector("text=選擇")
    await shot(page, "6-instance-zh-TW")
    await page.get_by_role("link", name="English").click()
    assert await page.locator("h1").inner_text() == "Choose the instance for EDR Add-on"
    await shot(page, "6-instance-en")
    await page.locator("input[type=radio]").nth(1).check()
    await page.get_by_role("button", name="Continue").click()
    await page.wait_for_selector("text=Your products are active", timeout=20_000)


async def test_a_renewal_says_on_the_result_page_that_it_kept_the_instance(
    site: str, page: Page, smtp: MailSink, app_sessions: async_sessionmaker[AsyncSession]
) -> None:
    business_id, _, _ = await existing_business(app_sessions, 0, email="owner@acme.example")
    await lapsed_license(app_sessions, business_id, date.today())
    link = await order(site, smtp, [SERVICE])
    await page.goto(link)
    await page.fill("#email", "owner@acme.example")
    await page.get_by_role("button", name="Send verification email").click()
    verify = re.search(r"http\S+/verify-email\?token=\S+", text_of(
        (await smtp.wait_for(1, to="owner@acme.example"))[0]))  # fmt: skip
    assert verify is not None
    await page.goto(verify[0])
    await page.get_by_role("button", name="Confirm email address").click()
    await page.get_by_role("link", name="Continue your activation").click()
    # The activation may still be recording the account: its progress page moves on by itself.
    await page.wait_for_selector("text=Accept the agreements", timeout=10_000)
    for box in await page.locator("input[type=checkbox]").all():
        await box.check()
    await page.get_by_role("button", name="Continue").click()
    await page.wait_for_selector("text=Your products are active", timeout=20_000)
    result = await page.locator("main").inner_text()
    assert "renews your license, same instance" in result and "Site 1 · United States" in result


@pytest.mark.parametrize("locale", ["en", "zh-TW"])
async def test_dead_ends_say_what_happened_and_what_to_do(
    site: str, page: Page, smtp: MailSink, settings: Settings, locale: str
) -> None:
    response = await page.goto(f"{site}/activate/not-a-code?lang={locale}")
    assert response is not None and response.status == 404
    assert await page.locator("h1").inner_text() == text(locale, "dead.invalid.title")
    assert settings.support_contact in await page.locator("footer").inner_text()
    await shot(page, f"7-link-unknown-{locale}")

    response = await page.goto(f"{site}/activate")  # no session: open the link again
    assert response is not None and response.status == 400
    assert await page.locator("h1").inner_text() == text(locale, "dead.session.title")
    await shot(page, f"7-no-session-{locale}")

    link = await order(site, smtp, [SERVICE], locale=locale)
    await page.goto(link)
    async with httpx.AsyncClient(base_url=site) as http:
        code = link.rsplit("/", 1)[1]
        order_id = (await http.get(f"/v1/activations/{code}")).json()["order_id"]
        cancelled = await http.delete(f"/v1/orders/{order_id}", headers=AUTH)
        assert cancelled.status_code == 200
    response = await page.goto(f"{site}/activate")
    assert response is not None and response.status == 410
    assert await page.locator("h1").inner_text() == text(locale, "dead.cancelled.title")
    await shot(page, f"7-withdrawn-{locale}")


@pytest.mark.parametrize("locale", ["en", "zh-TW"])
async def test_a_locked_verification_says_so_and_the_activation_asks_again(
    site: str, page: Page, smtp: MailSink, settings: Settings, locale: str
) -> None:
    """Old links of a replaced verification email count as failed attempts; after five, the
    verification locks. Its link's page says so, and the activation asks for the address again."""
    settings.verification_resend_cooldown_seconds = 0  # a change of address at once
    await page.goto(await order(site, smtp, [SERVICE], locale=locale))
    await page.fill("#email", "first@acme.example")
    await page.get_by_role("button", name=text(locale, "send")).click()
    await page.wait_for_selector(f"text={text(locale, 'verifying.title')}")
    first = re.search(r"token=(\S+)", text_of((await smtp.wait_for(1, to="first@acme.example"))[0]))
    assert first is not None
    await page.get_by_role("link", name=text(locale, "change")).click()
    await page.fill("#email", "second@acme.example")
    await page.get_by_role("button", name=text(locale, "send")).click()
    await page.wait_for_selector("text=s***@acme.example")
    second = re.search(r"http\S+/verify-email\?token=\S+", text_of(
        (await smtp.wait_for(1, to="second@acme.example"))[0]))  # fmt: skip
    assert second is not None
    # The replaced link, tried again and again (each answer is the link's page, after PRG).
    async with httpx.AsyncClient(base_url=site, follow_redirects=True) as http:
        answers = [
            (await http.post("/verify-email", data={"token": first[1]})).status_code
            for _ in range(5)
        ]
    assert answers == [400, 400, 400, 400, 423]

    # The mail's link opens in a tab of its own: the waiting page polls on in the first one and
    # may move on by itself at any moment.
    tab = await page.context.new_page()
    response = await tab.goto(second[0])  # even the newest link no longer works
    assert response is not None and response.status == 423
    assert await tab.locator("h1").inner_text() == text(locale, "verify.locked.title")
    assert text(locale, "verify.locked.activation.text") in await tab.locator("main").inner_text()
    await shot(tab, f"8-locked-{locale}")
    await tab.get_by_role("link", name=text(locale, "back")).click()
    lapsed = text(locale, "email.lapsed").format(email="s***@acme.example")
    await tab.wait_for_selector(f"text={lapsed}", timeout=10_000)
    assert await tab.input_value("#email") == ""
    await shot(tab, f"8-ask-again-{locale}")
    # The locked address, offered masked: one button sends to it again.
    again = text(locale, "email.again_button").format(email="s***@acme.example")
    await tab.get_by_role("button", name=again).click()
    await tab.wait_for_selector(f"h1:text-is('{text(locale, 'verifying.title')}')")
    await smtp.wait_for(2, to="second@acme.example")


@pytest.mark.parametrize("locale", ["en", "zh-TW"])
async def test_do_i_have_an_account_in_the_browser(
    site: str,
    page: Page,
    smtp: MailSink,
    app_sessions: async_sessionmaker[AsyncSession],
    locale: str,
) -> None:
    """The account lookup says the same words for every address (whether it has one or not)."""
    await existing_business(app_sessions, 1, email="owner@acme.example")
    await page.goto(f"{site}/account-lookup?lang={locale}")
    await page.get_by_label(text(locale, "email.label")).fill("owner@acme.example")
    await shot(page, f"9-account-lookup-form-{locale}")
    await page.keyboard.press("Enter")
    await page.wait_for_selector(f"h1:text-is('{text(locale, 'lookup.sent.title')}')")
    assert "owner@acme.example" not in await page.locator("main").inner_text()
    await shot(page, f"9-account-lookup-{locale}")
    (answer,) = await smtp.wait_for(1, to="owner@acme.example")
    assert "A*** C***" in text_of(answer)


async def test_pages_are_safe_to_show_and_forms_need_their_csrf_token(
    site: str, smtp: MailSink
) -> None:
    link = await order(site, smtp, [SERVICE])
    async with httpx.AsyncClient(base_url=site) as http:
        landing = await http.get(link)
        assert landing.status_code == 303
        assert "HttpOnly" in landing.headers["set-cookie"]
        page = await http.get("/activate")
        for header, value in [
            ("cache-control", "no-store"),
            ("referrer-policy", "no-referrer"),
            ("x-frame-options", "DENY"),
        ]:
            assert page.headers[header] == value
        assert "default-src 'none'" in page.headers["content-security-policy"]
        forged = await http.post("/activate/email", data={"email": "x@acme.example"})
        assert forged.status_code == 403
    assert smtp.messages(to="x@acme.example") == []


async def test_an_expired_link_says_so_and_what_to_do(
    api: httpx.AsyncClient, time_env: WorkflowEnvironment, smtp: MailSink
) -> None:
    """The 30 days pass on the time-skipping server (no browser needed to read a page)."""
    ordered = await api.post("/v1/orders", json=order_body([SERVICE]), headers=AUTH)
    STARTED_FLOWS.append(time_env.client.get_workflow_handle(ordered.json()["id"]))
    (mail,) = await smtp.wait_for(1)
    link = re.search(r"http\S+/activate/(\S+)", text_of(mail))
    assert link is not None
    landing = await api.get(f"/activate/{link[1]}")
    assert landing.status_code == 303
    api.cookies.update(landing.cookies)
    await time_env.sleep(timedelta(days=30, seconds=1))
    await time_env.client.get_workflow_handle(ordered.json()["id"]).result()
    page = await api.get("/activate", headers={"Accept-Language": "zh-TW"})
    assert page.status_code == 410
    assert "This Activation Link has expired" in page.text  # the order's language: English
    assert "Ask your reseller or sales contact" in page.text


async def test_an_address_not_confirmed_in_time_can_be_entered_again(
    api: httpx.AsyncClient, time_env: WorkflowEnvironment, smtp: MailSink
) -> None:
    """The verification lapses after 24 h (skipped): the page says so in words, and asks again."""
    ordered = await api.post("/v1/orders", json=order_body([SERVICE]), headers=AUTH)
    STARTED_FLOWS.append(time_env.client.get_workflow_handle(ordered.json()["id"]))
    link = re.search(r"http\S+/activate/(\S+)", text_of((await smtp.wait_for(1))[0]))
    assert link is not None
    api.cookies.update((await api.get(f"/activate/{link[1]}")).cookies)
    page = await api.get("/activate")
    csrf = re.search(r'name="csrf" value="([^"]+)"', page.text)
    assert csrf is not None
    sent = await api.post("/activate/email", data={"csrf": csrf[1], "email": "it@acme.example"})
    assert sent.status_code == 303 and sent.headers["location"] == "/activate"
    await smtp.wait_for(1, to="it@acme.example")
    await time_env.sleep(timedelta(hours=24, seconds=1))
    for _ in range(100):  # the flow learns that its child ended
        page = await api.get("/activate")
        if "could not be confirmed in time" in page.text:
            break
        await asyncio.sleep(0.05)
    assert "could not be confirmed in time" in page.text
    # The address is offered again, masked (whoever holds the link may not be who typed it).
    assert "i***@acme.example" in page.text and "it@acme.example" not in page.text
    csrf = re.search(r'name="csrf" value="([^"]+)"', page.text)
    assert csrf is not None
    again = await api.post("/activate/email", data={"csrf": csrf[1], "again": "1"})
    assert again.status_code == 303
    await smtp.wait_for(2, to="it@acme.example")
    assert "Verifying your email" in (await api.get("/activate")).text
    assert "ended as" not in page.text  # the flow's own wording is for operators


async def test_the_pages_carry_the_vendors_logo_from_the_same_origin(
    api: httpx.AsyncClient, settings: Settings, tmp_path: Path
) -> None:
    logo = tmp_path / "logo.png"
    logo.write_bytes(b"\x89PNG\r\n\x1a\n" + b"\0" * 32)
    settings.brand_logo_file = logo
    page = await api.get("/activate/not-a-code")
    assert '<img class="logo" src="/assets/logo"' in page.text
    served = await api.get("/assets/logo")
    assert served.status_code == 200 and served.headers["content-type"] == "image/png"
    assert '<link rel="icon" href="/assets/favicon.svg"' in page.text  # a tab of its own
    icon = await api.get("/assets/favicon.svg")
    assert icon.headers["content-type"] == "image/svg+xml" and settings.brand_color in icon.text


@pytest.mark.parametrize("locale", ["en", "zh-TW"])
async def test_a_product_that_takes_its_time_is_shown_setting_up_then_its_console(
    site: str,
    page: Page,
    smtp: MailSink,
    app_sessions: async_sessionmaker[AsyncSession],
    backend: FakeBackend,
    locale: str,
) -> None:
    """The product backend answers 202 and calls back later: meanwhile the page says it is
    setting the instance up, then shows its console, by itself (phone and desktop)."""

    def t(key: str, **values: Any) -> str:
        return text(locale, key, **values)

    backend.later = True
    await existing_business(app_sessions, 0, email="owner@acme.example")
    link = await order(site, smtp, [SERVICE], locale=locale)
    await page.goto(link)
    await page.fill("#email", "owner@acme.example")
    await page.get_by_role("button", name=t("send")).click()
    verify = re.search(r"http\S+/verify-email\?token=\S+", text_of(
        (await smtp.wait_for(1, to="owner@acme.example"))[0]))  # fmt: skip
    assert verify is not None
    await page.goto(verify[0])
    await page.get_by_role("button", name=t("verify.button")).click()
    await page.get_by_role("link", name=t("verify.activation")).click()
    await page.wait_for_selector(f"text={t('agreements.title')}")
    for box in await page.locator("input[type=checkbox]").all():
        await box.check()
    await page.get_by_role("button", name=t("continue")).click()
    await page.wait_for_selector(f"text={t('progress.setting_up')}", timeout=20_000)
    await shot(page, f"7-setting-up-{locale}")
    await page.set_viewport_size({"width": 1280, "height": 800})  # it moves on at this width

    (put,) = await backend.receiver.wait_for(1)
    callback = put.json()["callback_url"]
    instance_id = put.json()["instance_id"]
    body = json.dumps(
        {"instance_id": instance_id, "status": "ready", "console_url": "https://console.example/c"}
    ).encode()
    headers = signed_headers("cb_1", datetime.now(UTC), body, [PRODUCT_SECRET])
    async with httpx.AsyncClient() as http:
        assert (await http.post(callback, content=body, headers=headers)).status_code == 204
    await page.wait_for_selector(f"text={t('done.title')}", timeout=20_000)
    product, region = NAMES[locale]
    console = page.get_by_role("link", name=t("console.open", name=f"{product} · {region}"))
    assert await console.get_attribute("href") == "https://console.example/c"
    await shot(page, f"8-console-{locale}")
    await page.set_viewport_size({"width": 390, "height": 844})

    # The confirmation mail links the console too (its HTML, as a mail client shows it).
    _, confirmation = await smtp.wait_for(2, to="owner@acme.example")  # the proof, then this
    assert "https://console.example/c" in text_of(confirmation)
    await page.set_content(html_of(confirmation))
    await page.screenshot(path=str(SHOTS / f"9-confirmation-mail-{locale}.png"), full_page=True)
    await page.set_viewport_size({"width": 1280, "height": 800})
    await page.screenshot(path=str(SHOTS / f"9-confirmation-mail-{locale}-desktop.png"))
