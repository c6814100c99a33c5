"""What every customer page shares (docs/pages.md): one look (branding from settings), one
language per page, a signed session cookie that carries the link's code (so no secret stays in a
page's URL after the first landing), a CSRF token in every form, and headers that keep a page out
of caches, out of Referer headers and away from any script or frame it did not ask for."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import time
from dataclasses import dataclass
from datetime import UTC
from datetime import datetime
from pathlib import Path
from typing import Annotated
from typing import Any
from urllib.parse import parse_qs

from fastapi import Depends
from fastapi import Request
from fastapi.responses import HTMLResponse
from fastapi.responses import RedirectResponse
from fastapi.responses import Response
from jinja2 import Environment
from jinja2 import FileSystemLoader
from jinja2 import StrictUndefined
from jinja2 import select_autoescape
from markupsafe import Markup

from core import formats
from core.settings import Settings
from core.tokens import mask_email
from core.words import LANGUAGE_NAMES
from core.words import LOCALES
from core.words import ago
from core.words import html_text
from core.words import locale_of
from core.words import within

SESSION_COOKIE = "activation_session"
# What a refused form leaves for the page it redirects to (post/redirect/get on error too).
FLASH_COOKIE = "activation_flash"
FLASH_SECONDS = 120
LOCALE_COOKIE = "activation_locale"
HEADERS = {
    "Cache-Control": "no-store",
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    # One stylesheet of our own, one small script of our own (progress), nothing else.
    "Content-Security-Policy": (
        "default-src 'none'; style-src 'self'; script-src 'self'; img-src 'self' data:; "
        "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
    ),
}
TEMPLATES_DIR = Path(__file__).parent / "templates"
_templates = Environment(
    loader=FileSystemLoader(TEMPLATES_DIR),
    autoescape=select_autoescape(["html"]),
    undefined=StrictUndefined,
)
# A page shows every address masked (docs/security.md, "Addresses shown to people").
_templates.filters["masked"] = mask_email


def compile_templates() -> list[str]:
    """Compile every page's template now, at startup, rather than in a customer's first visit
    (a template that does not compile then stops the start); the names compiled."""
    names = _templates.list_templates(extensions=["html"])
    for name in names:
        _templates.get_template(name)
    return names


@dataclass
class PageSession:
    """What the customer's browser holds for its activation: the code and a CSRF secret."""

    code: str
    csrf: str


def _sign(settings: Settings, payload: str) -> str:
    key = hashlib.sha256(f"pages:{settings.secret_key}".encode()).digest()
    return hmac.new(key, payload.encode(), hashlib.sha256).hexdigest()


def read_session(request: Request, settings: Settings) -> PageSession | None:
    """The session the cookie carries, if its signature holds and it has not expired (the
    server decides, whatever the browser keeps: the Activation Link starts a new one)."""
    data = _unsealed(settings, request.cookies.get(SESSION_COOKIE, ""))
    if data is None:
        return None
    try:
        if time.time() >= float(data["until"]):
            return None
        return PageSession(code=str(data["code"]), csrf=str(data["csrf"]))
    except (ValueError, KeyError, TypeError):
        return None


def _sealed(settings: Settings, data: dict[str, Any]) -> str:
    payload = base64.urlsafe_b64encode(json.dumps(data).encode()).decode()
    return f"{payload}.{_sign(settings, payload)}"


def _unsealed(settings: Settings, raw: str) -> dict[str, Any] | None:
    payload, _, signature = raw.rpartition(".")
    if not payload or not hmac.compare_digest(signature, _sign(settings, payload)):
        return None
    try:
        data = json.loads(base64.urlsafe_b64decode(payload.encode()))
    except ValueError:
        return None
    return data if isinstance(data, dict) else None


def _set_sealed(
    response: Response,
    settings: Settings,
    name: str,
    data: dict[str, Any],
    max_age: int,
    path: str = "/",
) -> None:
    """A signed cookie only the server reads (HttpOnly), sent back on top-level navigation."""
    response.set_cookie(
        name,
        _sealed(settings, data),
        max_age=max_age,
        httponly=True,
        samesite="lax",
        secure=settings.public_base_url.startswith("https://"),
        path=path,
    )


def remember(
    response: Response, settings: Settings, name: str, data: dict[str, Any], path: str
) -> None:
    """What a page keeps for the browser that opened it (a link's token), signed, for a session."""
    _set_sealed(response, settings, name, data, settings.page_session_seconds, path)


def recall(request: Request, settings: Settings, name: str) -> dict[str, Any]:
    return _unsealed(settings, request.cookies.get(name, "")) or {}


