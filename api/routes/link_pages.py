"""The pages the invitation, transfer and primary-change emails link to, in the customer pages'
look and language (docs/pages.md). GET never acts (mail scanners prefetch links): it says what
the link is about and shows the choice; the buttons POST the token (the credential), which acts."""

from __future__ import annotations

from typing import Annotated
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter
from fastapi import Query
from fastapi import Request
from fastapi.responses import HTMLResponse
from fastapi.responses import Response
from sqlalchemy.ext.asyncio import AsyncSession

from api.catalog_names import Names
from api.deps import CatalogDep
from api.deps import SessionDep
from api.deps import SettingsDep
from api.deps import TemporalDep
from api.errors import ApiError
from api.flow_clients.local_accounts import activate_with_token
from api.flow_clients.local_accounts import invitation_state
from api.flow_clients.ownership_transfer import decide_with_token
from api.flow_clients.ownership_transfer import transfer_of_link
from api.flow_clients.primary_change import change_of_link
from api.flow_clients.primary_change import object_with_token
from api.pages import PostedToken
from api.pages import field
from api.pages import flash
from api.pages import page_locale
from api.pages import read_form
from api.pages import render
from api.pages import see_other
from api.pages import see_other_with
from core import formats
from core.settings import Settings
from core.tokens import mask_email
from core.words import text
from models.contracts.local_accounts import InvitationStatus
from models.contracts.ownership_transfer import ACCEPT
from models.contracts.ownership_transfer import DECLINE
from models.contracts.ownership_transfer import TransferStatus
from models.contracts.primary_change import ChangeStatus
from models.records.domain import Account
from models.records.domain import Business
from models.records.domain import ProductInstance

router = APIRouter(tags=["links"], include_in_schema=False)
Token = Annotated[str, Query(max_length=200)]


def _page(
    request: Request, settings: Settings, locale: str, title: str, lead: str, **form: Any
) -> HTMLResponse:
    """A link page: its title and lead, and the button's form if it has one (`form_action`,
    `token`, `actions`), or `status_code`."""
    return render(request, settings, "link", locale=locale, title=title, lead=lead, **form)


def _ask(
    request: Request,
    settings: Settings,
    locale: str,
    title: str,
    lead: str,
    token: str,
    actions: list[tuple[str, str]],
    refused: dict[str, Any] | None = None,
) -> HTMLResponse:
    """A link page that asks for a choice: each button posts the token and its action back to
    this page's address (`refused`: what a refused post left for it)."""
    form: dict[str, Any] = {"form_action": request.url.path, "token": token, "actions": actions}
    form |= {"error": (refused or {}).get("error"), "error_field": "actions"}
    return _page(request, settings, locale, title, lead, **form)


def _link_page(request: Request, token: str) -> str:
    return f"{request.url.path}?{urlencode({'token': token})}"


def _see_link_page(request: Request, token: str) -> Response:
    """After a button (post/redirect/get): the link's page shows what it did, or why it could
    not, and keeps showing it on Reload and Back."""
    return see_other(_link_page(request, token))


def _closed(
    request: Request, settings: Settings, locale: str, what: str, status: str
) -> HTMLResponse:
    lead = text(
        locale,
        "closed.text",
        what=text(locale, f"what.{what}"),
        status=text(locale, f"status.{status}"),
    )
    return _page(request, settings, locale, text(locale, "closed.title"), lead, status_code=410)


def _invalid(request: Request, settings: Settings, locale: str, status: int = 400) -> HTMLResponse:
    title, lead = text(locale, "link.invalid.title"), text(locale, "link.invalid.text")
    return _page(request, settings, locale, title, lead, status_code=status)


async def _names(
    db: AsyncSession, business_id: str, instance_id: str | None, names: Names | None = None
) -> tuple[str, str]:
    """The company's name, and the instance's as a person knows it (in `names`' language)."""
    business = await db.get(Business, business_id)
    instance = await db.get(ProductInstance, instance_id) if instance_id else None
    label = names.instance(instance) if instance and names else ""
    return (business.name if business else ""), label


async def _locale(request: Request, db: AsyncSession, account_id: str | None) -> str:
    """The language of the person the link was mailed to (their account's), unless they chose."""
    account = await db.get(Account, account_id) if account_id else None
    return page_locale(request, (account.locale if account else None) or "")


