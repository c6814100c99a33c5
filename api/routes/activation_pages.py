"""The customer's activation journey in the browser (docs/pages.md): the "Activate Now" link lands
here, the code moves into a session cookie, and every page shows the flow's current step, read
from the flow itself; every form posts to the same flow functions the JSON API uses, then
redirects (post/redirect/get). Works without JavaScript."""

from __future__ import annotations

import math
from collections.abc import Awaitable
from dataclasses import dataclass
from datetime import UTC
from datetime import datetime
from typing import Annotated
from typing import Any
from typing import TypeVar

from fastapi import APIRouter
from fastapi import Depends
from fastapi import Request
from fastapi.responses import HTMLResponse
from fastapi.responses import JSONResponse
from fastapi.responses import Response
from pydantic import EmailStr
from pydantic import TypeAdapter
from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from temporalio.client import Client

from api.catalog_names import Names
from api.deps import CatalogDep
from api.deps import SessionDep
from api.deps import SettingsDep
from api.deps import TemporalDep
from api.deps import require_sign_up_allowance
from api.deps import user_agent
from api.errors import ApiError
from api.flow_clients import email_verification as verifications
from api.flow_clients.license_activation import ActivationPublic
from api.flow_clients.license_activation import Error
from api.flow_clients.license_activation import flow_handle
from api.flow_clients.license_activation import order_of_code
from api.flow_clients.license_activation import read_activation
from api.flow_clients.license_activation import signup_input
from api.flow_clients.license_activation import update_flow
from api.mail_limit import require_mail_allowance
from api.pages import PageSession
from api.pages import ShowPage
from api.pages import csrf_ok
from api.pages import field
from api.pages import flash
from api.pages import page_locale
from api.pages import read_form
from api.pages import read_session
from api.pages import render
from api.pages import see_other
from api.pages import see_other_with
from api.pages import start_session
from core import formats
from core.settings import Settings
from core.words import listed
from core.words import refusal_text
from core.words import text
from models.catalog import Catalog
from models.contracts import email_verification as verification
from models.contracts.email_verification import ChangeEmailInput
from models.contracts.flow import Update
from models.contracts.license_activation import ACCEPT_AGREEMENTS
from models.contracts.license_activation import CHOOSE_INSTANCE
from models.contracts.license_activation import CREATE_ACCOUNT
from models.contracts.license_activation import AcceptAgreementsInput
from models.contracts.license_activation import ActivationState
from models.contracts.license_activation import ActivationStatus
from models.contracts.license_activation import AgreementRef
from models.contracts.license_activation import ChooseInstanceInput
from models.records.domain import Business
from models.records.domain import ProductInstance

ArgT = TypeVar("ArgT")
router = APIRouter(tags=["customer pages"], include_in_schema=False)
EMAIL = TypeAdapter(EmailStr)
# How a flow that no longer waits for the customer is shown: its page and HTTP status.
DEAD_ENDS = {
    ActivationStatus.EXPIRED: ("dead.expired", 410),
    ActivationStatus.CANCELLED: ("dead.cancelled", 410),
    ActivationStatus.FAILED: ("dead.failed", 409),
}
CHANGE_PAGE = "/activate/change"  # a different address, while the verification mail is out
STEPS = {
    ActivationStatus.AWAITING_ACCOUNT: ("email", "activate.title"),
    ActivationStatus.VERIFYING_EMAIL: ("verifying", "verifying.title"),
    ActivationStatus.AWAITING_AGREEMENTS: ("agreements", "agreements.title"),
    ActivationStatus.AWAITING_INSTANCE_CHOICE: ("instance", "instance.title"),
    ActivationStatus.PROVISIONING: ("progress", "progress.title"),
    ActivationStatus.ACTIVATED: ("done", "done.title"),
}


def _message(
    request: Request, settings: Settings, key: str, status: int, *, back: bool = False
) -> HTMLResponse:
    locale = page_locale(request, "")
    return render(
        request, settings, "message", locale=locale, status_code=status, key=key, back=back
    )


