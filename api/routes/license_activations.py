"""License activation: orders (sales system, API key) and the Activation Link's steps (the code in
the link is the credential; signing in an existing account also needs the portal's API key,
since the portal authenticated it).

See docs/flows/license-activation.md.
"""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Path, Request, status
from pydantic import BaseModel, ConfigDict, EmailStr, Field, field_validator
from sqlalchemy import select
from temporalio.client import Client, WorkflowHandle, WorkflowUpdateFailedError
from temporalio.exceptions import WorkflowAlreadyStartedError

from api.deps import ApiKey, CatalogDep, SessionDep, SettingsDep, TemporalDep
from api.errors import BAD_BODY, NEEDS_KEY, ApiError, ApiProblem, refusal, responses
from api.fields import Locale, OneLine
from api.flows import act, read_state
from api.mail_limit import require_mail_allowance
from core.settings import Settings
from core.text import email_key
from core.tokens import domain_key, hash_token, is_domain_key, keyed_uuid, split_token
from models import email_verification as verification
from models.catalog import Catalog
from models.domain import Account, ActivationCode, Order
from models.license_activation import (
    CLOSED,
    AcceptAgreementsInput,
    ActivationError,
    ActivationStatus,
    AgreementRef,
    ChooseInstanceInput,
    CreateAccountInput,
    LicenseItem,
    SignInInput,
    StartActivationInput,
    VerificationPolicy,
    flow_id_of,
)
from workflows.license_activation import SIGNUP_PURPOSE, LicenseActivationWorkflow, start

router = APIRouter(prefix="/v1", tags=["license activation"])

Error = ActivationError
LINK_ERRORS = (Error.NOT_FOUND, Error.COMPLETED, Error.EXPIRED, Error.CLOSED, Error.WRONG_STEP)


# -- request bodies ----------------------------------------------------------------------------


class OrderItemCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    product: str = Field(pattern=r"^[a-z0-9][a-z0-9-]{0,49}$")
    units: int = Field(0, ge=0, le=1_000_000)
    credits: int = Field(0, ge=0, le=1_000_000_000)
    expires_on: date


class OrderCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    # The sales system's order number: repeating an order with it returns the same order.
    reference: str | None = Field(None, pattern=r"^[A-Za-z0-9][A-Za-z0-9._/-]{0,99}$")
    company_name: OneLine = Field(min_length=1, max_length=200)
    contact_email: EmailStr = Field(max_length=254)
    region: str | None = Field(None, pattern=r"^[a-z]{2,10}$")
    locale: Locale = "en"
    items: list[OrderItemCreate] = Field(min_length=1, max_length=50)

    @field_validator("company_name")
    @classmethod
    def _trimmed(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("must not be blank")
        return value.strip()


class SignInBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    account_id: str = Field(pattern=r"^[A-Za-z0-9-]{1,36}$")


class AccountCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    email: EmailStr = Field(max_length=254)
    locale: Locale = "en"


class AgreementAcceptance(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: OneLine = Field(min_length=1, max_length=60)
    version: OneLine = Field(min_length=1, max_length=20)


class AgreementsBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    agreements: list[AgreementAcceptance] = Field(max_length=20)


class InstanceChoiceBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    instance_id: str = Field(pattern=r"^[A-Za-z0-9-]{1,36}$")
    license_id: str | None = Field(None, pattern=r"^[A-Za-z0-9-]{1,36}$")


# -- responses ---------------------------------------------------------------------------------


class ItemPublic(BaseModel):
    license_id: str
    product_code: str
    product_name: str
    kind: str
    units: int
    credits: int
    expires_on: date
    instance_id: str | None


class AgreementPublic(BaseModel):
    id: str
    version: str
    title: str


class InstanceChoicePublic(BaseModel):
    instance_id: str
    product_code: str
    region: str
    description: str | None
    new: bool


class ActivationPublic(BaseModel):
    id: str
    order_id: str
    status: ActivationStatus
    company_name: str
    region: str
    contact_email: str
    items: list[ItemPublic]
    required_agreements: list[AgreementPublic]
    accepted_agreements: list[AgreementPublic]
    link_expires_at: datetime
    business_id: str | None
    account_id: str | None
    account_email: str | None
    verification_id: str | None
    instance_choices: list[InstanceChoicePublic]
    licenses_awaiting_choice: list[str]
    problem: str | None
    activated_at: datetime | None

    @classmethod
    def of(cls, state: Any) -> ActivationPublic:
        return cls.model_validate(state, from_attributes=True)


# -- the order ---------------------------------------------------------------------------------


def order_input(
    settings: Settings, catalog: Catalog, body: OrderCreate, known_id: str | None = None
) -> StartActivationInput:
    """Check the order against the catalog and fix what it grants (422 naming each problem).
    An order with a reference gets an id keyed from it (`known_id` if it was recorded before)."""
    problems: list[dict[str, Any]] = []
    region = body.region or catalog.regions[0]
    if region not in catalog.regions:
        problems.append({"loc": ["body", "region"], "msg": f"unknown region {region!r}"})
    today = datetime.now(UTC).date()
    if known_id is not None:
        order_id = known_id
    elif body.reference:
        order_id = keyed_uuid(settings.secret_key, "order", body.reference)
    else:
        order_id = str(uuid.uuid4())
    items: list[LicenseItem] = []
    for index, item in enumerate(body.items):
        loc = ["body", "items", str(index)]
        product = catalog.products.get(item.product)
        if product is None:
            problems.append({"loc": [*loc, "product"], "msg": f"unknown product {item.product!r}"})
            continue
        if product.kind == "credits" and (item.credits < 1 or item.units):
            problems.append({"loc": loc, "msg": "a credits item grants credits (>= 1), no units"})
        if product.kind != "credits" and (item.units < 1 or item.credits):
            problems.append({"loc": loc, "msg": f"a {product.kind} item grants units, no credits"})
        if item.expires_on <= today:
            problems.append({"loc": [*loc, "expires_on"], "msg": "must be a future date"})
        # Derived from the order: a repeated order (same reference) gets the same ids.
        order_uuid = uuid.UUID(order_id)
        items.append(
            LicenseItem(
                license_id=str(uuid.uuid5(order_uuid, f"license/{index}")),
                product_code=product.code,
                product_name=product.name,
                kind=product.kind,
                units=item.units,
                credits=item.credits,
                expires_on=item.expires_on.isoformat(),
                instance_id=(
                    str(uuid.uuid5(order_uuid, f"instance/{index}"))
                    if product.kind == "service"
                    else None
                ),
            )
        )
    if problems:
        raise ApiError(Error.INVALID_ORDER, details=problems)
    required = catalog.required_agreements(item.product_code for item in items)
    return StartActivationInput(
        order_id=order_id,
        reference=body.reference,
        company_name=body.company_name,
        contact_email=body.contact_email,
        region=region,
        locale=body.locale,
        items=items,
        required_agreements=[AgreementRef(a.id, a.version, a.title) for a in required],
        link_expiry_seconds=settings.activation_link_expiry_seconds,
        reminder_offsets_seconds=settings.activation_reminder_before_seconds,
        verification=VerificationPolicy(
            expiry_seconds=settings.verification_expiry_for(SIGNUP_PURPOSE),
            resend_cooldown_seconds=settings.verification_resend_cooldown_seconds,
            max_resends=settings.verification_max_resends,
            max_attempts=settings.verification_max_attempts,
        ),
    )


Handle = WorkflowHandle[LicenseActivationWorkflow, Any]


def _handle(client: Client, order_id: str) -> Handle:
    return client.get_workflow_handle_for(LicenseActivationWorkflow.run, flow_id_of(order_id))


async def _read(handle: Handle, not_found: ActivationError) -> ActivationPublic:
    return ActivationPublic.model_validate(await read_state(handle, not_found))


async def _update(handle: Handle, update: Any, *args: Any) -> ActivationPublic:
    state = await act(handle, update, *args, closed=CLOSED, not_found=Error.NOT_FOUND)
    return ActivationPublic.of(state)


@router.post(
    "/orders",
    status_code=status.HTTP_201_CREATED,
    dependencies=[ApiKey],
    responses=responses(
        *NEEDS_KEY,
        *BAD_BODY,
        Error.INVALID_ORDER,
        Error.REFERENCE_CONFLICT,
        ApiProblem.MAIL_RATE_LIMITED,
    ),
)
async def create_order(
    body: OrderCreate,
    settings: SettingsDep,
    catalog: CatalogDep,
    session: SessionDep,
    client: TemporalDep,
) -> ActivationPublic:
    """Issue an order's licenses; the contact is emailed an Activation Link. An order repeated
    with the same `reference` returns the first one."""
    known = None  # an order recorded under an earlier id scheme keeps its id (and idempotency)
    if body.reference:
        known = await session.scalar(select(Order.id).where(Order.reference == body.reference))
    input = order_input(settings, catalog, body, known)
    await require_mail_allowance(session, settings, body.contact_email)
    try:
        state = await start(client, input, task_queue=settings.temporal_task_queue)
    except WorkflowUpdateFailedError as err:
        raise refusal(err) from None
    except WorkflowAlreadyStartedError:  # the order's flow has already ended
        existing = await _read(
            _handle(client, input.order_id),
            Error.ORDER_NOT_FOUND,
        )
    else:
        existing = ActivationPublic.of(state)
    if _terms(existing) != _terms(input):
        raise ApiError(Error.REFERENCE_CONFLICT)
    return existing


def _terms(order: ActivationPublic | StartActivationInput) -> tuple[object, ...]:
    """What a repeated order must match to count as the same order."""
    items = [(i.product_code, i.units, i.credits, str(i.expires_on)) for i in order.items]
    return order.company_name, order.contact_email, order.region, items


OrderId = Annotated[str, Path(pattern=r"^[0-9a-f-]{36}$", description="The order's id")]


@router.get(
    "/orders/{order_id}",
    dependencies=[ApiKey],
    responses=responses(*NEEDS_KEY, Error.ORDER_NOT_FOUND),
)
async def get_order(order_id: OrderId, client: TemporalDep) -> ActivationPublic:
    """The order's activation, as it stands."""
    return await _read(_handle(client, order_id), Error.ORDER_NOT_FOUND)


@router.delete(
    "/orders/{order_id}", dependencies=[ApiKey], responses=responses(*NEEDS_KEY, *LINK_ERRORS)
)
async def cancel_order(order_id: OrderId, client: TemporalDep) -> ActivationPublic:
    """Withdraw a pending order: its Activation Links stop working."""
    return await _update(_handle(client, order_id), LicenseActivationWorkflow.cancel)


# -- the Activation Link's steps ---------------------------------------------------------------

Code = Annotated[str, Path(max_length=200, description="The code from the Activation Link")]


async def _order_of(session: SessionDep, code: str) -> str:
    parts = split_token(code)
    if parts is None or not is_domain_key(parts[0]):
        raise ApiError(Error.NOT_FOUND)
    order_id = await session.scalar(
        select(ActivationCode.order_id).where(ActivationCode.code_hash == hash_token(code))
    )
    if order_id is None:
        raise ApiError(Error.NOT_FOUND)
    return order_id


@router.get("/activations/{code}", responses=responses(Error.NOT_FOUND, Error.EXPIRED))
async def get_activation(code: Code, session: SessionDep, client: TemporalDep) -> ActivationPublic:
    """What the link activates (company, items, agreements) and the step it is at. Reading it
    changes nothing."""
    handle = _handle(client, await _order_of(session, code))
    state = await _read(handle, Error.NOT_FOUND)
    if state.status == ActivationStatus.EXPIRED:
        raise ApiError(Error.EXPIRED)
    return state


@router.post(
    "/activations/{code}/sign-in",
    dependencies=[ApiKey],
    responses=responses(
        *NEEDS_KEY, *BAD_BODY, *LINK_ERRORS, Error.ACCOUNT_NOT_FOUND, Error.NO_INSTANCE_FOR_ADDON
    ),
)
async def sign_in(
    code: Code, body: SignInBody, session: SessionDep, client: TemporalDep
) -> ActivationPublic:
    """Attach an existing primary account, which the portal has authenticated."""
    handle = _handle(client, await _order_of(session, code))
    return await _update(handle, LicenseActivationWorkflow.sign_in, SignInInput(body.account_id))


@router.post(
    "/activations/{code}/account",
    status_code=status.HTTP_202_ACCEPTED,
    responses=responses(
        *BAD_BODY,
        *LINK_ERRORS,
        Error.ACCOUNT_EXISTS,
        Error.NO_INSTANCE_FOR_ADDON,
        ApiProblem.MAIL_RATE_LIMITED,
    ),
)
async def create_account(
    code: Code,
    body: AccountCreate,
    session: SessionDep,
    settings: SettingsDep,
    client: TemporalDep,
) -> ActivationPublic:
    """Create the primary account: the address is verified first (an emailed link); then the
    Business and its primary account are created."""
    order_id = await _order_of(session, code)
    owner = await session.scalar(
        select(Account.id).where(
            Account.kind == "primary", Account.email_key == email_key(body.email)
        )
    )
    if owner is not None:
        raise ApiError(Error.ACCOUNT_EXISTS)
    await require_mail_allowance(session, settings, body.email)
    # Keyed by order and address, so the child's links route back to it (never the address).
    key = domain_key(
        settings.secret_key, "email-verification", SIGNUP_PURPOSE, order_id, email_key(body.email)
    )
    return await _update(
        _handle(client, order_id),
        LicenseActivationWorkflow.create_account,
        CreateAccountInput(body.email, body.locale, verification.FLOW_ID_PREFIX + key),
    )


@router.post(
    "/activations/{code}/agreements",
    responses=responses(*BAD_BODY, *LINK_ERRORS, Error.AGREEMENTS_INVALID),
)
async def accept_agreements(
    code: Code, body: AgreementsBody, request: Request, session: SessionDep, client: TemporalDep
) -> ActivationPublic:
    """Accept every required agreement in its current version (recorded with the time and the
    client's address); a missing, unknown or outdated one is refused, naming it."""
    handle = _handle(client, await _order_of(session, code))
    accepted = [AgreementRef(a.id, a.version) for a in body.agreements]
    client_address = request.client.host if request.client else None
    return await _update(
        handle,
        LicenseActivationWorkflow.accept_agreements,
        AcceptAgreementsInput(accepted, client_address),
    )


@router.post(
    "/activations/{code}/instance",
    responses=responses(*BAD_BODY, *LINK_ERRORS, Error.INSTANCE_CHOICE_INVALID),
)
async def choose_instance(
    code: Code, body: InstanceChoiceBody, session: SessionDep, client: TemporalDep
) -> ActivationPublic:
    """Pick the instance an add-on is assigned to (asked only when the Business has several)."""
    handle = _handle(client, await _order_of(session, code))
    return await _update(
        handle,
        LicenseActivationWorkflow.choose_instance,
        ChooseInstanceInput(body.instance_id, body.license_id),
    )
