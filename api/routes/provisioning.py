"""The vendor's product backend calls back here once it has set up (or failed to set up) an
instance it answered 202 for. No API key: the call is signed with the product's secret, per
Standard Webhooks, as our calls to it are (docs/provisioning.md)."""

from __future__ import annotations

import json
from typing import Literal

from fastapi import APIRouter
from fastapi import Request
from fastapi import Response
from pydantic import BaseModel
from pydantic import ValidationError
from sqlalchemy import exists
from sqlalchemy import select
from temporalio.service import RPCError
from temporalio.service import RPCStatusCode

from api.deps import SessionDep
from api.deps import SettingsDep
from api.deps import TemporalDep
from api.errors import BAD_BODY
from api.errors import ApiError
from api.errors import responses
from api.fields import OneLine
from api.flow_clients.license_activation import flow_handle
from core.outbound import AddressRefused
from core.outbound import OutboundPolicy
from core.settings import Settings
from core.signing import verifies
from models.contracts.provisioning import INSTANCE_ANSWERED
from models.contracts.provisioning import InstanceAnswer
from models.contracts.provisioning import InstanceStatus
from models.errors import ApiProblem
from models.errors import ProvisioningError
from models.records.domain import License
from models.records.domain import ProductInstance

router = APIRouter(prefix="/v1/provisioning", tags=["provisioning"])


class InstanceCallback(BaseModel):
    """What the backend says of an instance it was setting up."""

    instance_id: OneLine
    status: Literal["ready", "failed"]
    console_url: str | None = None
    external_id: str | None = None
    reason: str | None = None  # why it failed, in a few words


CALLBACK_ERRORS = (
    ProvisioningError.SIGNATURE_INVALID,
    ProvisioningError.INSTANCE_NOT_FOUND,
    ProvisioningError.NOT_WAITING,
    *BAD_BODY,
)


@router.post(
    "/callbacks/{order_id}",
    status_code=204,
    responses=responses(*CALLBACK_ERRORS),
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {"application/json": {"schema": InstanceCallback.model_json_schema()}},
        }
    },
)
async def instance_callback(
    order_id: OneLine,
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    client: TemporalDep,
) -> Response:
    """The instance is ready (with its console URL and the backend's id for it) or failed.
    The order's activation takes the first word on each instance; a repeated callback is
    answered alike."""
    body = await request.body()
    try:
        callback = InstanceCallback.model_validate(json.loads(body))
    except (ValueError, ValidationError):
        raise ApiError(ApiProblem.INVALID_REQUEST, "the body is not an instance callback") from None
    instance = await session.get(ProductInstance, callback.instance_id)
    ordered = exists().where(
        License.order_id == order_id, License.instance_id == callback.instance_id
    )
    if instance is None or not await session.scalar(select(ordered)):
        # Checked before the signature, which needs the instance's product: the answer says
        # nothing that the caller did not send.
        raise ApiError(ProvisioningError.INSTANCE_NOT_FOUND)
    secrets = settings.provisioning_secrets.get(instance.product_code, [])
    if not verifies(secrets, body, request.headers):
        raise ApiError(ProvisioningError.SIGNATURE_INVALID)
    answer = InstanceAnswer(
        instance.id,
        InstanceStatus(callback.status),
        console_url=_shown(callback.console_url, settings),
        external_id=callback.external_id,
        reason=(callback.reason or "")[:200] or None,
    )
    try:
        await flow_handle(client, order_id).signal(INSTANCE_ANSWERED, answer)
    except RPCError as err:
        if err.status == RPCStatusCode.NOT_FOUND:  # the activation is over
            raise ApiError(ProvisioningError.NOT_WAITING) from None
        raise
    return Response(status_code=204)


def _shown(url: str | None, settings: Settings) -> str | None:
    """A console URL the customer's pages may link to: https (http in development)."""
    if url is None or len(url) > 2000:
        return None
    try:
        OutboundPolicy(development=settings.is_development).check_url(url)
    except AddressRefused:
        return None
    return url
