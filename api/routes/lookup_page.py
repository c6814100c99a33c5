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
from api.page_text import text
from api.pages import field
from api.pages import page_locale
from api.pages import read_form
from api.pages import render
from api.pages import see_other

router = APIRouter(tags=["account lookup"], include_in_schema=False)
EMAIL = TypeAdapter(EmailStr)
CSRF_COOKIE = "lookup_csrf"
PATH = "/account-lookup"


def _form(
    request: Request,
    settings: SettingsDep,
    *,
    error: str | None = None,
    typed: str = "",
    status_code: int = 400,
) -> HTMLResponse:
    csrf = request.cookies.get(CSRF_COOKIE) or secrets.token_urlsafe(24)
    response = render(
        request,
        settings,
        "lookup",
        locale=page_locale(request, ""),
        status_code=status_code if error else 200,
        csrf=csrf,
        error=error,
        typed=typed,
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
    form = await read_form(request)
    sent_token = field(form, "csrf")
    cookie = request.cookies.get(CSRF_COOKIE, "")
    if not cookie or not hmac.compare_digest(sent_token.encode(), cookie.encode()):
        # Open too long, or posted from elsewhere: nothing is sent; the form asks again.
        error = text(page_locale(request, ""), "lookup.again")
        return _form(request, settings, error=error, status_code=403)
    typed = field(form, "email").strip()
    try:
        email = str(EMAIL.validate_python(typed))
    except ValidationError:
        error = text(page_locale(request, ""), "email.error")
        return _form(request, settings, error=error, typed=typed)
    wait = request.app.state.lookup_throttle.wait(client_address(request))
    if wait is not None:
        minutes = -(-wait // 60)
        error = text(page_locale(request, ""), "lookup.busy", minutes=minutes)
        return _form(request, settings, error=error, typed=typed, status_code=429)
    await ask(session, client, settings, email, page_locale(request, ""))
    return see_other(f"{PATH}?sent=1")  # post/redirect/get
