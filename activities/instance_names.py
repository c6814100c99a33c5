"""Instances as a mail names them: its own name (none when it is just the product's, which the
mail says in its own language), its region, and its console."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from core.settings import Settings
from models.contracts.license_activation import LicenseItem
from models.records.domain import ProductInstance


async def instances_of(
    session: AsyncSession, settings: Settings, items: Sequence[LicenseItem]
) -> dict[str, dict[str, str | None]]:
    """The instances the items went to, by id, for the confirmation mail."""
    product_names = {item.instance_id: item.product_name for item in items if item.instance_id}
    consoles = {item.instance_id: item.console_url for item in items if item.instance_id}
    rows = await session.scalars(
        select(ProductInstance).where(ProductInstance.id.in_(sorted(product_names)))
    )
    return {
        row.id: {
            "name": row.description if row.description != product_names[row.id] else None,
            "region": row.region,
            "console": consoles[row.id] or row.console(settings),
        }
        for row in rows
    }
