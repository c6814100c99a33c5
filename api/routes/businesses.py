"""Businesses and what activation gave them: the primary account, licenses, credits, instances."""

from __future__ import annotations

from datetime import date
from datetime import datetime

from fastapi import APIRouter
from pydantic import BaseModel
from sqlalchemy import select

from api.deps import ApiKey
from api.deps import SessionDep
from api.deps import require_business
from api.errors import BUSINESS_ERRORS
from api.errors import responses
from api.fields import BusinessId
from models.records.domain import Account
from models.records.domain import CreditLedgerEntry
from models.records.domain import License
from models.records.domain import Order
from models.records.domain import ProductInstance

router = APIRouter(prefix="/v1/businesses", tags=["businesses"], dependencies=[ApiKey])


READ_ERRORS = responses(*BUSINESS_ERRORS)


class AccountSummary(BaseModel):
    id: str
    email: str


class LicensePublic(BaseModel):
    id: str
    order_id: str
    product_code: str
    kind: str
    units: int
    credits: int
    expires_on: date
    status: str  # issued | active | expired | converted | renewal
    instance_id: str | None
    trial: bool
    renews_license_id: str | None  # a renewal: the license its term extended
    converts_license_id: str | None  # a paid license: the trial it converted


class CreditEntryPublic(BaseModel):
    license_id: str
    amount: int
    expires_on: date
    created_at: datetime


class BusinessPublic(BaseModel):
    id: str
    name: str
    region: str
    credit_balance: int
    created_at: datetime
    primary_account: AccountSummary | None
    licenses: list[LicensePublic]
    credits: list[CreditEntryPublic]


class AddonPublic(BaseModel):
    license_id: str
    product_code: str
    status: str  # active | expired
    expires_on: date


class InstancePublic(BaseModel):
    id: str
    product_code: str
    region: str
    registration_status: str
    description: str | None
    license_id: str | None
    # The license it runs under, as it stands (a trial, a renewal's later day, an expiry).
    license_status: str | None = None
    license_expires_on: date | None = None
    trial: bool = False
    addons: list[AddonPublic] = []  # add-on licenses assigned to this instance
    created_at: datetime
    # In the vendor's product (docs/provisioning.md): where its provisioning stands (pending,
    # ready, refused, deleted; null without a product backend), its console and its id there.
    provisioning: str | None = None
    console_url: str | None = None
    external_id: str | None = None


@router.get("/{business_id}", responses=READ_ERRORS)
async def get_business(business_id: BusinessId, session: SessionDep) -> BusinessPublic:
    """The Business, its primary account, its active licenses and its credit balance."""
    business = await require_business(business_id, session)
    primary = await session.scalar(
        select(Account).where(Account.business_id == business_id, Account.kind == "primary")
    )
    licenses = await session.scalars(
        select(License)
        .join(Order, Order.id == License.order_id)
        .where(Order.business_id == business_id)
        .order_by(Order.activated_at, License.id)
    )
    credits = await session.scalars(
        select(CreditLedgerEntry)
        .where(CreditLedgerEntry.business_id == business_id)
        .order_by(CreditLedgerEntry.id)
    )
    return BusinessPublic(
        id=business.id,
        name=business.name,
        region=business.region,
        credit_balance=business.credit_balance,
        created_at=business.created_at,
        primary_account=AccountSummary(id=primary.id, email=primary.email) if primary else None,
        licenses=[LicensePublic.model_validate(row, from_attributes=True) for row in licenses],
        credits=[CreditEntryPublic.model_validate(row, from_attributes=True) for row in credits],
    )


@router.get("/{business_id}/instances", responses=READ_ERRORS)
async def list_instances(business_id: BusinessId, session: SessionDep) -> list[InstancePublic]:
    """The Business's product instances, oldest first, with the add-ons assigned to each."""
    await require_business(business_id, session)
    instances = (
        await session.scalars(
            select(ProductInstance)
            .where(ProductInstance.business_id == business_id)
            .order_by(ProductInstance.created_at, ProductInstance.id)
        )
    ).all()
    licenses = {
        row.id: row
        for row in await session.scalars(
            select(License).where(License.id.in_([i.license_id for i in instances if i.license_id]))
        )
    }
    addons: dict[str, list[AddonPublic]] = {}
    rows = await session.execute(
        select(License)
        .order_by(License.id)
        .where(
            License.kind == "addon",
            License.status != "renewal",  # a renewal's term is on the license it renewed
            License.instance_id.in_([instance.id for instance in instances]),
        )
    )
    for addon in rows.scalars():
        addons.setdefault(addon.instance_id or "", []).append(
            AddonPublic(
                license_id=addon.id,
                product_code=addon.product_code,
                status=addon.status,
                expires_on=addon.expires_on,
            )
        )
    return [
        InstancePublic.model_validate(instance, from_attributes=True).model_copy(
            update={"addons": addons.get(instance.id, [])} | _license_of(licenses, instance)
        )
        for instance in instances
    ]


def _license_of(licenses: dict[str, License], instance: ProductInstance) -> dict[str, object]:
    license = licenses.get(instance.license_id or "")
    if license is None:
        return {}
    return {
        "license_status": license.status,
        "license_expires_on": license.expires_on,
        "trial": license.trial,
    }
