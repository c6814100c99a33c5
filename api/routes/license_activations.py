"""License activation: orders (sales system, API key) and the Activation Link's steps (the code in
the link is the credential; signing in an existing account also needs the portal's API key,
since the portal authenticated it).

See docs/flows/license-activation.md.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter
from fastapi import Path
from fastapi import Request
from fastapi import status
from pydantic import EmailStr
from pydantic import Field
from sqlalchemy import select
from temporalio.exceptions import WorkflowAlreadyStartedError

from api.deps import CatalogDep
from api.deps import SessionDep
from api.deps import SettingsDep
from api.deps import TemporalDep
from api.deps import keyed
from api.deps import require_sign_up_allowance
from api.deps import user_agent
from api.errors import BAD_BODY
from api.errors import MAILS
from api.errors import ApiError
from api.errors import responses
from api.fields import Body
from api.fields import Locale
from api.fields import OneLine
from api.flow_clients import start
from api.flow_clients.license_activation import ActivationPublic
from api.flow_clients.license_activation import Error
from api.flow_clients.license_activation import OrderCreate
from api.flow_clients.license_activation import flow_handle
from api.flow_clients.license_activation import order_input
from api.flow_clients.license_activation import order_of_code
from api.flow_clients.license_activation import order_terms
from api.flow_clients.license_activation import read_activation
from api.flow_clients.license_activation import signup_input
from api.flow_clients.license_activation import update_flow
from api.flow_clients.on_premises import RENEWAL_ERRORS
from api.flow_clients.on_premises import CertificatePublic
from api.flow_clients.on_premises import certify
from api.mail_limit import require_mail_allowance
from models.contracts.license_activation import ACCEPT_AGREEMENTS
from models.contracts.license_activation import CANCEL
from models.contracts.license_activation import CHOOSE_INSTANCE
from models.contracts.license_activation import CREATE_ACCOUNT
from models.contracts.license_activation import SIGN_IN
from models.contracts.license_activation import START
from models.contracts.license_activation import AcceptAgreementsInput
from models.contracts.license_activation import ActivationStatus
from models.contracts.license_activation import AgreementRef
from models.contracts.license_activation import ChooseInstanceInput
from models.contracts.license_activation import SignInInput
from models.errors import ApiProblem
from models.errors import MailProblem
from models.records.domain import Order

router = APIRouter(prefix="/v1", tags=["license activation"])

LINK_ERRORS = (Error.NOT_FOUND, Error.COMPLETED, Error.EXPIRED, Error.CLOSED, Error.WRONG_STEP)


# -- request bodies ----------------------------------------------------------------------------


class SignInBody(Body):
    account_id: str = Field(pattern=r"^[A-Za-z0-9-]{1,36}$")


class AccountCreate(Body):
    email: EmailStr = Field(max_length=254)
    locale: Locale = "en"


class AgreementAcceptance(Body):
    id: OneLine = Field(min_length=1, max_length=60)
    version: OneLine = Field(min_length=1, max_length=20)


class AgreementsBody(Body):
    agreements: list[AgreementAcceptance] = Field(max_length=20)


class InstanceChoiceBody(Body):
    instance_id: str = Field(pattern=r"^[A-Za-z0-9-]{1,36}$")
    license_id: str | None = Field(None, pattern=r"^[A-Za-z0-9-]{1,36}$")


# -- responses ---------------------------------------------------------------------------------


# -- the order ---------------------------------------------------------------------------------


@router.post(
    "/orders",
    status_code=status.HTTP_201_CREATED,
    **keyed(
        *MAILS,
        Error.INVALID_ORDER,
        Error.REFERENCE_CONFLICT,
        *RENEWAL_ERRORS,  # an item renewing an Activation Code
    ),
)
async def create_order(
    body: OrderCreate,
    settings: SettingsDep,
    catalog: CatalogDep,
    session: SessionDep,
    client: TemporalDep,
) -> ActivationPublic | CertificatePublic:
    """Issue an order's licenses; the contact is emailed an Activation Link for the cloud
    products, and a license certificate with Activation Codes for the on-premises ones (an
    order of on-premises products only answers with its certificate). An order repeated with
    the same `reference` returns the first one."""
    known = None  # an order recorded under an earlier id scheme keeps its id (and idempotency)
    if body.reference:
        known = await session.scalar(select(Order.id).where(Order.reference == body.reference))
    input = order_input(settings, catalog, body, known)
    await require_mail_allowance(session, settings, body.contact_email)
    # Installed by the customer: a certificate with Activation Codes (or renewed codes).
    certificate = await certify(settings, catalog, session, client, body, input)
    if certificate is not None and not input.items:
        return certificate
    try:
        state = await start(START, client, settings, input)
    except WorkflowAlreadyStartedError:  # the order's flow has already ended
        existing = await read_activation(
            flow_handle(client, input.order_id),
            Error.ORDER_NOT_FOUND,
        )
    else:
        existing = ActivationPublic.of(state)
    if order_terms(existing) != order_terms(input):
        raise ApiError(Error.REFERENCE_CONFLICT)
    return existing.model_copy(update={"certificate": certificate})


OrderId = Annotated[str, Path(pattern=r"^[0-9a-f-]{36}$", description="The order's id")]


@router.get("/orders/{order_id}", **keyed(Error.ORDER_NOT_FOUND))
async def get_order(order_id: OrderId, client: TemporalDep) -> ActivationPublic:
    """The order's activation, as it stands."""
    return await read_activation(flow_handle(client, order_id), Error.ORDER_NOT_FOUND)