@dataclass
class Visit:
    """One request of the journey: the customer's session and their activation as it stands."""

    request: Request
    settings: Settings
    catalog: Catalog
    db: AsyncSession
    client: Client
    session: PageSession
    order_id: str
    state: ActivationPublic
    form: dict[str, list[str]]

    @property
    def locale(self) -> str:
        return page_locale(self.request, self.state.locale)

    def field(self, name: str) -> str:
        return field(self.form, name)

    def update(
        self, update: Update[ArgT, ActivationState], input: ArgT
    ) -> Awaitable[ActivationPublic]:
        return update_flow(flow_handle(self.client, self.order_id), update, input)

    def refused(self, error: str, field: str, **kept: Any) -> Response:
        """A form the step refuses: back to the step's page (post/redirect/get), which says why
        beside `field` and shows what the customer typed or ticked (`kept`)."""
        page = CHANGE_PAGE if self.state.status == ActivationStatus.VERIFYING_EMAIL else "/activate"
        return see_other_with(page, self.settings, error=error, field=field, **kept)


async def _visit(
    request: Request,
    settings: SettingsDep,
    catalog: CatalogDep,
    db: SessionDep,
    client: TemporalDep,
) -> Visit:
    """The session's activation as it stands; a form post needs its CSRF token too. Where there
    is none, the page saying why is the answer (ShowPage)."""
    page_session = read_session(request, settings)
    if page_session is None:
        raise ShowPage(_message(request, settings, "dead.session", 400))
    try:
        order_id = await order_of_code(db, page_session.code)
        state = await read_activation(flow_handle(client, order_id), Error.NOT_FOUND)
    except ApiError:
        raise ShowPage(_message(request, settings, "dead.invalid", 404)) from None
    form: dict[str, list[str]] = {}
    if request.method == "POST":
        form = await read_form(request)
        if not csrf_ok(page_session, form):
            raise ShowPage(_message(request, settings, "dead.form", 403, back=True))
    return Visit(request, settings, catalog, db, client, page_session, order_id, state, form)


VisitDep = Annotated[Visit, Depends(_visit)]


@router.get("/activate/status", include_in_schema=False)
async def activation_status(
    request: Request, settings: SettingsDep, db: SessionDep, client: TemporalDep
) -> JSONResponse:
    """For the progress page's script: the step (and whether the vendor's product is setting
    an instance up, which the page says), nothing more."""
    page_session = read_session(request, settings)
    if page_session is None:
        return JSONResponse({"status": None}, status_code=400)
    order_id = await order_of_code(db, page_session.code)
    state = await read_activation(flow_handle(client, order_id), Error.NOT_FOUND)
    return JSONResponse(
        {"status": state.status, "setting_up": state.setting_up},
        headers={"Cache-Control": "no-store"},
    )


@router.get(CHANGE_PAGE, response_class=HTMLResponse)
async def change_address_page(visit: VisitDep) -> Response:
    """The form for a different address, on a page of its own: the verifying page refreshes
    itself, which would wipe what is being typed."""
    if visit.state.status != ActivationStatus.VERIFYING_EMAIL:
        return see_other("/activate")
    return await _step_page(visit, step="change")


# Declared after the pages under /activate/…: the link's code is whatever else follows.
@router.get("/activate/{code}", response_class=HTMLResponse)
async def activation_link(
    code: str, request: Request, settings: SettingsDep, db: SessionDep
) -> Response:
    """The "Activate Now" link: its code moves into the session, out of the URL (and of any
    Referer or history entry after this), and the activation page follows."""
    try:
        await order_of_code(db, code[:200])
    except ApiError:
        return _message(request, settings, "dead.invalid", 404)
    response = see_other("/activate")
    start_session(response, settings, code[:200])
    return response


@router.get("/activate", response_class=HTMLResponse)
async def activation_page(visit: VisitDep) -> Response:
    """The step the activation is at: a reload or a link opened twice shows the current one."""
    return await _step_page(visit)


