"""The pages the invitation and transfer emails link to. GET never acts (mail scanners prefetch
links): it shows the choice; the buttons POST the token, which acts."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated
from urllib.parse import parse_qs

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, select_autoescape

from api.deps import SessionDep, TemporalDep
from api.errors import ApiError
from api.flows.local_accounts import activate_with_token, invitation_status
from api.flows.ownership_transfer import decide_with_token, transfer_status
from models.local_accounts import InvitationStatus
from models.ownership_transfer import TransferStatus
from workflows.ownership_transfer import OwnershipTransferWorkflow

router = APIRouter(tags=["links"], include_in_schema=False)

_pages = Environment(
    loader=FileSystemLoader(Path(__file__).parent.parent / "templates"),
    autoescape=select_autoescape(["html"]),
)
# The page holds a live token: keep it out of caches and out of Referer headers.
_HEADERS = {"Cache-Control": "no-store", "Referrer-Policy": "no-referrer"}
Token = Annotated[str, Query(max_length=200)]


def _page(
    title: str,
    text: str,
    *,
    status_code: int = 200,
    form_action: str = "",
    token: str = "",
    actions: list[tuple[str, str]] | None = None,
) -> HTMLResponse:
    html = _pages.get_template("link_action.html").render(
        title=title, text=text, form_action=form_action, token=token, actions=actions or []
    )
    return HTMLResponse(html, status_code=status_code, headers=_HEADERS)


async def _form(request: Request) -> dict[str, str]:
    form = parse_qs((await request.body()).decode("utf-8", "replace"))
    return {key: values[0][:200] for key, values in form.items() if values}


def _closed_page(what: str, status: str) -> HTMLResponse:
    return _page("This link cannot be used", f"The {what} is {status}.", status_code=410)


@router.get("/activate-account", response_class=HTMLResponse)
async def activate_account_page(
    client: TemporalDep, session: SessionDep, token: Token = ""
) -> HTMLResponse:
    """Shows the Activate button while the invitation is pending; changes nothing."""
    status = await invitation_status(client, session, token)
    if status is not None and status != InvitationStatus.PENDING:
        return _closed_page("invitation", status.value)
    return _page(
        "Activate your account",
        "Press the button to activate your account. 請按下按鈕以啟用您的帳號。",
        form_action="/activate-account",
        token=token,
        actions=[("activate", "Activate / 啟用")],
    )


@router.post("/activate-account", response_class=HTMLResponse)
async def activate_account_submit(
    request: Request, client: TemporalDep, session: SessionDep
) -> HTMLResponse:
    try:
        await activate_with_token(client, session, (await _form(request)).get("token", ""))
    except ApiError as err:
        return _page("This link cannot be used", err.message, status_code=err.status)
    return _page("Account activated", "You can now sign in to your instance. 帳號已啟用。")


@router.get("/ownership-transfer", response_class=HTMLResponse)
async def ownership_transfer_page(session: SessionDep, token: Token = "") -> HTMLResponse:
    """Shows Accept and Decline while the offer stands; changes nothing."""
    status = await transfer_status(session, token)
    if status is not None and status != TransferStatus.PENDING:
        return _closed_page("ownership transfer", status.value)
    return _page(
        "Become the owner",
        "You are offered the ownership of a Business: accept to become its primary account. "
        "您受邀成為企業的擁有者。",
        form_action="/ownership-transfer",
        token=token,
        actions=[("accept", "Accept / 接受"), ("decline", "Decline / 拒絕")],
    )


@router.post("/ownership-transfer", response_class=HTMLResponse)
async def ownership_transfer_submit(
    request: Request, client: TemporalDep, session: SessionDep
) -> HTMLResponse:
    form = await _form(request)
    action = form.get("action")
    if action not in ("accept", "decline"):  # never guess a decision
        return _page("Choose accept or decline", "The form was incomplete.", status_code=400)
    accept = action == "accept"
    update = OwnershipTransferWorkflow.accept if accept else OwnershipTransferWorkflow.decline
    try:
        await decide_with_token(client, session, form.get("token", ""), update)
    except ApiError as err:
        return _page("This link cannot be used", err.message, status_code=err.status)
    if accept:
        return _page("You are now the owner", "Sign in with your address to manage the Business.")
    return _page("Offer declined", "Nothing changed. The current owner is told.")
