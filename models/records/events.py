"""Events: what happened that a vendor's systems care about, each written in the transaction of
the change it tells of (no event without its change, no change without its event), numbered in
commit order (docs/webhooks.md).

The numbering is what the feed (`GET /v1/events?after=`) pages by, so it must be the order in
which events become visible: a reader that has seen event 7 must never later find a 6. An
autoincrement id does not promise that (a transaction that took 6 may commit after the one that
took 7). Here the number comes from one counter row, taken last in the transaction: the row
stays locked until the commit, so the next event's transaction waits for it, and numbers are
handed out in the order transactions commit. Only the tail of a transaction that records an
event waits; SQLite, one writer at a time, is in that order already.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Callable
from datetime import UTC
from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger
from sqlalchemy import Index
from sqlalchemy import Integer
from sqlalchemy import String
from sqlalchemy import Text
from sqlalchemy import event
from sqlalchemy import exists
from sqlalchemy import select
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped
from sqlalchemy.orm import Session
from sqlalchemy.orm import mapped_column

from models.records.base import Base
from models.records.base import UTCDateTime

# The catalog of event types: what each tells (docs/webhooks.md gives an example of each, and a
# test checks that every type is emitted by the real flows).
EVENT_TYPES = {
    "order.created": "an order was recorded; its Activation Link is on its way",
    "activation.completed": "an order was activated: its licenses are active",
    "activation.failed": "an activation failed for good (provisioning refused); nothing stays",
    "activation.expired": "an order's Activation Link lapsed unused",
    "activation.cancelled": "an order was cancelled before it was activated",
    "account.primary.created": "a new Business and its primary account",
    "account.primary.changed": "a Business's primary account is another one now",
    "local_account.activated": "an invited local account was activated",
    "instance.provisioned": "an activation created a product instance",
    "instance.registered": "a running product instance registered with an enrollment token",
    "instance.unregistered": "a product instance was unregistered",
    "license.renewed": "a renewal extended a license's term",
    "license.expiring": "a license's renewal reminder went out",
    "license.expired": "a license reached the end of its term",
    "trial.converted": "a paid license took over a trial's instance",
    "credits.added": "credits were added to a Business's balance",
    "credits.expired": "credits left the balance at the end of their term",
    "enrollment_token.revoked": "an enrollment token was revoked",
    "installation.activated": "an installation of an on-premises product took a seat of its code",
    "installation.deactivated": "an installation freed its seat",
    "license_code.renewed": "a renewal extended an Activation Code's term",
    "license_code.revoked": "the vendor revoked an Activation Code",
}


class Event(Base):
    __tablename__ = "events"

    # Commit order (see above): the feed's cursor.
    seq: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    id: Mapped[str] = mapped_column(String(32), unique=True)  # `evt_…`: the deliveries' webhook-id
    type: Mapped[str] = mapped_column(String(40))
    business_id: Mapped[str | None] = mapped_column(String(64))
    # What the change is one of: a retry of the step that recorded it finds it and adds none.
    key: Mapped[str] = mapped_column(String(200), unique=True)
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime())
    data: Mapped[str] = mapped_column(Text)  # JSON: ids and public state; no secret, no token

    __table_args__ = (
        Index("ix_events_type_seq", "type", "seq"),
        Index("ix_events_business_id_seq", "business_id", "seq"),
        Index("ix_events_occurred_at", "occurred_at"),
    )

    def body(self) -> dict[str, Any]:
        """The event as the feed and every delivery give it."""
        return {
            "id": self.id,
            "type": self.type,
            "timestamp": self.occurred_at.isoformat().replace("+00:00", "Z"),
            "business_id": self.business_id,
            "data": json.loads(self.data),
        }


class EventCounter(Base):
    """One row: the last event number handed out (see the module's doc)."""

    __tablename__ = "event_counter"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    last: Mapped[int] = mapped_column(BigInteger)


# Called after a commit that recorded events, in this process: the event relay wakes at once
# instead of at its next look (workers/event_relay.py).
_on_recorded: list[Callable[[], None]] = []


def on_recorded(callback: Callable[[], None]) -> Callable[[], None]:
    """Call `callback` after each commit that recorded an event; returns how to stop."""
    _on_recorded.append(callback)
    return lambda: _on_recorded.remove(callback)


@event.listens_for(Session, "after_commit")
def _after_commit(session: Session) -> None:
    if session.info.pop("events_recorded", False):
        for callback in list(_on_recorded):
            callback()


async def record_event(
    session: AsyncSession,
    type: str,
    key: str,
    business_id: str | None,
    data: dict[str, Any],
    at: datetime | None = None,
) -> bool:
    """Record an event in the session's transaction, unless one with this `key` is there (a
    retry): whether it was recorded. Call it last before the commit: from here to the commit,
    other transactions that record events wait (see the module's doc)."""
    if type not in EVENT_TYPES:
        raise ValueError(f"not an event type: {type}")
    if await session.scalar(select(exists().where(Event.key == key))):
        return False
    seq = await session.scalar(
        update(EventCounter)
        .where(EventCounter.id == 1)
        .values(last=EventCounter.last + 1)
        .returning(EventCounter.last)
    )
    if seq is None:
        raise RuntimeError("the event counter row is missing (run the migrations)")
    session.add(
        Event(
            seq=seq,
            id=f"evt_{secrets.token_hex(12)}",
            type=type,
            business_id=business_id,
            key=key,
            occurred_at=at or datetime.now(UTC),
            data=json.dumps(data, sort_keys=True, default=str),
        )
    )
    session.info["events_recorded"] = True
    return True
