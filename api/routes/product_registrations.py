"""Product registration: the primary account creates enrollment tokens (shown once), lists and
revokes them; a product instance registers with one (the token is the credential); an instance
can be unregistered.

See docs/flows/product-registration.md.
"""

from __future__ import annotations

import hmac
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Path, status
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select, update
from temporalio.client import Client, WorkflowHandle, WorkflowUpdateFailedError
from temporalio.service import RPCError, RPCStatusCode

from api.deps import ActingPrimary, ApiKey, CatalogDep, SessionDep, SettingsDep, TemporalDep
from api.errors import ApiError, ErrorCode, responses
from api.fields import BusinessId, InstanceId, OneLine
from api.flows import refusal
from core.tokens import hash_token, is_domain_key, new_token, random_key, split_token
from models.domain import EnrollmentToken, ProductInstance
from models.product_registration import (
    RegisterInput,
    RegistrationError,
    StartRegistrationInput,
    TokenStatus,
    flow_id_of,
)
from workflows.product_registration import ProductRegistrationWorkflow, start

router = APIRouter(prefix="/v1", tags=["product registration"])

FLOW_ERRORS: dict[str, tuple[int, ErrorCode]] = {
    RegistrationError.TOKEN_INVALID: (400, ErrorCode.ENROLLMENT_TOKEN_INVALID),
    RegistrationError.TOKEN_USED: (409, ErrorCode.ENROLLMENT_TOKEN_USED),
    RegistrationError.TOKEN_EXPIRED: (410, ErrorCode.ENROLLMENT_TOKEN_EXPIRED),
    RegistrationError.TOKEN_REVOKED: (410, ErrorCode.ENROLLMENT_TOKEN_REVOKED),
    RegistrationError.TOKEN_NOT_ACTIVE: (409, ErrorCode.ENROLLMENT_TOKEN_NOT_ACTIVE),
    RegistrationError.BUSINESS_MISMATCH: (403, ErrorCode.BUSINESS_MISMATCH),
    RegistrationError.INSTANCE_TYPE_MISMATCH: (422, ErrorCode.INSTANCE_TYPE_MISMATCH),
    RegistrationError.INSTANCE_NOT_FOUND: (404, ErrorCode.INSTANCE_NOT_FOUND),
    RegistrationError.NOT_RECORDED: (503, ErrorCode.ENROLLMENT_TOKEN_NOT_RECORDED),
}
# A closed token's refusal, by how it closed.
CLOSED_ERRORS = {
    TokenStatus.USED: RegistrationError.TOKEN_USED,
    TokenStatus.EXPIRED: RegistrationError.TOKEN_EXPIRED,
    TokenStatus.REVOKED: RegistrationError.TOKEN_REVOKED,
}
INVALID = "the enrollment token is not valid"
TokenId = Annotated[str, Path(pattern=r"^[a-z2-7]{24}$", description="The token's public id")]


class TokenCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    instance_type: str = Field(pattern=r"^[a-z0-9][a-z0-9-]{0,49}$")
    description: OneLine = Field(min_length=1, max_length=200)
    expires_in: int = Field(24 * 3600, ge=300, le=30 * 24 * 3600, description="Seconds")
    max_uses: int = Field(1, ge=1, le=1000)


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


class RegistrationCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    token: str = Field(min_length=1, max_length=200)
    instance_id: str = Field(pattern=r"^[0-9a-f-]{36}$")


class RegistrationPublic(BaseModel):
    instance_id: str
    business_id: str
    product_code: str
    registration_status: str
    description: str | None
    enrollment_token_id: str | None
    registered_at: datetime | None

    @classmethod
    def of(cls, instance: ProductInstance) -> RegistrationPublic:
        return cls(
            instance_id=instance.id,
            business_id=instance.business_id,
            product_code=instance.product_code,
            registration_status=instance.registration_status,
            description=instance.description,
            enrollment_token_id=instance.enrollment_token_id,
            registered_at=instance.registered_at,
        )


def status_now(token: EnrollmentToken) -> TokenStatus:
    """Correct at read time, even before the token's flow has recorded how it closed."""
    if token.status == TokenStatus.ACTIVE and token.uses >= token.max_uses:
        return TokenStatus.USED
    if token.status == TokenStatus.ACTIVE and token.expires_at <= datetime.now(UTC):
        return TokenStatus.EXPIRED
    return TokenStatus(token.status)


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


def _flow_error(err: WorkflowUpdateFailedError) -> ApiError:
    return refusal(err, FLOW_ERRORS)


def _closed_error(token: EnrollmentToken) -> ApiError:
    error = CLOSED_ERRORS.get(status_now(token), RegistrationError.TOKEN_NOT_ACTIVE)
    http_status, code = FLOW_ERRORS[error]
    return ApiError(http_status, code, f"the enrollment token is {status_now(token).value}")


def _handle(client: Client, token_id: str) -> WorkflowHandle[Any, Any]:
    return client.get_workflow_handle_for(ProductRegistrationWorkflow.run, flow_id_of(token_id))


