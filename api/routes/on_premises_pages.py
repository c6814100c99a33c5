"""The pages of on-premises licenses (docs/on-premises.md): the printable license certificate the
mail links to, and the offline activation a customer uses, on another computer, for a product
in a closed network. Same look, languages and form rules as the other pages (docs/pages.md)."""

from __future__ import annotations

import base64
import hmac
import json
import secrets
from datetime import timedelta
from email.message import Message
from email.parser import BytesParser
from email.policy import HTTP

from fastapi import APIRouter
from fastapi import Request
from fastapi.responses import HTMLResponse
from fastapi.responses import Response
from pydantic import ValidationError

from api.catalog_names import Names
from api.deps import CatalogDep
from api.deps import SessionDep
from api.deps import SettingsDep
from api.deps import TemporalDep
from api.errors import ApiError
from api.flow_clients.on_premises import AgreementShown
from api.flow_clients.on_premises import InstallationActivate
from api.flow_clients.on_premises import activate_installation
from api.links import link_target
from api.pages import field
from api.pages import flash
from api.pages import page_locale
from api.pages import read_form
from api.pages import recall
from api.pages import remember
from api.pages import render
from api.pages import see_other
from api.pages import see_other_with
from core.license_codes import codes_sealer
from core.license_codes import normalized
from core.words import refusal_text
from core.words import text
from models.catalog import Catalog
from models.contracts.on_premises import CERTIFICATE_PREFIX
from models.records.on_premises import codes_of_order
from models.records.on_premises import company_of

router = APIRouter(tags=["customer pages"], include_in_schema=False)

CERTIFICATE_COOKIE = "certificate_link"
OFFLINE = "/offline-activation"
CSRF_COOKIE = "offline_csrf"
UPLOAD_LIMIT = 4096  # an activation request is a few hundred bytes


@router.get("/certificate", response_class=HTMLResponse)
async def certificate_page(
    request: Request, settings: SettingsDep, catalog: CatalogDep, db: SessionDep
) -> Response:
    """The certificate: each product, seats, term and Activation Code, to print or keep. The
    mail's token moves to a cookie (as the Activation Link's code does), so it leaves the URL
    and the language switch keeps the page."""
    if token := request.query_params.get("token"):
        response = see_other("/certificate")
        remember(response, settings, CERTIFICATE_COOKIE, {"token": token[:200]}, "/certificate")
        return response
    token = str(recall(request, settings, CERTIFICATE_COOKIE).get("token", ""))
    target = await link_target(db, token, CERTIFICATE_PREFIX)
    if target is None:
        return render(request, settings, "message", locale=page_locale(request, ""),
                      status_code=404, key="link.invalid", back=False)  # fmt: skip
    rows = await codes_of_order(db, target.flow_id.removeprefix(CERTIFICATE_PREFIX))
    locale = page_locale(request, rows[0].locale if rows else "")
    sealer = codes_sealer(settings)
    names = Names(catalog, locale)
    codes = [
        {"product": names.product(row.product_code), "seats": row.seats,
         "until": row.expires_on, "status": row.status,
         "code": sealer.open(row.sealed_code, row.id).decode()}
        for row in rows
    ]  # fmt: skip
    company = await company_of(db, rows)
    return render(request, settings, "certificate", locale=locale, codes=codes, company=company)


@router.get(OFFLINE, response_class=HTMLResponse)
async def offline_page(request: Request, settings: SettingsDep, catalog: CatalogDep) -> Response:
    """The form (with what a refused post left for it), or the license file it made."""
    left = flash(request, settings)
    locale = page_locale(request, "")
    csrf = request.cookies.get(CSRF_COOKIE) or secrets.token_urlsafe(24)
    response = render(
        request,
        settings,
        "offline",
        locale=locale,
        csrf=csrf,
        agreement=_agreement(catalog, locale),
        error=left.get("error"),
        error_field=left.get("field", "code"),
        typed=left.get("typed", {}),
        ready=left.get("ready"),
    )
    response.set_cookie(CSRF_COOKIE, csrf, path=OFFLINE, httponly=True, samesite="strict")
    return response


