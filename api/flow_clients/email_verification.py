"""Email verification as the API and the link page see it: its public state, how a link's token
reaches its flow run, and the link's actions (docs/flows/email-verification.md)."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from pydantic import BaseModel
from sqlalchemy.ext.asyncio import AsyncSession
from temporalio.client import Client
from temporalio.client import WorkflowUpdateFailedError
from temporalio.service import RPCError
from temporalio.service import RPCStatusCode

from api.errors import ApiError
from api.errors import refusal
from api.flow_clients import Handle
from api.flow_clients import act
from api.flow_clients import ask
from api.flow_clients import closed_error
from api.flow_clients import public
from api.flow_clients import read_state
from api.links import link_target
from models.contracts.email_verification import CHECK_TOKEN
from models.contracts.email_verification import CLOSED
from models.contracts.email_verification import CONFIRM
from models.contracts.email_verification import FLOW_ID_PREFIX
from models.contracts.email_verification import ConfirmInput
from models.contracts.email_verification import TokenCheck
from models.contracts.email_verification import VerificationState
from models.contracts.email_verification import VerificationStatus
from models.contracts.flow import Update
from models.errors import VerificationError

FLOW_ID_PATTERN = re.compile(rf"^{FLOW_ID_PREFIX}[a-z2-7]{{24}}$")


class VerificationPublic(BaseModel):
    """An email verification as the API answers it."""

    id: str
    status: VerificationStatus
    email: str
    purpose: str
    expires_at: datetime
    resend_available_at: datetime | None
    resends_left: int
    attempts_left: int
    locale: str

    @classmethod
    def of(cls, state: VerificationState) -> VerificationPublic:
        return cls.model_validate(state, from_attributes=True)


Error = VerificationError


def flow_handle(client: Client, flow_id: str) -> Handle:
    if not FLOW_ID_PATTERN.match(flow_id):
        raise ApiError(Error.NOT_FOUND)
    return client.get_workflow_handle(flow_id)


async def final_state(handle: Handle) -> VerificationState:
    """The state the flow published in its memo: read from the server, running or finished."""
    return public(VerificationState, await read_state(handle, Error.NOT_FOUND))


async def update_flow(
    handle: Handle, update: Update[Any, VerificationState], *args: Any
) -> VerificationState:
    return await act(handle, update, *args, closed=CLOSED, not_found=Error.NOT_FOUND)


async def handle_for_token(client: Client, session: AsyncSession, token: str) -> tuple[Handle, str]:
    """The flow run the link was mailed for (never another run of the same flow)."""
    target = await link_target(session, token, FLOW_ID_PREFIX)
    if target is None:
        raise ApiError(Error.TOKEN_INVALID)
    return client.get_workflow_handle(target.flow_id, run_id=target.run_id), target.token_hash


async def inspect_token(
    client: Client, session: AsyncSession, token: str
) -> tuple[TokenCheck, VerificationState]:
    """What a token means now, without consuming it or counting an attempt."""
    handle, token_hash = await handle_for_token(client, session, token)
    try:
        check = await ask(handle, CHECK_TOKEN, ConfirmInput(token_hash))
    except RPCError as err:
        if err.status == RPCStatusCode.NOT_FOUND:
            raise ApiError(Error.TOKEN_INVALID) from None
        raise
    return check, await final_state(handle)


async def confirm_token(client: Client, session: AsyncSession, token: str) -> VerificationState:
    handle, token_hash = await handle_for_token(client, session, token)
    try:
        confirmed: VerificationState = await handle.execute_update(
            CONFIRM.name, ConfirmInput(token_hash), result_type=CONFIRM.answer
        )
        return confirmed
    except WorkflowUpdateFailedError as err:
        answer = refusal(err)
        if answer.code in (Error.TOKEN_INVALID, Error.LOCKED, Error.LINK_NOT_READY):
            raise answer from None
    except RPCError as err:
        if err.status != RPCStatusCode.NOT_FOUND:
            raise
    # Not pending any more: a repeat of the confirming click succeeds again, the rest is refused.
    check, state = await inspect_token(client, session, token)
    if check == TokenCheck.USED:
        return state
    if state.status in (VerificationStatus.EXPIRED, VerificationStatus.LOCKED):
        raise closed_error({"status": state.status}, CLOSED)
    raise ApiError(Error.TOKEN_INVALID)