async def _step_page(visit: Visit, step: str = "") -> HTMLResponse:
    state, settings, catalog, locale = visit.state, visit.settings, visit.catalog, visit.locale
    if state.status in DEAD_ENDS:
        key, status = DEAD_ENDS[state.status]
        return render(
            visit.request, settings, "message", locale=locale, status_code=status, key=key
        )
    step, title_key = (step, "change") if step else STEPS[state.status]
    names = Names(catalog, locale)
    left = flash(visit.request, settings)  # what a refused form left for this page
    balance = 0
    if state.business_id:
        business = await visit.db.get(Business, state.business_id)
        balance = business.credit_balance if business else 0
    credits = sum(item.credits for item in state.items if item.kind == "credits")
    context: dict[str, Any] = {
        "state": state,
        "step": step,
        "csrf": visit.session.csrf,
        "balance": balance,
        "credits": 0 if step == "done" else credits,
        "expires": formats.moment(state.link_expires_at, locale),
        "typed": str(left.get("typed", "")),
        "ticked": set(left.get("ticked", [])),
        "missing": set(left.get("missing", [])),
        "error": left.get("error"),
        "error_field": left.get("field", ""),
        "notice": left.get("notice"),
        "names": names,
    }
    instances = await _instances(visit) if step == "done" else {}
    context["instances"] = {id: names.instance(row) for id, row in instances.items()}
    context["consoles"] = _consoles(visit, instances, names)
    awaiting = state.licenses_awaiting_choice
    addons = [names.product(i.product_code) for i in state.items if i.license_id in awaiting]
    context["addon"] = addons[0] if addons else ""
    if step in ("verifying", "change") and state.verification_id:
        context.update(await _verifying(visit))
    title = text(locale, title_key, product=context["addon"])
    return render(visit.request, settings, "activate", locale=locale, title=title, **context)


async def _verifying(visit: Visit) -> dict[str, Any]:
    """What the verifying step says: where and when the mail went, and when another can."""
    assert visit.state.verification_id
    verification = await verifications.final_state(
        verifications.flow_handle(visit.client, visit.state.verification_id)
    )
    now = datetime.now(UTC)
    resend_at = verification.resend_available_at
    wait = max(0, math.ceil((resend_at - now).total_seconds())) if resend_at else None
    return {
        "verification": verification,
        "can_resend": wait == 0,
        "resend_wait": wait,  # the page reloads itself when it is over
        "resend_at": resend_at,
        "sent_at": verification.last_sent_at or now,
    }


@router.post("/activate/email", response_class=HTMLResponse)
async def submit_email(visit: VisitDep) -> Response:
    """The address to prove: a new sign-up, or a change of address while verifying."""
    state, typed = visit.state, visit.field("email").strip()
    shown = typed  # what a refusal may show back: only what was typed
    if visit.field("again") == "1" and state.unproven_email:  # a lapsed one's, shown masked
        typed, shown = state.unproven_email, ""
    try:
        email = str(EMAIL.validate_python(typed))
        await require_mail_allowance(visit.db, visit.settings, email)
        if state.status == ActivationStatus.VERIFYING_EMAIL and state.verification_id:
            await verifications.update_flow(
                verifications.flow_handle(visit.client, state.verification_id),
                verification.CHANGE_EMAIL,
                ChangeEmailInput(email=email),
            )
        else:
            require_sign_up_allowance(visit.request, visit.order_id)
            signup = signup_input(
                visit.settings, visit.order_id, email, visit.locale, sign_in_allowed=True
            )
            await visit.update(CREATE_ACCOUNT, signup)
    except ValidationError:
        return visit.refused(text(visit.locale, "email.error"), "email", typed=shown)
    except ApiError as err:
        if await _sent_there_already(visit, typed):
            return see_other("/activate")  # a double click: answered as the first click was
        retry_after = (err.headers or {}).get("Retry-After")
        error = refusal_text(visit.locale, err.code, retry_after)
        return visit.refused(error, "email", typed=shown)
    if state.status == ActivationStatus.VERIFYING_EMAIL:  # a new mail, to another address
        return see_other_with("/activate", visit.settings, notice="sent")
    return see_other("/activate")


