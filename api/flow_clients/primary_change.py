"""A primary change as the API and the objection page see it (docs/flows/primary-change.md):
its public state, how it starts, how the objection link reaches its flow run."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from dataclasses import field
from datetime import datetime
from typing import Annotated

from pydantic import Field
from sqlalchemy.ext.asyncio import AsyncSession
from temporalio.client import Client

from api.errors import ApiError
from api.flow_clients import Handle
from api.flow_clients import act
from api.flow_clients import public
from api.flow_clients import start
from api.links import link_target
from core.settings import Settings
from core.text import email_key
from core.tokens import domain_key
from models.contracts import email_verification as verification
from models.contracts.primary_change import CLOSED
from models.contracts.primary_change import FLOW_ID_PREFIX
from models.contracts.primary_change import OBJECT
from models.contracts.primary_change import START
from models.contracts.primary_change import VERIFICATION_PURPOSE
from models.contracts.primary_change import ChangeState
from models.contracts.primary_change import ObjectInput
from models.contracts.primary_change import OldPrimary
from models.contracts.primary_change import StartChangeInput
from models.contracts.primary_change import flow_id_of
from models.errors import ChangeError
from models.records.domain import Business
from models.records.domain import PrimaryChange

Error = ChangeError


@dataclass
class ChangeEvent:
    step: str  # requested, verified, owner_told, completed, objected, cancelled, failed
    at: datetime


@dataclass
class ChangePublic(ChangeState):
    """The change as its flow publishes it, and its audit trail."""

    events: Annotated[
        list[ChangeEvent], Field(description="The audit trail: each step and when")
    ] = field(default_factory=list)


def flow_handle(client: Client, change_id: str) -> Handle:
    return client.get_workflow_handle(flow_id_of(change_id))


async def start_change(
    client: Client,
    settings: Settings,
    business: Business,
    *,
    new_email: str,
    ticket: str,
    requested_by: str,
    old_primary: OldPrimary,
    locale: str,
) -> ChangePublic:
    change_id = str(uuid.uuid4())
    key = domain_key(
        settings.secret_key,
        "email-verification",
        VERIFICATION_PURPOSE,
        change_id,
        email_key(new_email),
    )
    proof = verification.StartVerificationInput(
        email=new_email,
        purpose=VERIFICATION_PURPOSE,
        locale=locale,
        expiry_seconds=settings.verification_expiry_for(VERIFICATION_PURPOSE),
        resend_cooldown_seconds=settings.verification_resend_cooldown_seconds,
        max_resends=settings.verification_max_resends,
        max_attempts=settings.verification_max_attempts,
        business_id=business.id,
        about=business.name,  # the mail says what for, by its purpose
    )
    input = StartChangeInput(
        change_id=change_id,
        business_id=business.id,
        new_email=new_email,
        ticket=ticket,
        requested_by=requested_by,
        old_primary=old_primary,
        locale=locale,
        objection_seconds=settings.primary_change_objection_seconds,
        verification=proof,
        verification_flow_id=verification.FLOW_ID_PREFIX + key,
    )
    state = await start(START, client, settings, input)
    return public(ChangePublic, state)


async def object_with_token(client: Client, session: AsyncSession, token: str) -> ChangePublic:
    """The objection link's action (used by the API and by the page the link opens)."""
    target = await link_target(session, token, FLOW_ID_PREFIX)
    if target is None:
        raise ApiError(Error.TOKEN_INVALID)
    handle = client.get_workflow_handle(target.flow_id, run_id=target.run_id)
    objection = ObjectInput(target.token_hash)
    state = await act(handle, OBJECT, objection, closed=CLOSED, not_found=Error.TOKEN_INVALID)
    return public(ChangePublic, state)


async def change_of_link(session: AsyncSession, token: str) -> PrimaryChange | None:
    """The change an objection link belongs to (None: not a link of ours); reads only."""
    target = await link_target(session, token, FLOW_ID_PREFIX)
    if target is None:
        return None
    return await session.get(PrimaryChange, target.flow_id.removeprefix(FLOW_ID_PREFIX))