@router.post(
    "/businesses/{business_id}/enrollment-tokens",
    status_code=status.HTTP_201_CREATED,
    dependencies=[ApiKey],
    responses=responses(401, 403, 404, 422, 503),
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
            422,
            ErrorCode.UNKNOWN_INSTANCE_TYPE,
            f"{body.instance_type!r} is not a product that runs as an instance",
        )
    token_id = random_key()
    token = new_token(token_id)
    try:
        state = await start(
            client,
            StartRegistrationInput(
                token_id=token_id,
                token_hash=hash_token(token),
                business_id=business_id,
                instance_type=body.instance_type,
                description=body.description,
                created_by=acting,
                expires_in_seconds=body.expires_in,
                max_uses=body.max_uses,
            ),
            task_queue=settings.temporal_task_queue,
        )
    except WorkflowUpdateFailedError as err:
        raise _flow_error(err) from None
    return TokenCreated(
        id=state.id,
        token=token,
        instance_type=state.instance_type,
        description=state.description,
        status=state.status,
        created_at=state.created_at,
        expires_at=state.expires_at,
        max_uses=state.max_uses,
        uses=state.uses,
    )


@router.get(
    "/businesses/{business_id}/enrollment-tokens",
    dependencies=[ApiKey],
    responses=responses(401, 403, 404),
)
async def list_enrollment_tokens(
    business_id: BusinessId, acting: ActingPrimary, session: SessionDep
) -> list[TokenPublic]:
    """The Business's tokens, newest first, with their status now (never the token itself)."""
    tokens = await session.scalars(
        select(EnrollmentToken)
        .where(EnrollmentToken.business_id == business_id)
        .order_by(EnrollmentToken.created_at.desc(), EnrollmentToken.id)
    )
    return [_public(token) for token in tokens]


@router.delete(
    "/businesses/{business_id}/enrollment-tokens/{token_id}",
    dependencies=[ApiKey],
    responses=responses(401, 403, 404, 409),
)
async def revoke_enrollment_token(
    business_id: BusinessId,
    token_id: TokenId,
    acting: ActingPrimary,
    session: SessionDep,
    client: TemporalDep,
) -> TokenPublic:
    """Revoke: registrations already under way finish first; after this none can start."""
    token = await session.get(EnrollmentToken, token_id)
    if token is None or token.business_id != business_id:
        raise ApiError(404, ErrorCode.ENROLLMENT_TOKEN_NOT_FOUND, "no such enrollment token")
    try:
        await _handle(client, token_id).execute_update(ProductRegistrationWorkflow.revoke)
    except WorkflowUpdateFailedError as err:
        raise _flow_error(err) from None
    except RPCError as err:
        if err.status != RPCStatusCode.NOT_FOUND:
            raise
        raise ApiError(
            409,
            ErrorCode.ENROLLMENT_TOKEN_NOT_ACTIVE,
            f"the enrollment token is {status_now(token).value}",
        ) from None
    await session.refresh(token)
    public = _public(token)
    public.status = TokenStatus.REVOKED  # the flow records it in the database as it closes
    return public


@router.post("/registrations", responses=responses(400, 403, 404, 409, 410, 422, 503))
async def register_instance(
    body: RegistrationCreate, session: SessionDep, client: TemporalDep
) -> RegistrationPublic:
    """A product instance registers itself with an enrollment token (the token is the
    credential). Registering the same instance again changes nothing and uses nothing."""
    parts = split_token(body.token)
    if parts is None or not is_domain_key(parts[0]):
        raise ApiError(400, ErrorCode.ENROLLMENT_TOKEN_INVALID, INVALID)
    token_id, token_hash = parts[0], hash_token(body.token)
    try:
        await _handle(client, token_id).execute_update(
            ProductRegistrationWorkflow.register, RegisterInput(token_hash, body.instance_id)
        )
    except WorkflowUpdateFailedError as err:
        raise _flow_error(err) from None
    except RPCError as err:
        if err.status != RPCStatusCode.NOT_FOUND:
            raise
        # No running flow: an unknown token, or one that has closed (used, expired, revoked).
        token = await session.get(EnrollmentToken, token_id)
        if token is None or not hmac.compare_digest(token.token_hash, token_hash):
            raise ApiError(400, ErrorCode.ENROLLMENT_TOKEN_INVALID, INVALID) from None
        instance = await session.get(ProductInstance, body.instance_id)
        if instance is None or instance.enrollment_token_id != token_id:
            raise _closed_error(token) from None
        return RegistrationPublic.of(instance)  # a repeat of a registration this token made
    instance = await session.get(ProductInstance, body.instance_id)
    if instance is None:  # cannot happen after a successful registration; never a 500
        raise ApiError(404, ErrorCode.INSTANCE_NOT_FOUND, "no such product instance")
    return RegistrationPublic.of(instance)


@router.delete(
    "/businesses/{business_id}/instances/{instance_id}/registration",
    dependencies=[ApiKey],
    responses=responses(401, 403, 404),
)
async def unregister_instance(
    business_id: BusinessId, instance_id: InstanceId, acting: ActingPrimary, session: SessionDep
) -> RegistrationPublic:
    """Unregister an instance (idempotent): it can register again with a new token."""
    instance = await session.get(ProductInstance, instance_id)
    if instance is None or instance.business_id != business_id:
        raise ApiError(404, ErrorCode.INSTANCE_NOT_FOUND, "no such product instance")
    # One conditional statement, no workflow needed: nothing waits and nothing can half-happen.
    await session.execute(
        update(ProductInstance)
        .where(ProductInstance.id == instance_id)
        .values(registration_status="unregistered", enrollment_token_id=None, registered_at=None)
    )
    await session.commit()
    await session.refresh(instance)
    return RegistrationPublic.of(instance)
