"""Local-account invitations as the API and the link page see them: public state, how a link's
token reaches its flow run, the link's action (docs/flows/local-accounts.md)."""

from __future__ import annotations

from datetime import UTC
from datetime import datetime

from pydantic import BaseModel
from sqlalchemy.ext.asyncio import AsyncSession
from temporalio.client import Client

from api.errors import ApiError
from api.flow_clients import Handle
from api.flow_clients import act
from api.flow_clients import public
from api.flow_clients import published_state
from api.links import link_target
from core.tokens import domain_key
from core.tokens import hash_token
from models.contracts.local_accounts import ACTIVATE
from models.contracts.local_accounts import CLOSED
from models.contracts.local_accounts import FLOW_ID_PREFIX
from models.contracts.local_accounts import ActivateInput
from models.contracts.local_accounts import InvitationState
from models.contracts.local_accounts import InvitationStatus
from models.contracts.local_accounts import account_status_now
from models.contracts.local_accounts import flow_id_of
from models.contracts.local_accounts import flow_key_parts
from models.errors import LocalAccountError
from models.records.domain import Account

Error = LocalAccountError


class InvitationPublic(BaseModel):
    """An invitation (a local account activated by link) as the API answers it."""

    account_id: str
    business_id: str
    instance_id: str
    email: str
    display_name: str | None
    status: InvitationStatus
    invited_at: datetime
    expires_at: datetime
    activated_at: datetime | None = None
    problem: str | None = None

    @classmethod
    def of(cls, state: InvitationState) -> InvitationPublic:
        return cls.model_validate(state, from_attributes=True)


def status_now(account: Account) -> str:
    return account_status_now(account.status, account.invitation_expires_at, datetime.now(UTC))


def invitation_flow_id(secret_key: str, business_id: str, instance_id: str, email: str) -> str:
    return flow_id_of(domain_key(secret_key, *flow_key_parts(business_id, instance_id, email)))


async def _link_handle(client: Client, session: AsyncSession, token: str) -> Handle | None:
    """The flow run a link was mailed for, or None (not a genuine link of ours)."""
    target = await link_target(session, token, FLOW_ID_PREFIX)
    if target is None:
        return None
    return client.get_workflow_handle(target.flow_id, run_id=target.run_id)


async def invitation_state(
    client: Client, session: AsyncSession, token: str
) -> InvitationState | None:
    """The invitation a link belongs to, as it stands (None: not a link of ours); reads only."""
    handle = await _link_handle(client, session, token)
    published = await published_state(handle) if handle else None
    return None if published is None else public(InvitationState, published)


async def activate_with_token(client: Client, session: AsyncSession, token: str) -> InvitationState:
    """The link's action (used by the API and by the page the link opens)."""
    handle = await _link_handle(client, session, token)
    if handle is None:
        raise ApiError(Error.TOKEN_INVALID)
    return await act(
        handle,
        ACTIVATE,
        ActivateInput(hash_token(token)),
        closed=CLOSED,
        not_found=Error.TOKEN_INVALID,
    )
