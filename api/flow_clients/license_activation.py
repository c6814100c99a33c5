"""License activation as the API and the customer's pages see it: orders checked against the
catalog, the public state, the flow an Activation Link's code leads to (docs/flows/license-
activation.md)."""

from __future__ import annotations

import uuid
from collections import OrderedDict
from datetime import UTC
from datetime import date
from datetime import datetime
from datetime import timedelta
from typing import Any

from pydantic import BaseModel
from pydantic import EmailStr
from pydantic import Field
from pydantic import field_validator
from sqlalchemy import select
from temporalio.client import Client

from api.deps import SessionDep
from api.errors import ApiError
from api.fields import Body
from api.fields import Count
from api.fields import Locale
from api.fields import OneLine
from api.flow_clients import Handle
from api.flow_clients import act
from api.flow_clients import read_state
from api.flow_clients.on_premises import CertificatePublic
from core.settings import Settings
from core.text import email_key
from core.tokens import domain_key
from core.tokens import hash_token
from core.tokens import is_domain_key
from core.tokens import keyed_uuid
from core.tokens import mask_email
from core.tokens import split_token
from models.catalog import Catalog
from models.contracts import email_verification as verification
from models.contracts.flow import Update
from models.contracts.license_activation import CLOSED
from models.contracts.license_activation import SIGNUP_PURPOSE
from models.contracts.license_activation import ActivationState
from models.contracts.license_activation import ActivationStatus
from models.contracts.license_activation import AgreementRef
from models.contracts.license_activation import CreateAccountInput
from models.contracts.license_activation import LicenseItem
from models.contracts.license_activation import StartActivationInput
from models.contracts.license_activation import VerificationPolicy
from models.contracts.license_activation import flow_id_of
from models.errors import ActivationError
from models.records.domain import ActivationCode

Error = ActivationError


class OrderItemCreate(Body):
    product: str = Field(pattern=r"^[a-z0-9][a-z0-9-]{0,49}$")
    units: Count = Field(0, ge=0, le=1_000_000)
    credits: Count = Field(0, ge=0, le=1_000_000_000)
    # The last day it is valid; a trial's defaults to the trial term (`trial_days`).
    expires_on: date | None = None
    # Another instance even if the Business has this product already (otherwise the order
    # renews that license, or converts that trial, and keeps its instance).
    new_instance: bool = False
    # An on-premises product: the id of the Activation Code this item renews (its term runs to
    # `expires_on`; the same code, no new certificate).
    renews_code: str | None = Field(None, pattern=r"^[a-z2-7]{24}$")


