"""How many mails an address has had this hour (docs/mail.md): the outbox counts them, for the
activity that sends and for the API that refuses early."""

from __future__ import annotations

from datetime import UTC
from datetime import datetime
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from core.text import email_key
from models.records.outbox import OutboxMessage

RATE_WINDOW = timedelta(hours=1)
# Mails anyone may ask for without a key (an account lookup's answer): counted apart, against a
# much smaller limit, so nobody can spend the budget the vendor's own mails need (docs/mail.md).
UNSOLICITED = frozenset({"account_lookup"})


async def mails_sent_within(
    session: AsyncSession,
    address: str,
    window: timedelta = RATE_WINDOW,
    *,
    unsolicited: bool = False,
    besides: str | None = None,
) -> list[datetime]:
    """When each mail to this address (in any letter case) was stored, oldest first: the
    flows' own mails, or (`unsolicited`) the ones anyone may ask for; `besides`: the idempotency
    key of a mail being stored, not counted."""
    kind = OutboxMessage.template.in_(UNSOLICITED)
    query = (
        select(OutboxMessage.created_at)
        .where(OutboxMessage.recipient_key == email_key(address))
        .where(OutboxMessage.created_at > datetime.now(UTC) - window)
        .where(kind if unsolicited else ~kind)
        .order_by(OutboxMessage.created_at)
    )
    if besides is not None:
        query = query.where(OutboxMessage.idempotency_key != besides)
    return list(await session.scalars(query))


async def lock_address(session: AsyncSession, address: str) -> None:
    """Serialise the mails stored for one address until the transaction ends, so a burst cannot
    count past the limit: PostgreSQL takes an advisory lock on the address; SQLite serialises
    writers anyway once the caller writes (store the row first, then count)."""
    if session.get_bind().dialect.name == "postgresql":
        await session.execute(
            text("SELECT pg_advisory_xact_lock(hashtextextended(:key, 0))"),
            {"key": f"mail-limit/{email_key(address)}"},
        )


def retry_after(stored: list[datetime], limit: int, window: timedelta = RATE_WINDOW) -> int | None:
    """Seconds until the address may receive another mail, or None when it may now."""
    if len(stored) < limit:
        return None
    frees_at = stored[len(stored) - limit] + window
    return max(1, int((frees_at - datetime.now(UTC)).total_seconds()) + 1)
