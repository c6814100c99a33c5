"""How many mails an address has had this hour (docs/mail.md): the outbox counts them, for the
activity that sends and for the API that refuses early."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from core.text import email_key
from models.records import OutboxMessage

RATE_WINDOW = timedelta(hours=1)


async def mails_sent_within(
    session: AsyncSession, address: str, window: timedelta = RATE_WINDOW
) -> list[datetime]:
    """When each mail to this address (in any letter case) was stored, oldest first."""
    rows = await session.scalars(
        select(OutboxMessage.created_at)
        .where(OutboxMessage.recipient_key == email_key(address))
        .where(OutboxMessage.created_at > datetime.now(UTC) - window)
        .order_by(OutboxMessage.created_at)
    )
    return list(rows)


def retry_after(stored: list[datetime], limit: int, window: timedelta = RATE_WINDOW) -> int | None:
    """Seconds until the address may receive another mail, or None when it may now."""
    if len(stored) < limit:
        return None
    frees_at = stored[len(stored) - limit] + window
    return max(1, int((frees_at - datetime.now(UTC)).total_seconds()) + 1)