class OrderCreate(Body):
    # The sales system's order number: repeating an order with it returns the same order.
    reference: str | None = Field(None, pattern=r"^[A-Za-z0-9][A-Za-z0-9._/-]{0,99}$")
    company_name: OneLine = Field(min_length=1, max_length=200)
    contact_email: EmailStr = Field(max_length=254)
    region: str | None = Field(None, pattern=r"^[a-z]{2,10}$")
    locale: Locale = "en"
    # A trial of service products: it provisions instances for `trial_days`; a paid order of
    # the same product for the same Business later converts it (same instance).
    trial: bool = False
    items: list[OrderItemCreate] = Field(min_length=1, max_length=50)

    @field_validator("company_name")
    @classmethod
    def _trimmed(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("must not be blank")
        return value.strip()


class HeldLicensePublic(BaseModel):
    license_id: str
    instance_id: str
    expires_on: date  # before this order
    trial: bool  # True: this order converts that trial; False: it renews that license


class ItemPublic(BaseModel):
    license_id: str
    product_code: str
    product_name: str
    kind: str
    units: int
    credits: int
    expires_on: date
    instance_id: str | None
    trial: bool = False
    new_instance: bool = False
    replaces: HeldLicensePublic | None = None  # what it renews or converts (once provisioned)
    # Where the customer opens its instance, as the vendor's product answered (once
    # provisioned; none for a product without a backend).
    console_url: str | None = None


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
    unproven_email: str | None = None  # a verification's address that was not confirmed
    activated_at: datetime | None
    locale: str = "en"
    # Waiting for the vendor's product to set up an instance (docs/provisioning.md).
    setting_up: bool = False
    # The on-premises items' certificate, in the answer to an order that had some.
    certificate: CertificatePublic | None = None

    @classmethod
    def of(cls, state: Any) -> ActivationPublic:
        return cls.model_validate(state, from_attributes=True)

    def for_link_holder(self) -> ActivationPublic:
        """As whoever holds the Activation Link reads it (no API key): addresses masked, since
        a link can be forwarded (docs/security.md, "Addresses shown to people")."""
        return self.model_copy(
            update={
                "contact_email": mask_email(self.contact_email),
                "account_email": mask_email(self.account_email) if self.account_email else None,
                "unproven_email": mask_email(self.unproven_email) if self.unproven_email else None,
            }
        )


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
        if body.trial and product.kind != "service":
            problems.append({"loc": loc, "msg": "a trial order has service products only"})
        expires_on = item.expires_on
        if expires_on is None and body.trial:
            expires_on = today + timedelta(days=settings.trial_days)
        if expires_on is None:
            problems.append({"loc": [*loc, "expires_on"], "msg": "required (a paid item)"})
            continue
        if expires_on <= today:
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
                expires_on=expires_on.isoformat(),
                trial=body.trial,
                new_instance=item.new_instance,
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
        license_reminder_days=settings.license_reminder_before_days,
        verification=VerificationPolicy(
            expiry_seconds=settings.verification_expiry_for(SIGNUP_PURPOSE),
            resend_cooldown_seconds=settings.verification_resend_cooldown_seconds,
            max_resends=settings.verification_max_resends,
            max_attempts=settings.verification_max_attempts,
        ),
    )


def flow_handle(client: Client, order_id: str) -> Handle:
    return client.get_workflow_handle(flow_id_of(order_id))


async def read_activation(handle: Handle, not_found: ActivationError) -> ActivationPublic:
    return ActivationPublic.model_validate(await read_state(handle, not_found))


async def update_flow(
    handle: Handle, update: Update[Any, ActivationState], *args: Any
) -> ActivationPublic:
    state = await act(handle, update, *args, closed=CLOSED, not_found=Error.NOT_FOUND)
    return ActivationPublic.of(state)


def order_terms(order: ActivationPublic | StartActivationInput) -> tuple[object, ...]:
    """What a repeated order must match to count as the same order."""
    items = [
        (i.product_code, i.units, i.credits, str(i.expires_on), i.trial, i.new_instance)
        for i in order.items
    ]
    return order.company_name, order.contact_email, order.region, items


# A code, once stored, leads to the same order for good (codes are never deleted or moved), so
# the orders of the codes seen last are kept in memory, by the code's hash: the customer's page
# polls the status every second, and a known code then costs no database read. Unknown codes
# are not kept, so made-up codes cannot fill it.
KNOWN_CODES_KEPT = 10_000
_known_codes: OrderedDict[str, str] = OrderedDict()


async def order_of_code(session: SessionDep, code: str) -> str:
    parts = split_token(code)
    if parts is None or not is_domain_key(parts[0]):
        raise ApiError(Error.NOT_FOUND)
    code_hash = hash_token(code)
    order_id = _known_codes.get(code_hash)
    if order_id is not None:
        _known_codes.move_to_end(code_hash)
        return order_id
    order_id = await session.scalar(
        select(ActivationCode.order_id).where(ActivationCode.code_hash == code_hash)
    )
    if order_id is None:
        raise ApiError(Error.NOT_FOUND)
    _known_codes[code_hash] = order_id
    while len(_known_codes) > KNOWN_CODES_KEPT:
        _known_codes.popitem(last=False)
    return order_id


def signup_input(
    settings: Settings, order_id: str, email: str, locale: str, *, sign_in_allowed: bool = False
) -> CreateAccountInput:
    """The sign-up's child verification, keyed by order and address so its links route back to
    it (an HMAC: never the address in an id)."""
    key = domain_key(
        settings.secret_key, "email-verification", SIGNUP_PURPOSE, order_id, email_key(email)
    )
    flow_id = verification.FLOW_ID_PREFIX + key
    return CreateAccountInput(email, locale, flow_id, sign_in_allowed)
