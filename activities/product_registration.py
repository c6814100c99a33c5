"""Side effects of product registration: the token record, the registration of an instance,
and the token's final status. Each is idempotent (a retry after commit changes nothing more)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.ext.asyncio import async_sessionmaker
from temporalio import activity

from activities.base import add_once
from activities.base import close_row
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
        return True

    @activity.defn(name="product_registration.close_token")
    async def close_token(self, input: CloseTokenInput) -> None:
        values: dict[str, Any] = {"status": input.status.value}
        if input.status == TokenStatus.REVOKED:
            values["revoked_at"] = as_utc(input.at)
        await close_row(
            self._sessions, EnrollmentToken, input.token_id, TokenStatus.ACTIVE.value, **values
        )

    @activity.defn(name=UNREGISTER_INSTANCE)
    async def unregister_instance(self, input: UnregisterInstanceInput) -> None:
        """The instance can register again with a new token (a repeat changes nothing)."""
        async with self._sessions.begin() as session:
            await session.execute(
                update(ProductInstance)
                .where(ProductInstance.id == input.instance_id)
                .values(
                    registration_status="unregistered", enrollment_token_id=None, registered_at=None
                )
            )