@router.delete("/orders/{order_id}", **keyed(*LINK_ERRORS))
async def cancel_order(order_id: OrderId, client: TemporalDep) -> ActivationPublic:
    """Withdraw a pending order: its Activation Links stop working."""
    return await update_flow(flow_handle(client, order_id), CANCEL)


# -- the Activation Link's steps ---------------------------------------------------------------

Code = Annotated[str, Path(max_length=200, description="The code from the Activation Link")]


@router.get("/activations/{code}", responses=responses(Error.NOT_FOUND, Error.EXPIRED))
async def get_activation(code: Code, session: SessionDep, client: TemporalDep) -> ActivationPublic:
    """What the link activates (company, items, agreements) and the step it is at. Reading it
    changes nothing."""
    handle = flow_handle(client, await order_of_code(session, code))
    state = await read_activation(handle, Error.NOT_FOUND)
    if state.status == ActivationStatus.EXPIRED:
        raise ApiError(Error.EXPIRED)
    return state.for_link_holder()


@router.post(
    "/activations/{code}/sign-in",
    **keyed(
        *BAD_BODY,
        *LINK_ERRORS,
        Error.ACCOUNT_NOT_FOUND,
        Error.NO_INSTANCE_FOR_ADDON,
        Error.TRIAL_NOT_AVAILABLE,
    ),
)
async def sign_in(
    code: Code, body: SignInBody, session: SessionDep, client: TemporalDep
) -> ActivationPublic:
    """Attach an existing primary account, which the portal has authenticated."""
    handle = flow_handle(client, await order_of_code(session, code))
    return await update_flow(handle, SIGN_IN, SignInInput(body.account_id))


@router.post(
    "/activations/{code}/account",
    status_code=status.HTTP_202_ACCEPTED,
    responses=responses(
        *BAD_BODY,
        *LINK_ERRORS,
        MailProblem.RATE_LIMITED,
        ApiProblem.TOO_MANY_REQUESTS,
    ),
)
async def create_account(
    code: Code,
    body: AccountCreate,
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    client: TemporalDep,
) -> ActivationPublic:
    """Prove an address by an emailed link, then sign it in if it is a primary account already,
    or create the Business and its primary account with it. The answer is the same whatever
    the address (no key: whether it has an account is for its mailbox to learn)."""
    order_id = await order_of_code(session, code)
    require_sign_up_allowance(request, order_id)
    await require_mail_allowance(session, settings, body.email)
    started = await update_flow(
        flow_handle(client, order_id),
        CREATE_ACCOUNT,
        signup_input(settings, order_id, body.email, body.locale, sign_in_allowed=True),
    )
    return started.for_link_holder()


@router.post(
    "/activations/{code}/agreements",
    responses=responses(*BAD_BODY, *LINK_ERRORS, Error.AGREEMENTS_INVALID),
)
async def accept_agreements(
    code: Code, body: AgreementsBody, request: Request, session: SessionDep, client: TemporalDep
) -> ActivationPublic:
    """Accept every required agreement in its current version (recorded with the time and the
    client's address); a missing, unknown or outdated one is refused, naming it."""
    handle = flow_handle(client, await order_of_code(session, code))
    accepted = [AgreementRef(a.id, a.version) for a in body.agreements]
    client_address = request.client.host if request.client else None
    accepted_by = await update_flow(
        handle,
        ACCEPT_AGREEMENTS,
        AcceptAgreementsInput(accepted, client_address, user_agent(request)),
    )
    return accepted_by.for_link_holder()


@router.post(
    "/activations/{code}/instance",
    responses=responses(*BAD_BODY, *LINK_ERRORS, Error.INSTANCE_CHOICE_INVALID),
)
async def choose_instance(
    code: Code, body: InstanceChoiceBody, session: SessionDep, client: TemporalDep
) -> ActivationPublic:
    """Pick the instance an add-on is assigned to (asked only when the Business has several)."""
    handle = flow_handle(client, await order_of_code(session, code))
    chosen = await update_flow(
        handle,
        CHOOSE_INSTANCE,
        ChooseInstanceInput(body.instance_id, body.license_id),
    )
    return chosen.for_link_holder()
