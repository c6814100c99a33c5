"""The events of license activation (docs/webhooks.md), each recorded in the transaction of its
change: the order, a new Business's primary account, and what the activation committed: the
instances it made, the licenses it renewed or converted, the credits it added."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from models.contracts.license_activation import CreatePrimaryAccountInput
from models.contracts.license_activation import StartActivationInput
from models.records.domain import License
from models.records.domain import Order
from models.records.domain import ProductInstance
from models.records.events import record_event

CLOSED_AS = {
    "activated": "activation.completed",
    "failed": "activation.failed",
    "expired": "activation.expired",
    "cancelled": "activation.cancelled",
}


async def order_created(session: AsyncSession, order: StartActivationInput, at: datetime) -> None:
    items = [
        {
            "license_id": item.license_id,
            "product_code": item.product_code,
            "kind": item.kind,
            "units": item.units,
            "credits": item.credits,
            "expires_on": item.expires_on,
            "trial": item.trial,
        }
        for item in order.items
    ]
    data = {
        "order_id": order.order_id,
        "reference": order.reference,
        "region": order.region,
        "licenses": items,
    }
    await record_event(session, "order.created", f"order.created:{order.order_id}", None, data, at)


async def primary_created(session: AsyncSession, account: CreatePrimaryAccountInput) -> None:
    data = {
        "account_id": account.account_id,
        "business_id": account.business_id,
        "email": account.email,
        "company_name": account.company_name,
        "region": account.region,
    }
    key = f"account.primary.created:{account.account_id}"
    await record_event(session, "account.primary.created", key, account.business_id, data)


async def order_closed(
    session: AsyncSession, order: Order, reason: str | None, at: datetime
) -> None:
    """The order's end; when activated, what the activation committed, one event each."""
    licenses = list(
        await session.scalars(
            select(License).where(License.order_id == order.id).order_by(License.id)
        )
    )
    business_id = order.business_id
    data: dict[str, object] = {
        "order_id": order.id,
        "reference": order.reference,
        "status": order.status,
        "license_ids": [row.id for row in licenses],
    }
    if reason is not None:
        data["reason"] = reason
    type = CLOSED_AS[order.status]
    await record_event(session, type, f"{type}:{order.id}", business_id, data, at)
    if order.status != "activated":
        return
    for row in licenses:
        await _license_activated(session, row, business_id, at)


async def _license_activated(
    session: AsyncSession, row: License, business_id: str | None, at: datetime
) -> None:
    license = {
        "license_id": row.id,
        "product_code": row.product_code,
        "kind": row.kind,
        "units": row.units,
        "expires_on": row.expires_on.isoformat(),
        "trial": row.trial,
        "instance_id": row.instance_id,
    }
    if row.renews_license_id is not None:
        renewed = await session.get(License, row.renews_license_id)
        data = license | {
            "license_id": row.renews_license_id,
            "by_license_id": row.id,
            "expires_on": renewed.expires_on.isoformat() if renewed else row.expires_on.isoformat(),
        }
        await record_event(
            session, "license.renewed", f"license.renewed:{row.id}", business_id, data, at
        )
    elif row.converts_license_id is not None:
        data = license | {"trial_license_id": row.converts_license_id}
        await record_event(
            session, "trial.converted", f"trial.converted:{row.id}", business_id, data, at
        )
    elif row.kind == "credits":
        data = {
            "license_id": row.id,
            "product_code": row.product_code,
            "amount": row.credits,
            "expires_on": row.expires_on.isoformat(),
        }
        await record_event(
            session, "credits.added", f"credits.added:{row.id}", business_id, data, at
        )
    elif row.kind == "service" and row.instance_id is not None:
        instance = await session.get(ProductInstance, row.instance_id)
        if instance is not None and instance.license_id == row.id:
            data = license | {"region": instance.region}
            key = f"instance.provisioned:{instance.id}"
            await record_event(session, "instance.provisioned", key, business_id, data, at)
