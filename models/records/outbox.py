"""Durable domain records written by activities."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index
from sqlalchemy import LargeBinary
from sqlalchemy import String
from sqlalchemy.orm import Mapped
from sqlalchemy.orm import mapped_column

from models.records.base import Base
from models.records.base import UTCDateTime


class OutboxMessage(Base):
    """One row per email, by idempotency key, written before the mail is handed to SMTP: the
    rendered message (with its link) is kept until the server accepts it, so a retry after a
    lost reply sends the identical bytes, and the link the person receives first always works.
    The body is sealed with a key the database does not hold, and erased once the send is
    confirmed (docs/mail.md)."""

    __tablename__ = "mail_outbox"

    idempotency_key: Mapped[str] = mapped_column(String(200), primary_key=True)
    message_id: Mapped[str] = mapped_column(String(200))
    template: Mapped[str] = mapped_column(String(100))
    recipient: Mapped[str] = mapped_column(String(320))
    # The address as it decides identity (lower case): what the per-address limit counts.
    recipient_key: Mapped[str] = mapped_column(String(320))
    # SHA-256 of the secret the message carried, if any (the plain secret is never stored: the
    # sealed `body` holds it until the server accepted the message).
    secret_hash: Mapped[str | None] = mapped_column(String(64))
    # The random public part of the link's token, and the flow run it belongs to: a presented
    # token routes only to that run (knowing a flow's id leads nowhere).
    link_id: Mapped[str | None] = mapped_column(String(24), unique=True)
    flow_id: Mapped[str | None] = mapped_column(String(120))
    run_id: Mapped[str | None] = mapped_column(String(64))
    body: Mapped[bytes | None] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    __table_args__ = (
        Index("ix_mail_outbox_recipient_key_created_at", "recipient_key", "created_at"),
    )


class EmailVerification(Base):
    """The outcome of one email-verification run (in-flight state lives in the workflow)."""

    __tablename__ = "email_verifications"

    flow_id: Mapped[str] = mapped_column(String(100), primary_key=True)
    run_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    email: Mapped[str] = mapped_column(String(320))
    purpose: Mapped[str] = mapped_column(String(50))
    status: Mapped[str] = mapped_column(String(20))
    business_id: Mapped[str | None] = mapped_column(String(64))
    finished_at: Mapped[datetime] = mapped_column(UTCDateTime())

    __table_args__ = (Index("ix_email_verifications_email_status", "email", "status"),)
