"""The links in the mails. A token is `<link id>.<secret>`; the link id is random per link and
leads, through the stored mail that carried it, to the one flow run it was made for. So knowing a
flow's id leads nowhere, a mangled token reaches no flow, and a link of an earlier run of a flow
never touches a later one (docs/mail.md)."""

from __future__ import annotations

import hmac
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from core.tokens import hash_token
from core.tokens import is_domain_key
from core.tokens import split_token
from models.records.outbox import OutboxMessage


@dataclass
class LinkTarget:
    flow_id: str
    run_id: str
    token_hash: str


async def link_target(session: AsyncSession, token: str, flow_prefix: str) -> LinkTarget | None:
    """The flow run a token was mailed for, if it is a genuine link of that kind of flow."""
    parts = split_token(token)
    if parts is None or not is_domain_key(parts[0]):
        return None
    row = await session.scalar(select(OutboxMessage).where(OutboxMessage.link_id == parts[0]))
    if (
        row is None
        or row.flow_id is None
        or row.run_id is None
        or row.secret_hash is None
        or not row.flow_id.startswith(flow_prefix)
    ):
        return None
    token_hash = hash_token(token)
    if not hmac.compare_digest(token_hash, row.secret_hash):
        return None
    return LinkTarget(row.flow_id, row.run_id, token_hash)
