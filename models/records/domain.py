"""The activation domain (docs/domain.md): businesses, accounts, orders, licenses, instances,
agreement acceptances and credit ledger entries. Written by activities; read by the API.

Idempotency lives in the schema: one instance per service license, one ledger entry per credit
license, one acceptance per (account, agreement, version, order), one primary per Business.
"""

from __future__ import annotations

from datetime import date
from datetime import datetime

from sqlalchemy import Boolean
from sqlalchemy import Date
from sqlalchemy import ForeignKey
from sqlalchemy import Index
from sqlalchemy import Integer
from sqlalchemy import String
from sqlalchemy import UniqueConstraint
from sqlalchemy import false
from sqlalchemy import func
from sqlalchemy import text
from sqlalchemy.orm import Mapped
from sqlalchemy.orm import mapped_column
from sqlalchemy.orm import validates

from core.settings import Settings
from core.text import email_key
from models.records.base import Base
from models.records.base import UTCDateTime

ID = String(36)


def unique_where(name: str, column: str, condition: str) -> Index:
    """A unique index over the rows that meet `condition` (a partial index, on both databases)."""
    where = text(condition)
    return Index(name, column, unique=True, postgresql_where=where, sqlite_where=where)


class Business(Base):
    __tablename__ = "businesses"

    id: Mapped[str] = mapped_column(ID, primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    region: Mapped[str] = mapped_column(String(20))
    credit_balance: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), server_default=func.now())


