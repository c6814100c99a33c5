"""The per-address mail limit, answered before a request starts anything that would mail
(docs/mail.md). The sending activity enforces the same limit; this makes it a clear 429."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from api.errors import ApiError
from core.settings import Settings
from models.errors import MailProblem
from models.records.mail_limits import mails_sent_within
from models.records.mail_limits import retry_after


async def require_mail_allowance(session: AsyncSession, settings: Settings, address: str) -> None:
    """The flows' own mails: refused with 429 once the address had its share this hour."""
    limit = settings.mail_per_address_per_hour
    wait = retry_after(await mails_sent_within(session, address), limit)
    if wait is not None:
        raise ApiError(
            MailProblem.RATE_LIMITED,
            f"this address has received {limit} mails within the hour; try again later",
            headers={"Retry-After": str(wait)},
        )


async def lookup_allowed(session: AsyncSession, settings: Settings, address: str) -> bool:
    """Whether an account lookup's answer may still go to this address this hour (its own,
    smaller share: lookups never spend what the flows' mails need)."""
    sent = await mails_sent_within(session, address, unsolicited=True)
    return retry_after(sent, settings.lookup_mails_per_address_per_hour) is None
