"""Durable domain records written by activities."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index, String, func
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, UTCDateTime


class SentMessage(Base):
    """One row per email handed to SMTP, by idempotency key: a retry finds it and stops."""

    __tablename__ = "sent_messages"

    idempotency_key: Mapped[str] = mapped_column(String(200), primary_key=True)
    message_id: Mapped[str] = mapped_column(String(200))
    template: Mapped[str] = mapped_column(String(100))
    recipient: Mapped[str] = mapped_column(String(320))
    # SHA-256 of the secret the message carried, if any (the plain secret is never stored).
    secret_hash: Mapped[str | None] = mapped_column(String(64))
    sent_at: Mapped[datetime] = mapped_column(UTCDateTime(), server_default=func.now())


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
