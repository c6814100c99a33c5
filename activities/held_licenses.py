"""The provisioning step of license activation that renews or converts what the Business holds
already: a paid license of a product it has renews that license, or converts that trial, and
keeps its instance; the undo gives each held license back as it was
(docs/flows/license-lifecycle.md#renewals-and-trials). Mixed into LicenseActivationActivities."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import date

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from temporalio import activity

from activities.base import FlowActivities
from models.contracts.license_activation import HeldLicense
from models.contracts.license_activation import LicenseItem
from models.contracts.license_activation import MatchLicensesInput
from models.contracts.license_activation import ProvisionInput
from models.errors import ActivationError
from models.errors import refuse
from models.records.domain import License
from models.records.domain import ProductInstance
from models.records.ownership_rules import lock_business

RENEWABLE = ("service", "addon")  # credit grants add up; they renew nothing


def _held_license_order(row: License, region: str, instance_region: str) -> tuple[object, ...]:
    """Which held license an order renews first: a paid one before a trial, one in the order's
    region, a live one before an expired one, the one expiring first."""
    return (row.trial, instance_region != region, row.status != "active", row.expires_on, row.id)


HeldRows = tuple[LicenseItem, HeldLicense, License, License | None, ProductInstance | None]


async def _held_licenses(session: AsyncSession, input: ProvisionInput) -> AsyncIterator[HeldRows]:
    """Under the Business's lock: each order item that renews or converts a held license, with
    the rows involved (the order's license, the held one, its instance; None where gone)."""
    if not any(item.replaces for item in input.items):
        return
    await lock_business(session, input.business_id)
    for item in input.items:
        held = item.replaces
        if held is None:
            continue
        new = await session.get(License, item.license_id)
        old = await session.get(License, held.license_id)
        if new is not None:
            yield item, held, new, old, await session.get(ProductInstance, held.instance_id)


class HeldLicenseSteps(FlowActivities):
    @activity.defn(name="license_activation.match_held_licenses")
    async def match_held_licenses(self, input: MatchLicensesInput) -> dict[str, HeldLicense]:
        """For each paid service license of the order, the license of the same product the
        Business holds already (live or lapsed, paid or a trial), which it renews or converts
        instead of bringing a new instance; for each add-on, the add-on license of the same
        product on the instance it goes to, which it renews. Keyed by the order's license id.
        Reads only."""
        wanted = [
            item
            for item in input.items
            if item.kind in RENEWABLE and not item.trial and not item.new_instance
        ]
        if not wanted:
            return {}
        async with self._sessions() as session:
            rows = (
                await session.execute(
                    select(License, ProductInstance.region)
                    .join(ProductInstance, ProductInstance.id == License.instance_id)
                    .where(
                        ProductInstance.business_id == input.business_id,
                        License.kind.in_(RENEWABLE),
                        License.status.in_(("active", "expired")),
                        License.product_code.in_([item.product_code for item in wanted]),
                    )
                )
            ).all()
        held = sorted(rows, key=lambda row: _held_license_order(row[0], input.region, row[1]))
        matches: dict[str, HeldLicense] = {}
        taken: set[str] = set()
        for item in wanted:
            for row, _ in held:
                same_place = item.kind == "service" or row.instance_id == item.instance_id
                if row.product_code == item.product_code and same_place and row.id not in taken:
                    taken.add(row.id)
                    matches[item.license_id] = HeldLicense(
                        license_id=row.id,
                        instance_id=row.instance_id or "",
                        expires_on=row.expires_on.isoformat(),
                        status=row.status,
                        units=row.units,
                        trial=row.trial,
                    )
                    break
        return matches

    @activity.defn(name="license_activation.take_over_held_licenses")
    async def take_over_held_licenses(self, input: ProvisionInput) -> None:
        """A renewal extends the license it renews (its last day, its units) and reads `renewal`
        itself; a paid license takes its trial's instance and the trial reads `converted`. Under
        the Business's lock (a lifecycle's expiry takes it too); a retry finds it done."""
        async with self._sessions.begin() as session:
            async for item, held, new, old, instance in _held_licenses(session, input):
                if new.renews_license_id or new.converts_license_id:
                    continue  # taken over by an earlier attempt
                if old is None or instance is None or old.status not in ("active", "expired"):
                    raise refuse(
                        ActivationError.INSTANCE_UNAVAILABLE,
                        "the license this order renews changed meanwhile",
                    )
                new.instance_id = instance.id
                if held.renewal:
                    old.expires_on = max(old.expires_on, date.fromisoformat(item.expires_on))
                    old.units = item.units
                    old.status = "active"
                    new.renews_license_id = old.id
                else:
                    old.status = "converted"
                    instance.license_id = new.id
                    new.converts_license_id = old.id

    @activity.defn(name="license_activation.give_back_held_licenses")
    async def give_back_held_licenses(self, input: ProvisionInput) -> None:
        """Undo `take_over_held_licenses`: each held license as it was before the order."""
        async with self._sessions.begin() as session:
            async for _, held, new, old, instance in _held_licenses(session, input):
                if old is None or not (new.renews_license_id or new.converts_license_id):
                    continue  # never taken over, or given back already
                old.status = held.status
                if held.renewal:
                    old.expires_on = date.fromisoformat(held.expires_on)
                    old.units = held.units
                elif instance is not None:
                    instance.license_id = old.id
                new.instance_id = None
                new.renews_license_id = new.converts_license_id = None