@router.post(OFFLINE, response_class=HTMLResponse)
async def offline_submit(
    request: Request,
    settings: SettingsDep,
    catalog: CatalogDep,
    db: SessionDep,
    client: TemporalDep,
) -> Response:
    """Every answer redirects (post/redirect/get): the license file to download, or the form
    again with the error beside its field."""
    locale = page_locale(request, "")
    form = await _multipart(request)
    request_file = form.get("request_file", "")
    code, fingerprint = form.get("code", "").strip(), form.get("fingerprint", "").strip()
    typed = {"code": code[:40], "fingerprint": fingerprint[:128]}

    def refused(message: str, field: str) -> Response:
        return see_other_with(OFFLINE, settings, error=message, field=field, typed=typed)

    cookie = request.cookies.get(CSRF_COOKIE, "")
    if not cookie or not hmac.compare_digest(form.get("csrf", "").encode(), cookie.encode()):
        return refused(text(locale, "offline.stale"), "code")
    if request_file:
        try:
            asked = json.loads(request_file)
            code, fingerprint = str(asked["activation_code"]), str(asked["fingerprint"])
        except (ValueError, KeyError, TypeError):
            return refused(text(locale, "offline.error.file"), "request_file")
    if normalized(code) is None:
        return refused(text(locale, "offline.error.code"), "code")
    agreement = _agreement(catalog, locale)
    if form.get("accept") != "yes":
        return refused(text(locale, "agreements.missing", titles=agreement["title"]), "accept")
    try:
        body = InstallationActivate(
            activation_code=code,
            fingerprint=fingerprint,
            agreement=AgreementShown(id=agreement["id"], version=agreement["version"]),
        )
    except ValidationError:
        return refused(text(locale, "offline.error.fingerprint"), "fingerprint")
    try:
        issued = await activate_installation(body, request, db, client, catalog, offline=True)
    except ApiError as err:
        return refused(
            refusal_text(locale, err.code, (err.headers or {}).get("Retry-After")), "code"
        )
    ready = {
        "file": base64.b64encode(issued.license_file.encode()).decode(),
        "fingerprint": fingerprint,
        # Its last day: a file valid to the end of the term ends at the next midnight (UTC).
        "until": (issued.valid_until - timedelta(seconds=1)).date().isoformat(),
    }
    return see_other_with(OFFLINE, settings, ready=ready)


def _agreement(catalog: Catalog, locale: str) -> dict[str, str]:
    """The on-premises agreement the customer accepts here, in the reader's language."""
    on_premises = [
        agreement for agreement in catalog.agreements if "on-premises" in agreement.required_for
    ]
    agreement = on_premises[0]
    return {
        "id": agreement.id,
        "version": agreement.version,
        "title": agreement.title_in(locale),
        "url": agreement.url_in(locale) or f"/agreements/{agreement.id}",
    }


async def _multipart(request: Request) -> dict[str, str]:
    """A multipart form's fields (a file's content as text), read with the standard library's
    MIME parser; a urlencoded form is read too. Values are cut to a sane length."""
    kind = request.headers.get("content-type", "")
    if not kind.startswith("multipart/form-data"):
        form = await read_form(request)
        return {name: field(form, name) for name in form}
    body = await request.body()
    parsed = BytesParser(policy=HTTP).parsebytes(f"Content-Type: {kind}\r\n\r\n".encode() + body)
    fields: dict[str, str] = {}
    for part in parsed.iter_parts() if parsed.is_multipart() else []:
        assert isinstance(part, Message)
        name = part.get_param("name", header="content-disposition")
        payload = part.get_payload(decode=True)
        if isinstance(name, str) and isinstance(payload, bytes):
            fields[name] = payload[:UPLOAD_LIMIT].decode("utf-8", "replace")
    return fields