@router.get("/activate-account", response_class=HTMLResponse)
async def activate_account_page(
    request: Request,
    settings: SettingsDep,
    client: TemporalDep,
    db: SessionDep,
    catalog: CatalogDep,
    token: Token = "",
) -> HTMLResponse:
    """Says who invites whom to what, and shows Activate while the invitation is pending."""
    state = await invitation_state(client, db, token)
    if state is None:
        return _invalid(request, settings, page_locale(request, ""))
    locale = await _locale(request, db, state.account_id)
    names = Names(catalog, locale)
    company, instance = await _names(db, state.business_id, state.instance_id, names)
    if state.status == InvitationStatus.ACTIVE:  # the button was pressed: say so on every visit
        title = text(locale, "invite.done.title")
        lead = text(locale, "invite.done.text", instance=instance)
        return _page(request, settings, locale, title, lead)
    if state.status != InvitationStatus.PENDING:
        return _closed(request, settings, locale, "invitation", state.status.value)
    lead = text(
        locale, "invite.text", company=company, email=mask_email(state.email), instance=instance
    )
    title, actions = text(locale, "invite.title"), [("activate", text(locale, "invite.button"))]
    return _ask(request, settings, locale, title, lead, token, actions)


@router.post("/activate-account", response_class=HTMLResponse)
async def activate_account_submit(
    request: Request, token: PostedToken, client: TemporalDep, db: SessionDep
) -> Response:
    try:
        await activate_with_token(client, db, token)
    except ApiError:  # the page as it stands now says why (used up, lapsed, cancelled…)
        pass
    return _see_link_page(request, token)


@router.get("/ownership-transfer", response_class=HTMLResponse)
async def ownership_transfer_page(
    request: Request, settings: SettingsDep, db: SessionDep, token: Token = ""
) -> HTMLResponse:
    """Says which Business is offered to whom; Accept and Decline while the offer stands."""
    found = await transfer_of_link(db, token)
    if found is None:
        return _invalid(request, settings, page_locale(request, ""))
    row, status = found
    locale = await _locale(request, db, row.to_account_id)
    company, _ = await _names(db, row.business_id, None)
    target = await db.get(Account, row.to_account_id)
    email = mask_email(target.email) if target else ""
    if status in (TransferStatus.ACCEPTED, TransferStatus.DECLINED):  # decided with this link
        outcome = "accepted" if status == TransferStatus.ACCEPTED else "declined"
        title = text(locale, f"transfer.{outcome}.title")
        lead = text(locale, f"transfer.{outcome}.text", email=email, company=company)
        return _page(request, settings, locale, title, lead)
    if status != TransferStatus.PENDING:
        return _closed(request, settings, locale, "transfer", status.value)
    title = text(locale, "transfer.title", company=company)
    lead = text(locale, "transfer.text", company=company, email=email)
    actions = [(action, text(locale, f"transfer.{action}")) for action in ("accept", "decline")]
    return _ask(request, settings, locale, title, lead, token, actions, flash(request, settings))


@router.post("/ownership-transfer", response_class=HTMLResponse)
async def ownership_transfer_submit(
    request: Request, settings: SettingsDep, client: TemporalDep, db: SessionDep
) -> Response:
    form = await read_form(request)
    action = field(form, "action")
    token = field(form, "token", 200)
    if action not in ("accept", "decline"):  # never guess a decision
        found = await transfer_of_link(db, token)
        locale = await _locale(request, db, found[0].to_account_id if found else None)
        error = text(locale, "transfer.choose")
        return see_other_with(_link_page(request, token), settings, error=error, field="actions")
    try:
        await decide_with_token(client, db, token, ACCEPT if action == "accept" else DECLINE)
    except ApiError:  # the page as it stands now says why (decided, expired, cancelled…)
        pass
    return _see_link_page(request, token)


@router.get("/primary-change", response_class=HTMLResponse)
async def primary_change_page(
    request: Request, settings: SettingsDep, db: SessionDep, token: Token = ""
) -> HTMLResponse:
    """Tells the current primary what support was asked, and offers to stop it while it waits."""
    change = await change_of_link(db, token)
    if change is None:
        return _invalid(request, settings, page_locale(request, ""))
    locale = await _locale(request, db, change.from_account_id)
    company, _ = await _names(db, change.business_id, None)
    if change.status == ChangeStatus.OBJECTED:  # stopped with this link
        lead = text(
            locale, "change.stopped.text", company=company, support=settings.support_contact
        )
        return _page(request, settings, locale, text(locale, "change.stopped.title"), lead)
    if change.status != ChangeStatus.WAITING:
        return _closed(request, settings, locale, "change", change.status)
    ends = change.objection_ends_at
    lead = text(
        locale,
        "change.text",
        email=mask_email(change.new_email),
        company=company,
        moment=formats.moment(ends, locale) if ends else "",
        support=settings.support_contact,
    )
    title, actions = text(locale, "change.title"), [("object", text(locale, "change.button"))]
    return _ask(request, settings, locale, title, lead, token, actions)


@router.post("/primary-change", response_class=HTMLResponse)
async def primary_change_submit(
    request: Request, token: PostedToken, client: TemporalDep, db: SessionDep
) -> Response:
    try:
        await object_with_token(client, db, token)
    except ApiError:  # the page as it stands now says why (done, cancelled…)
        pass
    return _see_link_page(request, token)
