"""Product registration: the primary account creates enrollment tokens (shown once), lists and
revokes them; a product instance registers with one (the token is the credential); an instance
can be unregistered.

See docs/flows/product-registration.md.
"""

from __future__ import annotations

import hmac
from datetime import UTC
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter
from fastapi import Path
from fastapi import status
from pydantic import AliasChoices
from pydantic import BaseModel
from pydantic import Field
from temporalio.client import Client

from api.deps import ActingPrimary
from api.deps import CatalogDep
from api.deps import SessionDep
from api.deps import SettingsDep
from api.deps import TemporalDep
from api.deps import keyed
from api.deps import owned
from api.errors import BAD_BODY
from api.errors import OWNER_ERRORS
from api.errors import ApiError
from api.errors import responses
from api.fields import Body
from api.fields import BusinessId
from api.fields import Count
from api.fields import InstanceId
from api.fields import OneLine
from api.flow_clients import Handle
from api.flow_clients import newest_first
from api.flow_clients import run_change
from api.flow_clients import start
from api.flow_clients import update_if_running
from core.tokens import hash_token
from core.tokens import is_domain_key
from core.tokens import new_token
from core.tokens import random_key
from core.tokens import split_token
from models.contracts.direct_change import UNREGISTER_INSTANCE
from models.contracts.direct_change import UnregisterInstanceInput
from models.contracts.product_registration import CLOSED
from models.contracts.product_registration import REGISTER
from models.contracts.product_registration import REVOKE
from models.contracts.product_registration import START
from models.contracts.product_registration import RegisterInput
from models.contracts.product_registration import StartRegistrationInput
from models.contracts.product_registration import TokenStatus
from models.contracts.product_registration import flow_id_of
from models.contracts.product_registration import token_status_now
from models.errors import RegistrationError
from models.records.domain import EnrollmentToken
from models.records.domain import ProductInstance

router = APIRouter(prefix="/v1", tags=["product registration"])

Error = RegistrationError
TokenId = Annotated[str, Path(pattern=r"^[a-z2-7]{24}$", description="The token's public id")]


class TokenCreate(Body):
    instance_type: str = Field(pattern=r"^[a-z0-9][a-z0-9-]{0,49}$")
    description: OneLine = Field(min_length=1, max_length=200)
    expires_in: Count = Field(24 * 3600, ge=300, le=30 * 24 * 3600, description="Seconds")
    max_uses: Count = Field(1, ge=1, le=1000)


class TokenPublic(BaseModel):
    id: str
    instance_type: str
    description: str
    status: TokenStatus
    created_at: datetime
    expires_at: datetime
    max_uses: int
    uses: int


class TokenCreated(TokenPublic):
    token: str = Field(description="The token itself: shown in this response only")


class RegistrationCreate(Body):
    token: str = Field(min_length=1, max_length=200)
    instance_id: str = Field(pattern=r"^[0-9a-f-]{36}$")


class RegistrationPublic(BaseModel):
    instance_id: str = Field(validation_alias=AliasChoices("instance_id", "id"))  # the row's id
    business_id: str
    product_code: str
    registration_status: str
    description: str | None
    enrollment_token_id: str | None
    registered_at: datetime | None

    @classmethod
    def of(cls, instance: ProductInstance) -> RegistrationPublic:
        return cls.model_validate(instance, from_attributes=True)


def status_now(token: EnrollmentToken) -> TokenStatus:
    return token_status_now(
        token.status, token.uses, token.max_uses, token.expires_at, datetime.now(UTC)
    )


def _public(token: EnrollmentToken) -> TokenPublic:
    return TokenPublic(
        id=token.id,
        instance_type=token.instance_type,
        description=token.description,
        status=status_now(token),
        created_at=token.created_at,
        expires_at=token.expires_at,
        max_uses=token.max_uses,
        uses=token.uses,
    )


def _handle(client: Client, token_id: str) -> Handle:
    return client.get_workflow_handle(flow_id_of(token_id))


@router.post(
    "/businesses/{business_id}/enrollment-tokens",
    status_code=status.HTTP_201_CREATED,
    **keyed(*OWNER_ERRORS, *BAD_BODY, Error.UNKNOWN_INSTANCE_TYPE, Error.NOT_RECORDED),
)
async def create_enrollment_token(
    business_id: BusinessId,
    body: TokenCreate,
    acting: ActingPrimary,
    settings: SettingsDep,
    catalog: CatalogDep,
    client: TemporalDep,
) -> TokenCreated:
    """A token for product instances of one type to register with; the token itself is in this
    response only (the service keeps its hash). Default: valid 24 h, single use."""
    product = catalog.products.get(body.instance_type)
    if product is None or product.kind != "service":
        raise ApiError(
            Error.UNKNOWN_INSTANCE_TYPE,
            f"{body.instance_type!r} is not a product that runs as an instance",
        )
    token_id = random_key()
    token = new_token(token_id)
    input = StartRegistrationInput(
        token_id=token_id,
        token_hash=hash_token(token),
        business_id=business_id,
        instance_type=body.instance_type,
        description=body.description,
        created_by=acting,
        expires_in_seconds=body.expires_in,
        max_uses=body.max_uses,
    )
    state = await start(START, client, settings, input)
    public = TokenPublic.model_validate(state, from_attributes=True)
    return TokenCreated(**public.model_dump(), token=token)


