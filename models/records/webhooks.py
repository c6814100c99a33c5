"""Webhook endpoints, and each event's delivery to each of them with its attempts: the delivery
log the API shows (docs/webhooks.md)."""

from __future__ import annotations

import json
from datetime import datetime

from sqlalchemy import BigInteger
from sqlalchemy import ForeignKey
from sqlalchemy import Index
from sqlalchemy import Integer
from sqlalchemy import LargeBinary
from sqlalchemy import String
from sqlalchemy import Text
from sqlalchemy import UniqueConstraint
from sqlalchemy.orm import Mapped
from sqlalchemy.orm import mapped_column

from core.sealing import Sealer
from models.records.base import Base
from models.records.base import UTCDateTime

SECRETS_PURPOSE = "webhook secrets"  # the sealing key the endpoints' secrets are sealed with


class WebhookEndpoint(Base):
    __tablename__ = "webhook_endpoints"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)  # `ep_…`
    url: Mapped[str] = mapped_column(String(2000))
    description: Mapped[str] = mapped_column(String(300), default="")
    # JSON list of the event types it wants; null: every type, those added later too.
    event_types: Mapped[str | None] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(10))  # active | disabled
    # The last event recorded before it was made: it is sent the events after (a replay can
    # send earlier ones).
    after_event_seq: Mapped[int] = mapped_column(BigInteger)
    # Why it was disabled: by the vendor (`manual`), an answer `gone` (410), or `failing`.
    disabled_reason: Mapped[str | None] = mapped_column(String(20))
    # The signing secret, sealed (core/sealing.py; the database alone cannot sign). During a
    # rotation the previous one signs too, until `previous_secret_expires_at`.
    secret: Mapped[bytes] = mapped_column(LargeBinary)
    previous_secret: Mapped[bytes | None] = mapped_column(LargeBinary)
    previous_secret_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())

    def wants(self, event_type: str) -> bool:
        return self.event_types is None or event_type in json.loads(self.event_types)

    def signing_secrets(self, sealer: Sealer, now: datetime) -> list[str]:
        """The secrets that sign now: its own, and during a rotation the previous one too.
        Both are sealed with the endpoint's id as their context."""
        secrets = [sealer.open(self.secret, self.id).decode()]
        if self.previous_secret is not None and self.previous_secret_expires_at is not None:
            if now < self.previous_secret_expires_at:
                secrets.append(sealer.open(self.previous_secret, self.id).decode())
        return secrets


class WebhookDelivery(Base):
    """One event to one endpoint, however many attempts and replays it takes."""

    __tablename__ = "webhook_deliveries"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)  # `dlv_…`
    event_seq: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"))
    event_id: Mapped[str] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"))
    endpoint_id: Mapped[str] = mapped_column(ForeignKey("webhook_endpoints.id", ondelete="CASCADE"))
    # pending (attempts to come) | succeeded | failed (its schedule ran out, or 410) | cancelled
    # (the endpoint was disabled or deleted before it succeeded)
    status: Mapped[str] = mapped_column(String(10))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_status_code: Mapped[int | None] = mapped_column(Integer)
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    __table_args__ = (
        UniqueConstraint("event_id", "endpoint_id"),
        Index("ix_webhook_deliveries_endpoint_id_event_seq", "endpoint_id", "event_seq"),
    )


class WebhookAttempt(Base):
    __tablename__ = "webhook_attempts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    delivery_id: Mapped[str] = mapped_column(
        ForeignKey("webhook_deliveries.id", ondelete="CASCADE"), index=True
    )
    number: Mapped[int] = mapped_column(Integer)  # in its delivery's life, replays included
    # What made it: the schedule, a manual retry, or a replay.
    trigger: Mapped[str] = mapped_column(String(10))
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    status_code: Mapped[int | None] = mapped_column(Integer)
    latency_ms: Mapped[int] = mapped_column(Integer)
    # The answer's first bytes, or why there was none.
    excerpt: Mapped[str] = mapped_column(Text, default="")
    error: Mapped[str | None] = mapped_column(String(200))

    __table_args__ = (UniqueConstraint("delivery_id", "number"),)


class EventRelayCursor(Base):
    """How far the event relay has started deliveries (workers/event_relay.py)."""

    __tablename__ = "event_relay_cursor"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    seq: Mapped[int] = mapped_column(BigInteger)
