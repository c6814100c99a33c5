"""The page an email-verification link opens, in the customer pages' look and language
(docs/pages.md). GET never consumes the token (mail scanners prefetch links); the button POSTs it,
which confirms. A verification that belongs to an activation leads back to it."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter
from fastapi import Query
from fastapi import Request
from fastapi.responses import HTMLResponse
from fastapi.responses import Response

from api.deps import SessionDep
from api.deps import SettingsDep
from api.deps import TemporalDep
from api.errors import ApiError
from api.flow_clients.email_verification import confirm_token
from api.flow_clients.email_verification import inspect_token
from api.pages import PostedToken
from api.pages import page_locale
from api.pages import render
from api.pages import see_other
from core.settings import Settings
from core.tokens import mask_email
from core.words import text
from models.contracts.email_verification import TokenCheck
from models.contracts.email_verification import VerificationState
from models.contracts.email_verification import VerificationStatus

router = APIRouter(tags=["email verification"], include_in_schema=False)


def _page(
    request: Request,
    settings: Settings,
    key: str,
    status_code: int = 200,
    *,
    lead: str | None = None,
    token: str = "",
    email: str = "",
    state: VerificationState | None = None,
) -> HTMLResponse:
    locale = page_locale(request, state.locale if state else "")
    confirm = key == "verify"
    activation = state is not None and state.purpose == "activation"
    if activation and key in ("verify.done", "verify.locked"):
        key = f"{key}.activation"  # says where the activation goes on, on this device or another
    return render(
        request,
        settings,
        "link",
        locale=locale,
        status_code=status_code,
        title=text(locale, f"{key.removesuffix('.activation')}.title"),
        lead=lead or text(locale, f"{key}.text", email=mask_email(email)),
        form_action="/verify-email",
        token=token,
        actions=[("confirm", text(locale, "verify.button"))] if confirm else [],
        next_url="/activate" if activation else None,
        next_label=text(locale, "verify.activation" if key.startswith("verify.done") else "back"),
    )


@router.get("/verify-email", response_class=HTMLResponse)
async def verify_email_page(
    request: Request,
    settings: SettingsDep,
    client: TemporalDep,
    session: SessionDep,
    token: Annotated[str, Query(max_length=200)] = "",
) -> HTMLResponse:
    """Shows which address the link confirms and a confirm button; changes nothing."""
    try:
        check, state = await inspect_token(client, session, token)
    except ApiError as err:
        return _page(request, settings, "link.invalid", err.status)
    if check in (TokenCheck.VALID, TokenCheck.SENDING):  # the POST waits for a link in sending
        return _page(request, settings, "verify", token=token, email=state.email, state=state)
    if check == TokenCheck.USED:
        return _page(request, settings, "verify.done", state=state)
    if state.status == VerificationStatus.EXPIRED:
        return _page(request, settings, "verify.expired", 410, state=state)
    if state.status == VerificationStatus.LOCKED:
        return _page(request, settings, "verify.locked", 423, state=state)
    return _page(request, settings, "link.invalid", 400, state=state)


@router.post("/verify-email", response_class=HTMLResponse)
async def verify_email_submit(
    token: PostedToken, client: TemporalDep, session: SessionDep
) -> Response:
    """The confirm button: a plain form post, so it works without JavaScript. Then the link's
    page (post/redirect/get) says what happened, on Reload and Back too: confirmed, or why not
    (expired, locked, replaced by a newer link)."""
    try:
        await confirm_token(client, session, token)
    except ApiError:
        pass
    return see_other(f"/verify-email?{urlencode({'token': token})}")