async def _sent_there_already(visit: Visit, email: str) -> bool:
    """Whether the verification mail already goes to this address (the same form submitted
    twice: the second submission's refusal is not news to the customer)."""
    state = await read_activation(flow_handle(visit.client, visit.order_id), Error.NOT_FOUND)
    if state.status != ActivationStatus.VERIFYING_EMAIL or not state.verification_id:
        return False
    verification = await verifications.final_state(
        verifications.flow_handle(visit.client, state.verification_id)
    )
    return verification.email.casefold() == email.casefold()


@router.post("/activate/resend", response_class=HTMLResponse)
async def resend_email(visit: VisitDep) -> Response:
    if not visit.state.verification_id:
        return see_other("/activate")
    # Inside the cooldown or out of resends, the page says when, or that it cannot.
    handle = verifications.flow_handle(visit.client, visit.state.verification_id)
    try:
        await verifications.update_flow(handle, verification.RESEND)
    except ApiError:
        return see_other("/activate")
    return see_other_with("/activate", visit.settings, notice="sent")


@router.post("/activate/agreements", response_class=HTMLResponse)
async def accept_agreements(visit: VisitDep) -> Response:
    state = visit.state
    ticked = set(visit.form.get("agreement", []))
    missing = [a for a in state.required_agreements if f"{a.id}:{a.version}" not in ticked]
    if missing:
        names = Names(visit.catalog, visit.locale)
        quoted = [
            text(visit.locale, "title.quoted", title=names.agreement_title(a.id, a.title))
            for a in missing
        ]
        titles = listed(visit.locale, quoted)
        error = text(visit.locale, "agreements.missing", titles=titles)
        field = f"agree-{missing[0].id}"
        ids = [a.id for a in missing]
        return visit.refused(error, field, ticked=sorted(ticked), missing=ids)
    accepted = [AgreementRef(a.id, a.version) for a in state.required_agreements]
    request = visit.request
    client_address = request.client.host if request.client else None
    input = AcceptAgreementsInput(accepted, client_address, user_agent(request))
    return await _then_current_step(visit.update(ACCEPT_AGREEMENTS, input))


@router.post("/activate/instance", response_class=HTMLResponse)
async def choose_instance(visit: VisitDep) -> Response:
    state, instance_id = visit.state, visit.field("instance_id")
    choices = {choice.instance_id for choice in state.instance_choices}
    if instance_id not in choices or not state.licenses_awaiting_choice:
        return visit.refused(text(visit.locale, "instance.error"), "instance")
    input = ChooseInstanceInput(instance_id, state.licenses_awaiting_choice[0])
    return await _then_current_step(visit.update(CHOOSE_INSTANCE, input))


async def _then_current_step(action: Awaitable[object]) -> Response:
    """Act, then show the current step (post/redirect/get). A refusal needs no page of its own:
    the flow moved on meanwhile, and the step page shows where it is now."""
    try:
        await action
    except ApiError:
        pass
    return see_other("/activate")


async def _instances(visit: Visit) -> dict[str, ProductInstance]:
    """Where the activated items went: their instances."""
    ids = sorted(item.instance_id for item in visit.state.items if item.instance_id)
    rows = await visit.db.scalars(select(ProductInstance).where(ProductInstance.id.in_(ids)))
    return {row.id: row for row in rows}


def _consoles(
    visit: Visit, instances: dict[str, ProductInstance], names: Names
) -> list[tuple[str, str]]:
    """Each instance's console: as the vendor's product gave it, else as the console template
    makes it (docs/settings.md); none without either."""
    consoles: dict[str, str] = {}
    for item in visit.state.items:
        row = instances.get(item.instance_id or "")
        if row is None:
            continue
        url = item.console_url or row.console(visit.settings)
        if url:
            consoles.setdefault(url, names.instance(row))
    return [(name, url) for url, name in consoles.items()]
