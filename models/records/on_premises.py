"""On-premises licenses (docs/on-premises.md): each Activation Code of an order's certificate,
the installations holding its seats (with the agreement each accepted), and every change of a
seat, for the audit. Only a code's SHA-256 is searchable; the code itself is kept sealed (a key
the database does not hold) for the certificate's page."""

from __future__ import annotations

from datetime import date
from datetime import datetime

from sqlalchemy import Boolean
from sqlalchemy import Date
from sqlalchemy import ForeignKey
from sqlalchemy import Integer
from sqlalchemy import LargeBinary
from sqlalchemy import String
from sqlalchemy import UniqueConstraint
from sqlalchemy import func
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped
from sqlalchemy.orm import mapped_column

from models.records.base import Base
from models.records.base import UTCDateTime
from models.records.domain import Business


class LicenseCode(Base):
    __tablename__ = "license_codes"

    id: Mapped[str] = mapped_column(String(24), primary_key=True)  # the code's public id
    order_id: Mapped[str] = mapped_column(String(36), index=True)
    business_id: Mapped[str] = mapped_column(ForeignKey("businesses.id"), index=True)
    position: Mapped[int] = mapped_column(Integer)  # the item's place in the order
    product_code: Mapped[str] = mapped_column(String(50))
    seats: Mapped[int] = mapped_column(Integer)
    expires_on: Mapped[date] = mapped_column(Date)
    code_hash: Mapped[str] = mapped_column(String(64), unique=True)
    sealed_code: Mapped[bytes] = mapped_column(LargeBinary)
    status: Mapped[str] = mapped_column(String(10))  # active | expired | revoked
    locale: Mapped[str] = mapped_column(String(10))  # the order's: its certificate page's
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), server_default=func.now())

    __table_args__ = (UniqueConstraint("order_id", "position", name="uq_license_code_item"),)


class Installation(Base):
    """An installation of a code's product: a seat while `active`."""

    __tablename__ = "installations"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    code_id: Mapped[str] = mapped_column(ForeignKey("license_codes.id"), index=True)
    fingerprint: Mapped[str] = mapped_column(String(128))
    active: Mapped[bool] = mapped_column(Boolean)
    offline: Mapped[bool] = mapped_column(Boolean)
    activated_at: Mapped[datetime] = mapped_column(UTCDateTime())
    deactivated_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # The Business Software Agreement as accepted for this installation.
    agreement_id: Mapped[str] = mapped_column(String(60))
    agreement_version: Mapped[str] = mapped_column(String(20))
    client_address: Mapped[str | None] = mapped_column(String(64))

    __table_args__ = (UniqueConstraint("code_id", "fingerprint", name="uq_installation"),)


class InstallationEvent(Base):
    """Every change of a code's seats, in order (`number`), for the audit."""

    __tablename__ = "installation_events"

    code_id: Mapped[str] = mapped_column(ForeignKey("license_codes.id"), primary_key=True)
    number: Mapped[int] = mapped_column(Integer, primary_key=True)
    event: Mapped[str] = mapped_column(String(12))  # activated | refreshed | deactivated
    fingerprint: Mapped[str] = mapped_column(String(128))
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    client_address: Mapped[str | None] = mapped_column(String(64))


async def codes_of_order(session: AsyncSession, order_id: str) -> list[LicenseCode]:
    """An order's codes, in the order's order of items."""
    rows = await session.scalars(
        select(LicenseCode).where(LicenseCode.order_id == order_id).order_by(LicenseCode.position)
    )
    return list(rows)


async def company_of(session: AsyncSession, codes: list[LicenseCode]) -> str:
    """The name of the company the codes were issued to ("" when there are none)."""
    business = await session.get(Business, codes[0].business_id) if codes else None
    return business.name if business else ""