@router.get("/businesses/{business_id}/enrollment-tokens", **keyed(*OWNER_ERRORS, Error.NOT_FOUND))
async def list_enrollment_tokens(
    business_id: BusinessId, acting: ActingPrimary, session: SessionDep
) -> list[TokenPublic]:
    """The Business's tokens, newest first, with their status now (never the token itself)."""
    tokens = await newest_first(session, EnrollmentToken, business_id)
    return [_public(token) for token in tokens]


@router.delete(
    "/businesses/{business_id}/enrollment-tokens/{token_id}",
    **keyed(*OWNER_ERRORS, Error.NOT_FOUND, Error.TOKEN_NOT_ACTIVE),
)
async def revoke_enrollment_token(
    business_id: BusinessId,
    token_id: TokenId,
    acting: ActingPrimary,
    session: SessionDep,
    client: TemporalDep,
) -> TokenPublic:
    """Revoke: registrations already under way finish first; after this none can start."""
    token = owned(await session.get(EnrollmentToken, token_id), business_id, Error.NOT_FOUND)
    if await update_if_running(_handle(client, token_id), REVOKE) is None:
        raise ApiError(Error.TOKEN_NOT_ACTIVE, f"the enrollment token is {status_now(token).value}")
    await session.refresh(token)
    public = _public(token)
    public.status = TokenStatus.REVOKED  # the flow records it in the database as it closes
    return public


@router.post(
    "/registrations",
    responses=responses(
        *BAD_BODY,
        Error.TOKEN_INVALID,
        *set(CLOSED.values()),
        Error.BUSINESS_MISMATCH,
        Error.INSTANCE_TYPE_MISMATCH,
        Error.INSTANCE_NOT_FOUND,
    ),
)
async def register_instance(
    body: RegistrationCreate, session: SessionDep, client: TemporalDep
) -> RegistrationPublic:
    """A product instance registers itself with an enrollment token (the token is the
    credential). Registering the same instance again changes nothing and uses nothing."""
    parts = split_token(body.token)
    if parts is None or not is_domain_key(parts[0]):
        raise ApiError(Error.TOKEN_INVALID)
    token_id, token_hash = parts[0], hash_token(body.token)
    registration = RegisterInput(token_hash, body.instance_id)
    if await update_if_running(_handle(client, token_id), REGISTER, registration) is None:
        # No running flow: an unknown token, or one that has closed (used, expired, revoked).
        token = await session.get(EnrollmentToken, token_id)
        if token is None or not hmac.compare_digest(token.token_hash, token_hash):
            raise ApiError(Error.TOKEN_INVALID)
        instance = await session.get(ProductInstance, body.instance_id)
        if instance is None or instance.enrollment_token_id != token_id:
            raise ApiError(CLOSED.get(status_now(token), Error.TOKEN_NOT_ACTIVE))
        return RegistrationPublic.of(instance)  # a repeat of a registration this token made
    instance = await session.get(ProductInstance, body.instance_id)
    if instance is None:  # cannot happen after a successful registration; never a 500
        raise ApiError(Error.INSTANCE_NOT_FOUND)
    return RegistrationPublic.of(instance)


@router.delete(
    "/businesses/{business_id}/instances/{instance_id}/registration",
    **keyed(*OWNER_ERRORS, Error.INSTANCE_NOT_FOUND),
)
async def unregister_instance(
    business_id: BusinessId,
    instance_id: InstanceId,
    acting: ActingPrimary,
    session: SessionDep,
    settings: SettingsDep,
    client: TemporalDep,
) -> RegistrationPublic:
    """Unregister an instance (idempotent): it can register again with a new token."""
    instance = owned(
        await session.get(ProductInstance, instance_id), business_id, Error.INSTANCE_NOT_FOUND
    )
    await run_change(
        client,
        settings,
        UNREGISTER_INSTANCE,
        UnregisterInstanceInput(instance_id),
        business_id=business_id,
        summary=f"Instance {instance_id[:8]} unregistered",
    )
    await session.refresh(instance)
    return RegistrationPublic.of(instance)
