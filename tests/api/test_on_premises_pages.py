"""The on-premises pages in a real browser, in both languages: the printable certificate the
mail links to, and the offline activation (a typo caught by the check character, the agreement,
the license file downloaded and verified as the product would, and a request file uploaded)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import httpx
import pytest
from playwright.async_api import Page

from core.license_codes import ALPHABET
from core.license_verifier import verify
from core.words import text
from models.catalog import load_catalog
from tests.support.activations import NEXT_YEAR
from tests.support.activations import order_body
from tests.support.api import AUTH
from tests.support.browser import reload_and_back
from tests.support.browser import shot
from tests.support.mail import MailSink
from tests.support.mail import text_of

pytestmark = pytest.mark.asyncio

SENSOR = {"product": "network-sensor", "units": 5, "expires_on": NEXT_YEAR.isoformat()}


async def certificate_mail(site: str, smtp: MailSink, locale: str) -> str:
    async with httpx.AsyncClient(base_url=site) as http:
        body = order_body([SENSOR], locale=locale)
        assert (await http.post("/v1/orders", json=body, headers=AUTH)).status_code == 201
    return text_of((await smtp.wait_for(1, to="buyer@acme.example"))[0])


def code_in(mail: str) -> str:
    code = re.search(r"[A-Z2-9]{5}(?:-[A-Z2-9]{5}){4}", mail)
    assert code is not None
    return code[0]


@pytest.mark.parametrize("locale", ["en", "zh-TW"])
async def test_the_certificate_page_shows_each_code_to_print(
    site: str, page: Page, smtp: MailSink, locale: str
) -> None:
    mail = await certificate_mail(site, smtp, locale)
    link = re.search(r"http\S+/certificate\?token=\S+", mail)
    assert link is not None
    await page.goto(link[0])
    assert page.url == f"{site}/certificate"  # the token left the URL
    assert await page.locator("h1").inner_text() == text(locale, "certificate.title")
    product = load_catalog().product("network-sensor").name_in(locale)
    assert await page.locator("h2").inner_text() == product
    assert await page.locator(".activation-code").inner_text() == code_in(mail)
    await shot(page, f"14-certificate-{locale}")
    other = "zh-TW" if locale == "en" else "en"
    await page.goto(f"{site}/certificate?lang={other}")  # the switch keeps the certificate
    assert await page.locator("h1").inner_text() == text(other, "certificate.title")


@pytest.mark.parametrize("locale", ["en", "zh-TW"])
async def test_offline_activation_catches_a_typo_and_hands_out_the_license_file(
    site: str, page: Page, smtp: MailSink, locale: str, tmp_path: Path
) -> None:
    code = code_in(await certificate_mail(site, smtp, locale))
    await page.goto(f"{site}/offline-activation?lang={locale}")
    await shot(page, f"15-offline-{locale}")
    # One character mistyped (as read off a screen): refused before any lookup.
    typo = ALPHABET[(ALPHABET.index(code[7]) + 1) % len(ALPHABET)]
    await page.fill("#code", code[:7] + typo + code[8:])
    await page.fill("#fingerprint", "APPLIANCE-7F3A-19C2")
    await page.check("#accept")
    await page.get_by_role("button", name=text(locale, "offline.button")).click()
    summary = await page.locator(".error-summary").inner_text()
    assert text(locale, "offline.error.code") in summary
    assert await page.input_value("#fingerprint") == "APPLIANCE-7F3A-19C2"  # kept
    await shot(page, f"15-offline-error-{locale}")
    await reload_and_back(page, text(locale, "offline.title"))

    await page.goto(f"{site}/offline-activation")
    await page.fill("#code", code.lower().replace("-", " "))  # as a person may type it
    await page.fill("#fingerprint", "APPLIANCE-7F3A-19C2")
    await page.get_by_role("button", name=text(locale, "offline.button")).click()
    assert await page.locator("#accept-error").count() == 1  # the agreement, not accepted
    await page.check("#accept")
    await page.get_by_role("button", name=text(locale, "offline.button")).click()
    await page.wait_for_selector(f"h1:text-is('{text(locale, 'offline.ready.title')}')")
    await shot(page, f"15-offline-ready-{locale}")
    async with page.expect_download() as started:
        await page.click("#download")
    saved = tmp_path / "license.jwt"
    await (await started.value).save_as(saved)
    async with httpx.AsyncClient(base_url=site) as http:
        jwks = (await http.get("/.well-known/jwks.json")).json()
    claims = verify(saved.read_text(), jwks, fingerprint="APPLIANCE-7F3A-19C2")
    assert claims["product"] == "network-sensor" and claims["term_ends_on"] == NEXT_YEAR.isoformat()
    await reload_and_back(page, text(locale, "offline.title"))  # the file is not kept


async def test_an_uploaded_request_file_activates_the_same_way(
    site: str, page: Page, smtp: MailSink, tmp_path: Path
) -> None:
    code = code_in(await certificate_mail(site, smtp, "en"))
    request = tmp_path / "activation-request.json"
    request.write_text(json.dumps({"activation_code": code, "fingerprint": "HOST-UPLOAD-1"}))
    await page.goto(f"{site}/offline-activation")
    await page.set_input_files("#request_file", str(request))
    await page.check("#accept")
    await page.get_by_role("button", name="Get the license file").click()
    await page.wait_for_selector("h1:text-is('Your license file is ready')")
    assert "HOST-UPLOAD-1" in await page.locator("main").inner_text()