class Account(Base):
    """A primary (one per Business, email sign-in) or local account (bound to one instance).

    A local account is `pending` until its user activates the invitation, then `active` (or
    `disabled` by the primary); an invitation that lapses or is withdrawn ends `lapsed` or
    `removed`, and such an account no longer counts towards the Business's limit."""

    __tablename__ = "accounts"

    id: Mapped[str] = mapped_column(ID, primary_key=True)
    business_id: Mapped[str] = mapped_column(ForeignKey("businesses.id"), index=True)
    email: Mapped[str] = mapped_column(String(320))  # as typed, for display
    # The address as it decides identity (set with `email`): compare this, never `email`.
    email_key: Mapped[str] = mapped_column(String(320))
    display_name: Mapped[str | None] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(10))  # primary | local
    status: Mapped[str] = mapped_column(String(10))  # pending|active|disabled|lapsed|removed
    instance_id: Mapped[str | None] = mapped_column(ForeignKey("product_instances.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), server_default=func.now())
    locale: Mapped[str | None] = mapped_column(String(10))
    # Local accounts: who invited them, until when the invitation holds, when it was accepted.
    invited_by: Mapped[str | None] = mapped_column(String(36))
    invitation_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    activated_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    __table_args__ = (
        # The Business never has two primaries, whatever retries happen.
        unique_where("uq_accounts_one_primary", "business_id", "kind = 'primary'"),
        # A primary account's address signs in: it identifies one account across businesses,
        # whatever the letter case.
        unique_where("uq_accounts_primary_email_key", "email_key", "kind = 'primary'"),
    )

    @validates("email")
    def _keep_email_key(self, _: str, email: str) -> str:
        self.email_key = email_key(email)
        return email


class PrimaryChange(Base):
    """Support's change of a Business's primary account, and its audit trail (who asked, the
    ticket, each step and its time: `PrimaryChangeEvent`)."""

    __tablename__ = "primary_changes"

    id: Mapped[str] = mapped_column(ID, primary_key=True)
    business_id: Mapped[str] = mapped_column(ForeignKey("businesses.id"), index=True)
    new_email: Mapped[str] = mapped_column(String(320))
    ticket: Mapped[str] = mapped_column(String(100))
    requested_by: Mapped[str] = mapped_column(String(100))
    old_primary: Mapped[str] = mapped_column(String(10))  # local | disabled
    locale: Mapped[str] = mapped_column(String(10))  # the new primary's language
    from_account_id: Mapped[str] = mapped_column(ForeignKey("accounts.id"))
    # verifying | waiting | completed | objected | cancelled | failed
    status: Mapped[str] = mapped_column(String(10))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    objection_ends_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # The child flow that proves the new address (for operators: its id in the Temporal UI).
    verification_id: Mapped[str | None] = mapped_column(String(120))

    __table_args__ = (
        # One pending change per Business (the last word, whatever raced).
        unique_where(
            "uq_primary_changes_one_pending", "business_id", "status IN ('verifying', 'waiting')"
        ),
    )


class PrimaryChangeEvent(Base):
    __tablename__ = "primary_change_events"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    change_id: Mapped[str] = mapped_column(ForeignKey("primary_changes.id"), index=True)
    step: Mapped[str] = mapped_column(String(20))
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    __table_args__ = (UniqueConstraint("change_id", "step"),)  # each step once (retries)


class OwnershipTransfer(Base):
    """A request that the Business's primary account pass to one of its active local accounts."""

    __tablename__ = "ownership_transfers"

    id: Mapped[str] = mapped_column(ID, primary_key=True)
    business_id: Mapped[str] = mapped_column(ForeignKey("businesses.id"), index=True)
    from_account_id: Mapped[str] = mapped_column(ForeignKey("accounts.id"))
    to_account_id: Mapped[str] = mapped_column(ForeignKey("accounts.id"))
    # pending | accepted | declined | cancelled | expired | failed | abandoned
    status: Mapped[str] = mapped_column(String(10))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    __table_args__ = (
        # One pending transfer per Business (its flow ID says so too; this is the last word).
        unique_where("uq_ownership_transfers_one_pending", "business_id", "status = 'pending'"),
    )


class Order(Base):
    __tablename__ = "orders"

    id: Mapped[str] = mapped_column(ID, primary_key=True)
    company_name: Mapped[str] = mapped_column(String(200))
    contact_email: Mapped[str] = mapped_column(String(320))
    region: Mapped[str] = mapped_column(String(20))
    locale: Mapped[str] = mapped_column(String(10))
    # The sales system's order number: a repeated order with it converges on the same order.
    reference: Mapped[str | None] = mapped_column(String(100), unique=True)
    status: Mapped[str] = mapped_column(String(12))  # pending|activated|expired|failed|cancelled
    business_id: Mapped[str | None] = mapped_column(ForeignKey("businesses.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), server_default=func.now())
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    activated_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class ActivationCode(Base):
    """One per emailed Activation Link (the first mail and each reminder carry their own code);
    only the SHA-256 of the code is stored, and it leads to the order."""

    __tablename__ = "activation_codes"

    code_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    order_id: Mapped[str] = mapped_column(ForeignKey("orders.id"), index=True)
    link_number: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), server_default=func.now())


class ProductInstance(Base):
    __tablename__ = "product_instances"

    id: Mapped[str] = mapped_column(ID, primary_key=True)
    business_id: Mapped[str] = mapped_column(ForeignKey("businesses.id"), index=True)
    product_code: Mapped[str] = mapped_column(String(50))
    region: Mapped[str] = mapped_column(String(20))
    registration_status: Mapped[str] = mapped_column(String(14), default="unregistered")
    description: Mapped[str | None] = mapped_column(String(200))
    # The service license that provisioned it: a retried provisioning finds it, not a twin.
    license_id: Mapped[str | None] = mapped_column(String(36), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), server_default=func.now())
    # The enrollment token the running product registered with, and when.
    enrollment_token_id: Mapped[str | None] = mapped_column(String(24))
    registered_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # In the vendor's product (docs/provisioning.md), for a product with a backend: where its
    # provisioning stands (pending | ready | refused | deleted; null: never called), the
    # console the customer opens and the backend's own id for it.
    provisioning: Mapped[str | None] = mapped_column(String(10))
    console_url: Mapped[str | None] = mapped_column(String(2000))
    external_id: Mapped[str | None] = mapped_column(String(200))

    def console(self, settings: Settings) -> str | None:
        """Where the customer opens it: as the vendor's product answered, else as the console
        template makes it (None without either)."""
        return self.console_url or settings.console_of(self.id, self.region, self.product_code)


class EnrollmentToken(Base):
    """A token a product instance presents to register itself; only its SHA-256 is stored.
    The id is the token's public part, so a token can be listed and revoked by it."""

    __tablename__ = "enrollment_tokens"

    id: Mapped[str] = mapped_column(String(24), primary_key=True)
    business_id: Mapped[str] = mapped_column(ForeignKey("businesses.id"), index=True)
    instance_type: Mapped[str] = mapped_column(String(50))
    description: Mapped[str] = mapped_column(String(200))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_by: Mapped[str] = mapped_column(ForeignKey("accounts.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    max_uses: Mapped[int] = mapped_column(Integer)
    uses: Mapped[int] = mapped_column(Integer, default=0)
    status: Mapped[str] = mapped_column(String(10))  # active | used | expired | revoked
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class License(Base):
    __tablename__ = "licenses"

    id: Mapped[str] = mapped_column(ID, primary_key=True)
    order_id: Mapped[str] = mapped_column(ForeignKey("orders.id"), index=True)
    product_code: Mapped[str] = mapped_column(String(50))
    kind: Mapped[str] = mapped_column(String(10))  # service | addon | credits
    units: Mapped[int] = mapped_column(Integer, default=0)
    credits: Mapped[int] = mapped_column(Integer, default=0)
    expires_on: Mapped[date] = mapped_column(Date)
    # issued | active | expired | converted (a trial a paid order took over) | renewal (an order
    # whose term extended the license `renews_license_id`)
    status: Mapped[str] = mapped_column(String(10))
    instance_id: Mapped[str | None] = mapped_column(ForeignKey("product_instances.id"))
    trial: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    renews_license_id: Mapped[str | None] = mapped_column(String(36))
    converts_license_id: Mapped[str | None] = mapped_column(String(36))


class AgreementAcceptance(Base):
    __tablename__ = "agreement_acceptances"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    account_id: Mapped[str] = mapped_column(ForeignKey("accounts.id"), index=True)
    agreement_id: Mapped[str] = mapped_column(String(60))
    version: Mapped[str] = mapped_column(String(20))
    order_id: Mapped[str] = mapped_column(ForeignKey("orders.id"))
    client_address: Mapped[str | None] = mapped_column(String(64))
    user_agent: Mapped[str | None] = mapped_column(String(300))
    accepted_at: Mapped[datetime] = mapped_column(UTCDateTime())

    __table_args__ = (
        UniqueConstraint(
            "account_id",
            "agreement_id",
            "version",
            "order_id",
            name="uq_agreement_acceptances_once",
        ),
    )


class CreditLedgerEntry(Base):
    __tablename__ = "credit_ledger"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    business_id: Mapped[str] = mapped_column(ForeignKey("businesses.id"), index=True)
    license_id: Mapped[str] = mapped_column(ForeignKey("licenses.id"))
    # grant (the credits added) | expiry (what was left of them, removed on their date). One
    # entry of each per credit license: a retry cannot add or remove the credits twice.
    entry: Mapped[str] = mapped_column(String(10), server_default="grant")
    amount: Mapped[int] = mapped_column(Integer)  # negative for an expiry
    expires_on: Mapped[date] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), server_default=func.now())

    __table_args__ = (UniqueConstraint("license_id", "entry"),)


class CreditAllocation(Base):
    """Credits a Business sets aside for a sensor kind: units times the sensor's price."""

    __tablename__ = "credit_allocations"

    business_id: Mapped[str] = mapped_column(ForeignKey("businesses.id"), primary_key=True)
    sensor_code: Mapped[str] = mapped_column(String(50), primary_key=True)
    units: Mapped[int] = mapped_column(Integer)
    credits: Mapped[int] = mapped_column(Integer)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class SandboxUsage(Base):
    """Submissions a Business made against its daily sandbox quota since `period` began (00:00
    UTC); the daily schedule starts a new period."""

    __tablename__ = "sandbox_usage"

    business_id: Mapped[str] = mapped_column(ForeignKey("businesses.id"), primary_key=True)
    period: Mapped[date] = mapped_column(Date)
    used: Mapped[int] = mapped_column(Integer, default=0)
