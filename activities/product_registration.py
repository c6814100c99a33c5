"""Side effects of product registration: the token record, the registration of an instance,
and the token's final status. Each is idempotent (a retry after commit changes nothing more)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.ext.asyncio import async_sessionmaker
from temporalio import activity

from activities.base import add_once
from models.contracts.direct_change import UNREGISTER_INSTANCE
from models.contracts.direct_change import UnregisterInstanceInput
from models.contracts.product_registration import CloseTokenInput
from models.contracts.product_registration import RecordTokenInput
from models.contracts.product_registration import RegisterInstanceInput
from models.contracts.product_registration import TokenStatus
from models.errors import RegistrationError
from models.errors import refuse
from models.records.base import as_utc
from models.records.domain import EnrollmentToken
from models.records.domain import ProductInstance
from models.records.events import record_event


async def _instance_event(
    session: AsyncSession,
    type: str,
    instance: ProductInstance,
    token_id: str | None,
    registered_at: datetime | None,
) -> None:
    """Registered or unregistered: one event each per registration (`registered_at` tells one
    registration from the next; a retry finds its event)."""
    await session.flush()
    data = {
        "instance_id": instance.id,
        "business_id": instance.business_id,
        "product_code": instance.product_code,
        "token_id": token_id,
        "description": instance.description,
    }
    moment = registered_at.isoformat() if registered_at else "-"
    key = f"{type}:{instance.id}:{token_id}:{moment}"
    await record_event(session, type, key, instance.business_id, data)


class ProductRegistrationActivities:
    def activities(self) -> list[Callable[..., Any]]:
        """What the worker registers: each bound activity method of this flow."""
        return [
            self.record_token,
            self.register_instance,
            self.close_token,
            self.unregister_instance,
        ]

    def __init__(self, session_factory: async_sessionmaker[AsyncSession]):
        self._sessions = session_factory

    @activity.defn(name="product_registration.record_token")
    async def record_token(self, input: RecordTokenInput) -> None:
        start = input.start
        async with self._sessions.begin() as session:
            await add_once(
                session,
                EnrollmentToken(
                    id=start.token_id,
                    business_id=start.business_id,
                    instance_type=start.instance_type,
                    description=start.description,
                    token_hash=start.token_hash,
                    created_by=start.created_by,
                    max_uses=start.max_uses,
                    created_at=as_utc(input.created_at),
                    expires_at=as_utc(input.expires_at),
                    uses=0,
                    status=TokenStatus.ACTIVE.value,
                ),
            )

    @activity.defn(name="product_registration.register_instance")
    async def register_instance(self, input: RegisterInstanceInput) -> bool:
        """Mark the instance registered and count the token's use, in one transaction.
        Returns whether this token registered it (True again on a retry after the commit);
        False when the instance was registered already, by another token."""
        async with self._sessions.begin() as session:
            instance = await session.get(ProductInstance, input.instance_id, with_for_update=True)
            if instance is None:
                raise refuse(RegistrationError.INSTANCE_NOT_FOUND, "no such product instance")
            if instance.business_id != input.business_id:
                raise refuse(
                    RegistrationError.BUSINESS_MISMATCH, "the token belongs to another Business"
                )
            if instance.product_code != input.instance_type:
                raise refuse(
                    RegistrationError.INSTANCE_TYPE_MISMATCH,
                    f"the token is for {input.instance_type} instances",
                )
            if instance.registration_status == "registered":
                return instance.enrollment_token_id == input.token_id
            instance.registration_status = "registered"
            instance.enrollment_token_id = input.token_id
            instance.registered_at = as_utc(input.at)
            instance.description = input.description
            await session.execute(
                update(EnrollmentToken)
                .where(EnrollmentToken.id == input.token_id)
                .values(uses=EnrollmentToken.uses + 1)
            )
            await _instance_event(
                session, "instance.registered", instance, input.token_id, instance.registered_at
            )
        return True

    @activity.defn(name="product_registration.close_token")
    async def close_token(self, input: CloseTokenInput) -> None:
        """The token's final status, only while it is still active (a retry changes nothing)."""
        async with self._sessions.begin() as session:
            token = await session.get(EnrollmentToken, input.token_id, with_for_update=True)
            if token is None or token.status != TokenStatus.ACTIVE.value:
                return
            token.status = input.status.value
            if input.status != TokenStatus.REVOKED:
                return
            token.revoked_at = as_utc(input.at)
            data = {
                "token_id": token.id,
                "business_id": token.business_id,
                "instance_type": token.instance_type,
                "uses": token.uses,
            }
            key = f"enrollment_token.revoked:{token.id}"
            await record_event(session, "enrollment_token.revoked", key, token.business_id, data)

    @activity.defn(name=UNREGISTER_INSTANCE)
    async def unregister_instance(self, input: UnregisterInstanceInput) -> None:
        """The instance can register again with a new token (a repeat changes nothing)."""
        async with self._sessions.begin() as session:
            instance = await session.get(ProductInstance, input.instance_id, with_for_update=True)
            if instance is None or instance.registration_status != "registered":
                return
            token_id, registered_at = instance.enrollment_token_id, instance.registered_at
            instance.registration_status = "unregistered"
            instance.enrollment_token_id = instance.registered_at = None
            await _instance_event(
                session, "instance.unregistered", instance, token_id, registered_at
            )
