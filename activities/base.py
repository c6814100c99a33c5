"""What every flow's activities share: their dependencies, and how a business refusal is raised
(non-retryable, with the stable type the API maps to an HTTP answer; docs/architecture.md)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from typing import TypeVar

from sqlalchemy import inspect as sa_inspect
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.ext.asyncio import async_sessionmaker

from activities.mail import Link
from activities.mail import Mail
from activities.mail import MailSender
from activities.mail import OnStore
from activities.mail import mail_key
from core.settings import Settings
from models.errors import DomainError
from models.errors import refuse
from models.records.domain import Business
from models.records.ownership_rules import lock_business

RowT = TypeVar("RowT")

# This service's page for each kind of link a mail carries (`{token}`: where its token goes).
LINK_PAGES = {
    "activation": "/activate/{token}",
    "verification": "/verify-email?token={token}",
    "invitation": "/activate-account?token={token}",
    "transfer": "/ownership-transfer?token={token}",
    "objection": "/primary-change?token={token}",
    "certificate": "/certificate?token={token}",
}


async def add_once(session: AsyncSession, row: Any) -> bool:
    """Add a flow's first row unless it is there already (a retry after the commit finds it);
    whether it was added."""
    key = sa_inspect(type(row)).primary_key_from_instance(row)
    if await session.get(type(row), key) is not None:
        return False
    session.add(row)
    return True


async def locked_business(
    session: AsyncSession, business_id: str, missing: DomainError
) -> Business:
    """The Business, locked for this transaction (`lock_business`); refused as `missing` when
    there is none."""
    business = await lock_business(session, business_id)
    if business is None:
        raise refuse(missing, "no such Business")
    return business


@dataclass(frozen=True)
class Completion:
    """The step that completes a flow's row, in one transaction: the row moves from `waiting` to
    `done`; `failed` is the refusal when it no longer can (`what`: the row, in its words)."""

    model: Any
    waiting: str
    done: str
    failed: DomainError
    what: str

    async def lock(self, session: AsyncSession, row_id: str) -> Any | None:
        """The row, locked; None when this step has committed already (a retry)."""
        row = await session.get(self.model, row_id, with_for_update=True)
        if row is None:
            raise refuse(self.failed, f"no such {self.what}")
        if row.status == self.done:
            return None
        if row.status != self.waiting:
            raise refuse(self.failed, f"the {self.what} is {row.status}")
        return row


async def close_row(
    sessions: async_sessionmaker[AsyncSession],
    model: Any,
    row_id: str,
    open_status: str,
    **values: Any,
) -> None:
    """Record how a flow's row ended, only while it is still `open_status`: a retry after the
    commit, or a row another step closed first, changes nothing."""
    async with sessions.begin() as session:
        await session.execute(
            update(model).where(model.id == row_id, model.status == open_status).values(**values)
        )


class FlowActivities:
    """Holds the dependencies; the worker registers the subclass's bound methods."""

    def __init__(
        self,
        settings: Settings,
        session_factory: async_sessionmaker[AsyncSession],
        mail: MailSender,
    ) -> None:
        self._settings = settings
        self._sessions = session_factory
        self._mail = mail

    def link_url(self, kind: str) -> str:
        """The URL a mail links to, with `{token}` where the link's token goes: the vendor's
        portal when `link_templates` names one for this kind of link, else this service's page."""
        template = self._settings.link_templates.get(kind)
        return template or f"{self._settings.public_base_url.rstrip('/')}{LINK_PAGES[kind]}"

    async def mail_outcomes(
        self, template: str, mails: list[tuple[str, str, str]], context: dict[str, Any]
    ) -> None:
        """Mail how a flow ended: each `(outcome, to, locale)` once (docs/mail.md), with the
        outcome in the template's context."""
        for outcome, to, locale in mails:
            mail = Mail(template, to, locale, context | {"outcome": outcome})
            await self._mail.send(mail_key(f"outcome/{outcome}"), mail)

    async def mail_link(
        self, kind: str, key: str, mail: Mail, on_store: OnStore | None = None
    ) -> str:
        """Mail a link of this flow run, with a fresh token, once per `key` (docs/mail.md);
        return only the token's hash."""
        link = Link.for_this_run(self.link_url(kind))
        sent = await self._mail.send(mail_key(key), mail, link, on_store)
        return sent.link_hash
