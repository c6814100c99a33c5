"""Account lookup as the API and its page start it (docs/flows/account-lookup.md): the same answer
for every address; the mail says the rest, to the address only."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession
from temporalio.client import Client

from api.mail_limit import lookup_allowed
from core.settings import Settings
from models.contracts.account_lookup import START
from models.contracts.account_lookup import LookupInput

ANSWER = (
    "If this address can receive mail, an email is on its way to it saying whether it is the "
    "primary account of a company, and how to sign in or create one."
)


async def ask(
    session: AsyncSession, client: Client, settings: Settings, email: str, locale: str
) -> None:
    """Mail the address its answer, unless it had its (small) hourly share of lookup answers
    already: then nothing is sent, and nobody is told (the answer must not differ by address)."""
    if not await lookup_allowed(session, settings, email):
        return
    await START(client, LookupInput(email, locale), task_queue=settings.temporal_task_queue)