def start_session(response: Response, settings: Settings, code: str) -> None:
    lifetime = settings.page_session_seconds
    session = {"code": code, "csrf": secrets.token_urlsafe(16), "until": time.time() + lifetime}
    _set_sealed(response, settings, SESSION_COOKIE, session, lifetime, path="/activate")


async def read_form(request: Request) -> dict[str, list[str]]:
    """A plain form post (works without JavaScript); values are cut to a sane length."""
    form = parse_qs((await request.body()).decode("utf-8", "replace"))
    return {key: [value[:320] for value in values] for key, values in form.items()}


def field(form: dict[str, list[str]], name: str, limit: int = 320) -> str:
    """A form field's first value ("" when absent); a token's field is cut at 200."""
    return (form.get(name) or [""])[0][:limit]


async def _posted_token(request: Request) -> str:
    return field(await read_form(request), "token", 200)


# The token a link page's form posts back (its confirm button).
PostedToken = Annotated[str, Depends(_posted_token)]


def clock(at: datetime) -> Markup:
    """A time of day on a page: UTC for the server, the reader's own clock where the page's
    script runs (it rewrites every `time[data-clock]`)."""
    utc = at.astimezone(UTC)
    return Markup('<time datetime="{}" data-clock>{}</time>').format(
        utc.isoformat(), utc.strftime("%H:%M\u00a0UTC")
    )


def csrf_ok(session: PageSession, form: dict[str, list[str]]) -> bool:
    given = field(form, "csrf")
    return hmac.compare_digest(given.encode(), session.csrf.encode())


def page_locale(request: Request, default: str) -> str:
    return locale_of(
        request.query_params.get("lang") or request.cookies.get(LOCALE_COOKIE),
        request.headers.get("accept-language"),
        default,
    )


def render(
    request: Request,
    settings: Settings,
    template: str,
    *,
    locale: str,
    status_code: int = 200,
    **context: Any,
) -> HTMLResponse:
    def t(key: str, **values: Any) -> Markup:
        return html_text(locale, key, **values)

    html = _templates.get_template(f"pages/{template}.html").render(
        t=t,
        locale=locale,
        languages=[(code, LANGUAGE_NAMES[code]) for code in LOCALES],
        path=request.url.path,
        brand=settings.brand_name,
        logo=settings.brand_logo_file is not None,
        brand_color=settings.brand_color,
        support=settings.support_contact,
        clock=clock,
        number=lambda value: formats.number(value, locale),
        day=lambda value: formats.day(value, locale),
        ago=lambda at: ago(locale, (datetime.now(UTC) - at).total_seconds()),
        within=lambda seconds: within(locale, seconds),
        **context,
    )
    response = HTMLResponse(html, status_code=status_code, headers=HEADERS)
    if FLASH_COOKIE in request.cookies and request.method == "GET":
        response.delete_cookie(FLASH_COOKIE)
    if request.query_params.get("lang") in LOCALES:
        response.set_cookie(LOCALE_COOKIE, locale, samesite="lax", httponly=True)
    return response


class ShowPage(Exception):
    """Raised where a request cannot go on (no session, a dead link, a forged form): the page
    that says so is the answer."""

    def __init__(self, response: Response) -> None:
        self.response = response


async def show_page(_: Request, exc: Exception) -> Response:
    assert isinstance(exc, ShowPage)
    return exc.response


def see_other(url: str) -> RedirectResponse:
    """Post/redirect/get: a reload after a form shows the current step, never resubmits."""
    return RedirectResponse(url, status_code=303, headers=HEADERS)


def see_other_with(url: str, settings: Settings, **flash: Any) -> RedirectResponse:
    """Post/redirect/get for a refused form too: what the page must say (the error, the field,
    what was typed or ticked) goes to the GET in a short-lived signed cookie, so that Back and
    Reload show a page, never the browser's "Confirm Form Resubmission"."""
    response = see_other(url)
    data = {"path": url.partition("?")[0], "until": time.time() + FLASH_SECONDS, **flash}
    _set_sealed(response, settings, FLASH_COOKIE, data, FLASH_SECONDS)
    return response


def flash(request: Request, settings: Settings) -> dict[str, Any]:
    """What the form that redirected here left for this page ({} when nothing, or meant for
    another page); the page's answer clears it (render), so a reload shows the page afresh."""
    data = _unsealed(settings, request.cookies.get(FLASH_COOKIE, ""))
    if not data or data.get("path") != request.url.path:
        return {}
    if time.time() >= float(data.get("until", 0)):
        return {}
    return data
