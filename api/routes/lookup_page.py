"""The account lookup's page (docs/pages.md): an address in, "check your inbox" out, the same
words whatever the address. Works without JavaScript; the form carries a CSRF token (a
double-submit cookie: the page has no session)."""

from __future__ import annotations

import hmac
import secrets

from fastapi import APIRouter
from fastapi import Request
from fastapi.responses import HTMLResponse
from fastapi.responses import Response
from pydantic import EmailStr
from pydantic import TypeAdapter
from pydantic import ValidationError

from api.deps import SessionDep
from api.deps import SettingsDep
from api.deps import TemporalDep
from api.deps import client_address
from api.flow_clients.account_lookup import ask
from api.pages import field
from api.pages import flash
from api.pages import page_locale
from api.pages import read_form
from api.pages import render
from api.pages import see_other
from api.pages import see_other_with
from core.words import text

router = APIRouter(tags=["account lookup"], include_in_schema=False)
EMAIL = TypeAdapter(EmailStr)
CSRF_COOKIE = "lookup_csrf"
PATH = "/account-lookup"


def _form(request: Request, settings: SettingsDep) -> HTMLResponse:
    """The form, with what a refused post left for it (the error, what was typed)."""
    left = flash(request, settings)
    csrf = request.cookies.get(CSRF_COOKIE) or secrets.token_urlsafe(24)
    response = render(
        request,
        settings,
        "lookup",
        locale=page_locale(request, ""),
        csrf=csrf,
        error=left.get("error"),
        typed=str(left.get("typed", "")),
        sent=False,
    )
    response.set_cookie(CSRF_COOKIE, csrf, path=PATH, httponly=True, samesite="strict")
    return response


@router.get(PATH, response_class=HTMLResponse)
async def lookup_page(request: Request, settings: SettingsDep, sent: bool = False) -> Response:
    if sent:
        locale = page_locale(request, "")
        return render(request, settings, "lookup", locale=locale, sent=True, error=None)
    return _form(request, settings)


@router.post(PATH, response_class=HTMLResponse)
async def lookup_submit(
    request: Request, settings: SettingsDep, session: SessionDep, client: TemporalDep
) -> Response:
    """Every answer redirects (post/redirect/get): "Check your inbox", or the form again with
    the error beside the field."""
    form = await read_form(request)
    locale = page_locale(request, "")
    sent_token = field(form, "csrf")
    cookie = request.cookies.get(CSRF_COOKIE, "")
    typed = field(form, "email").strip()

    def refused(key: str, **values: int) -> Response:
        error = text(locale, key, **values)
        return see_other_with(PATH, settings, error=error, field="email", typed=typed)

    if not cookie or not hmac.compare_digest(sent_token.encode(), cookie.encode()):
        return refused("lookup.again")  # open too long, or posted from elsewhere: nothing sent
    try:
        email = str(EMAIL.validate_python(typed))
    except ValidationError:
        return refused("email.error")
    wait = request.app.state.lookup_throttle.wait(client_address(request))
    if wait is not None:
        return refused("lookup.busy", minutes=-(-wait // 60))
    await ask(session, client, settings, email, locale)
    return see_other(f"{PATH}?sent=1")
