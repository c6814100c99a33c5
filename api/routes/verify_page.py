"""The page an emailed link opens. GET never consumes the token (mail scanners prefetch links);
the button POSTs it, which confirms."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated
from urllib.parse import parse_qs

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, select_autoescape

from api.deps import SessionDep, TemporalDep
from api.errors import ApiError
from api.flows.email_verification import confirm_token, inspect_token
from models.email_verification import TokenCheck, VerificationStatus

router = APIRouter(tags=["email verification"], include_in_schema=False)

_pages = Environment(
    loader=FileSystemLoader(Path(__file__).parent.parent / "templates"),
    autoescape=select_autoescape(["html"]),
)
# The page holds a live token: keep it out of caches and out of Referer headers.
_HEADERS = {"Cache-Control": "no-store", "Referrer-Policy": "no-referrer"}


def _page(
    state: str, status_code: int = 200, token: str = "", message: str = "", purpose: str = ""
) -> HTMLResponse:
    html = _pages.get_template("verify_email.html").render(
        state=state, token=token, message=message, purpose=purpose
    )
    return HTMLResponse(html, status_code=status_code, headers=_HEADERS)


@router.get("/verify-email", response_class=HTMLResponse)
async def verify_email_page(
    client: TemporalDep, session: SessionDep, token: Annotated[str, Query(max_length=200)] = ""
) -> HTMLResponse:
    """Shows what the link is for and a confirm button; changes nothing."""
    try:
        check, state = await inspect_token(client, session, token)
    except ApiError as err:
        return _page("invalid", err.status, message=err.message)
    if check in (TokenCheck.VALID, TokenCheck.SENDING):  # the POST waits for a link in sending
        return _page("confirm", token=token)
    if check == TokenCheck.USED:
        return _page("verified")
    if state.status in (VerificationStatus.EXPIRED, VerificationStatus.LOCKED):
        return _page(state.status.value, 410 if state.status == VerificationStatus.EXPIRED else 423)
    return _page("invalid", 400)


@router.post("/verify-email", response_class=HTMLResponse)
async def verify_email_submit(
    request: Request, client: TemporalDep, session: SessionDep
) -> HTMLResponse:
    """The confirm button: a plain form post, so it works without JavaScript."""
    form = parse_qs((await request.body()).decode("utf-8", "replace"))
    token = (form.get("token") or [""])[0][:200]
    try:
        state = await confirm_token(client, session, token)
    except ApiError as err:
        return _page("error", err.status, message=err.message)
    return _page("verified", purpose=state.purpose)
