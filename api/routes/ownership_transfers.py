"""Ownership transfer: the primary account offers the Business to one of its active local accounts;
the target accepts or declines with the emailed link within 24 h; the primary can cancel. One
pending transfer per Business.

See docs/flows/ownership-transfer.md.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter
from fastapi import Path
from fastapi import status
from pydantic import Field

from api.deps import ActingPrimary
from api.deps import ApiKey
from api.deps import KnownBusiness
from api.deps import SessionDep
from api.deps import SettingsDep
from api.deps import TemporalDep
from api.deps import keyed
from api.deps import owned
from api.errors import BAD_BODY
from api.errors import BUSINESS_ERRORS
from api.errors import MAILS
from api.errors import NEEDS_KEY
from api.errors import OWNER_ERRORS
from api.errors import ApiError
from api.errors import responses
from api.fields import KEY_PATTERN
from api.fields import UUID_PATTERN
from api.fields import Body
from api.fields import BusinessId
from api.flow_clients import act
from api.flow_clients import newest_first
from api.flow_clients import start
from api.flow_clients.ownership_transfer import Error
from api.flow_clients.ownership_transfer import TransferPublic
from api.flow_clients.ownership_transfer import decide_with_token
from api.flow_clients.ownership_transfer import status_as_recorded
from api.flow_clients.ownership_transfer import transfer_row
from api.mail_limit import require_mail_allowance
from core.tokens import random_key
from models.contracts.ownership_transfer import ACCEPT
from models.contracts.ownership_transfer import CANCEL
from models.contracts.ownership_transfer import CLOSED
from models.contracts.ownership_transfer import DECLINE
from models.contracts.ownership_transfer import START
from models.contracts.ownership_transfer import StartTransferInput
from models.contracts.ownership_transfer import flow_id_of
from models.errors import ApiProblem
from models.records.domain import Account
from models.records.domain import OwnershipTransfer
from models.records.ownership_rules import transfer_problem

router = APIRouter(prefix="/v1", tags=["ownership transfer"])

LINK_ERRORS = (*BAD_BODY, Error.TOKEN_INVALID, *set(CLOSED.values()))
TransferId = Annotated[str, Path(pattern=KEY_PATTERN, description="The transfer's id")]


class TransferCreate(Body):
    target_account_id: str = Field(
        pattern=UUID_PATTERN, description="An active local account of the same Business"
    )


class DecisionCreate(Body):
    token: str = Field(min_length=1, max_length=200)


@router.post(
    "/businesses/{business_id}/ownership-transfers",
    status_code=status.HTTP_202_ACCEPTED,
    **keyed(
        *OWNER_ERRORS,
        *MAILS,
        Error.PENDING_EXISTS,
        Error.PRIMARY_CHANGE_PENDING,
        Error.TARGET_NOT_FOUND,
        Error.TARGET_NOT_ELIGIBLE,
        Error.NOT_RECORDED,
    ),
)
async def offer_ownership(
    business_id: BusinessId,
    body: TransferCreate,
    acting: ActingPrimary,
    session: SessionDep,
    settings: SettingsDep,
    client: TemporalDep,
) -> TransferPublic:
    """Offer the ownership to an active local account; it is emailed a link to accept or
    decline within 24 h. A Business has one pending transfer at most."""
    # Checked here for a quick answer, and again by the flow (under a lock) when it records.
    problem = await transfer_problem(session, business_id, acting, body.target_account_id)
    if problem is not None:
        raise ApiError(problem.error, problem.message)
    target = await session.get(Account, body.target_account_id)
    if target is not None:
        await require_mail_allowance(session, settings, target.email)
    input = StartTransferInput(
        transfer_id=random_key(),
        business_id=business_id,
        from_account_id=acting,
        to_account_id=body.target_account_id,
        expires_in_seconds=settings.ownership_transfer_expiry_seconds,
    )
    state = await start(START, client, settings, input)
    return TransferPublic.of_state(state)


@router.get(
    "/businesses/{business_id}/ownership-transfers",
    dependencies=[ApiKey, KnownBusiness],
    responses=responses(*BUSINESS_ERRORS),
)
async def list_ownership_transfers(
    business_id: BusinessId, session: SessionDep
) -> list[TransferPublic]:
    """The Business's transfers, newest first."""
    rows = await newest_first(session, OwnershipTransfer, business_id)
    return [TransferPublic.of_row(row) for row in rows]


@router.get("/businesses/{business_id}/ownership-transfers/{transfer_id}", **keyed(Error.NOT_FOUND))
async def get_ownership_transfer(
    business_id: BusinessId, transfer_id: TransferId, session: SessionDep
) -> TransferPublic:
    row = owned(await transfer_row(session, transfer_id), business_id, Error.NOT_FOUND)
    return TransferPublic.of_row(row)


@router.delete(
    "/businesses/{business_id}/ownership-transfers/{transfer_id}",
    dependencies=[ApiKey],
    responses=responses(
        *NEEDS_KEY, ApiProblem.NOT_PRIMARY_ACCOUNT, Error.NOT_FOUND, *set(CLOSED.values())
    ),
)
async def cancel_ownership_transfer(
    business_id: BusinessId,
    transfer_id: TransferId,
    acting: ActingPrimary,
    session: SessionDep,
    client: TemporalDep,
) -> TransferPublic:
    """The primary withdraws a pending offer (its link stops working)."""
    row = owned(await transfer_row(session, transfer_id), business_id, Error.NOT_FOUND)
    state = await act(
        client.get_workflow_handle(flow_id_of(transfer_id)),
        CANCEL,
        closed=CLOSED,
        not_found=Error.NOT_FOUND,
        status_if_gone=lambda: status_as_recorded(row),
    )
    return TransferPublic.of_state(state)


@router.post("/ownership-transfers/accept", responses=responses(*LINK_ERRORS))
async def accept_ownership(
    body: DecisionCreate, session: SessionDep, client: TemporalDep
) -> TransferPublic:
    """The target becomes the primary account; the old primary keeps access as a local
    account on the target's instance. Both are emailed."""
    return await decide_with_token(client, session, body.token, ACCEPT)


@router.post("/ownership-transfers/decline", responses=responses(*LINK_ERRORS))
async def decline_ownership(
    body: DecisionCreate, session: SessionDep, client: TemporalDep
) -> TransferPublic:
    return await decide_with_token(client, session, body.token, DECLINE)
