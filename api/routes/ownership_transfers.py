"""Ownership transfer: the primary account offers the Business to one of its active local accounts;
the target accepts or declines with the emailed link within 24 h; the primary can cancel. One
pending transfer per Business.

See docs/flows/ownership-transfer.md.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Path, status
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from temporalio.client import Client, WorkflowUpdateFailedError
from temporalio.service import RPCError, RPCStatusCode

from activities.ownership_transfer import transfer_problem
from api.deps import (
    ActingPrimary,
    ApiKey,
    KnownBusiness,
    SessionDep,
    SettingsDep,
    TemporalDep,
)
from api.errors import ApiError, ErrorCode, responses
from api.fields import KEY_PATTERN, UUID_PATTERN, BusinessId
from api.flows import refusal
from api.links import link_target
from api.mail_limit import require_mail_allowance
from core.tokens import random_key
from models.domain import Account, OwnershipTransfer
from models.ownership_transfer import (
    FLOW_ID_PREFIX,
    DecisionInput,
    StartTransferInput,
    TransferError,
    TransferState,
    TransferStatus,
    flow_id_of,
)
from workflows.ownership_transfer import OwnershipTransferWorkflow, start

router = APIRouter(prefix="/v1", tags=["ownership transfer"])

FLOW_ERRORS: dict[str, tuple[int, ErrorCode]] = {
    TransferError.PENDING_EXISTS: (409, ErrorCode.OWNERSHIP_TRANSFER_PENDING),
    TransferError.TARGET_NOT_FOUND: (404, ErrorCode.TRANSFER_TARGET_NOT_FOUND),
    TransferError.TARGET_NOT_ELIGIBLE: (409, ErrorCode.TRANSFER_TARGET_NOT_ELIGIBLE),
    TransferError.NOT_PRIMARY: (403, ErrorCode.NOT_PRIMARY_ACCOUNT),
    TransferError.TOKEN_INVALID: (400, ErrorCode.TRANSFER_TOKEN_INVALID),
    TransferError.COMPLETED: (409, ErrorCode.OWNERSHIP_TRANSFER_COMPLETED),
    TransferError.DECLINED: (409, ErrorCode.OWNERSHIP_TRANSFER_DECLINED),
    TransferError.CANCELLED: (410, ErrorCode.OWNERSHIP_TRANSFER_CANCELLED),
    TransferError.EXPIRED: (410, ErrorCode.OWNERSHIP_TRANSFER_EXPIRED),
    TransferError.FAILED: (409, ErrorCode.OWNERSHIP_TRANSFER_FAILED),
    TransferError.NOT_RECORDED: (503, ErrorCode.OWNERSHIP_TRANSFER_NOT_RECORDED),
}
# Why a transfer whose flow has ended refuses an action, by how it ended.
CLOSED_ERRORS = {
    TransferStatus.ACCEPTED: TransferError.COMPLETED,
    TransferStatus.DECLINED: TransferError.DECLINED,
    TransferStatus.CANCELLED: TransferError.CANCELLED,
    TransferStatus.EXPIRED: TransferError.EXPIRED,
    TransferStatus.FAILED: TransferError.FAILED,
}
INVALID_LINK = "the transfer link is not valid"
TransferId = Annotated[str, Path(pattern=KEY_PATTERN, description="The transfer's id")]


class TransferCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    target_account_id: str = Field(
        pattern=UUID_PATTERN, description="An active local account of the same Business"
    )


class TransferPublic(BaseModel):
    id: str
    business_id: str
    from_account_id: str
    to_account_id: str
    status: TransferStatus
    created_at: datetime
    expires_at: datetime
    decided_at: datetime | None = None

    @classmethod
    def of_state(cls, state: TransferState) -> TransferPublic:
        return cls(
            id=state.transfer_id,
            business_id=state.business_id,
            from_account_id=state.from_account_id,
            to_account_id=state.to_account_id,
            status=state.status,
            created_at=state.created_at,
            expires_at=state.expires_at,
            decided_at=state.decided_at,
        )

    @classmethod
    def of_row(cls, row: OwnershipTransfer) -> TransferPublic:
        return cls(
            id=row.id,
            business_id=row.business_id,
            from_account_id=row.from_account_id,
            to_account_id=row.to_account_id,
            status=status_now(row),
            created_at=row.created_at,
            expires_at=row.expires_at,
            decided_at=row.decided_at,
        )


class DecisionCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    token: str = Field(min_length=1, max_length=200)


def status_now(row: OwnershipTransfer) -> TransferStatus:
    """Correct at read time, even before the flow has recorded the expiry."""
    if row.status == TransferStatus.PENDING and row.expires_at <= datetime.now(UTC):
        return TransferStatus.EXPIRED
    if row.status == "abandoned":  # its flow was ended by an operator
        return TransferStatus.CANCELLED
    return TransferStatus(row.status)


def _closed_error(transfer: TransferStatus) -> ApiError:
    error = CLOSED_ERRORS.get(transfer, TransferError.FAILED)
    http_status, code = FLOW_ERRORS[error]
    return ApiError(http_status, code, f"the transfer is {transfer.value}")


async def _row(session: AsyncSession, transfer_id: str) -> OwnershipTransfer | None:
    return await session.get(OwnershipTransfer, transfer_id)


async def transfer_status(session: AsyncSession, token: str) -> TransferStatus | None:
    """The status of the transfer a link belongs to (None: not a link of ours); reads only."""
    target = await link_target(session, token, FLOW_ID_PREFIX)
    if target is None:
        return None
    row = await _row(session, target.flow_id.removeprefix(FLOW_ID_PREFIX))
    return None if row is None else status_now(row)


async def decide_with_token(
    client: Client, session: AsyncSession, token: str, decision: Any
) -> TransferPublic:
    """The link's action, accept or decline (used by the API and by the page it opens)."""
    target = await link_target(session, token, FLOW_ID_PREFIX)
    if target is None:
        raise ApiError(400, ErrorCode.TRANSFER_TOKEN_INVALID, INVALID_LINK)
    handle = client.get_workflow_handle_for(
        OwnershipTransferWorkflow.run, target.flow_id, run_id=target.run_id
    )
    try:
        state = await handle.execute_update(decision, DecisionInput(target.token_hash))
    except WorkflowUpdateFailedError as err:
        raise refusal(err, FLOW_ERRORS) from None
    except RPCError as err:
        if err.status != RPCStatusCode.NOT_FOUND:
            raise
        row = await _row(session, target.flow_id.removeprefix(FLOW_ID_PREFIX))
        if row is None:
            raise ApiError(400, ErrorCode.TRANSFER_TOKEN_INVALID, INVALID_LINK) from None
        raise _closed_error(status_now(row)) from None
    return TransferPublic.of_state(state)


@router.post(
    "/businesses/{business_id}/ownership-transfers",
    status_code=status.HTTP_202_ACCEPTED,
    dependencies=[ApiKey],
    responses=responses(401, 403, 404, 409, 422, 429, 503),
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
        http_status, code = FLOW_ERRORS[problem.type or ""]
        raise ApiError(http_status, code, problem.message)
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
    try:
        state = await start(client, input, task_queue=settings.temporal_task_queue)
    except WorkflowUpdateFailedError as err:
        raise refusal(err, FLOW_ERRORS) from None
    return TransferPublic.of_state(state)


@router.get(
    "/businesses/{business_id}/ownership-transfers",
    dependencies=[ApiKey, KnownBusiness],
    responses=responses(401, 404),
)
async def list_ownership_transfers(
    business_id: BusinessId, session: SessionDep
) -> list[TransferPublic]:
    """The Business's transfers, newest first."""
    rows = await session.scalars(
        select(OwnershipTransfer)
        .where(OwnershipTransfer.business_id == business_id)
        .order_by(OwnershipTransfer.created_at.desc(), OwnershipTransfer.id)
    )
    return [TransferPublic.of_row(row) for row in rows]


@router.get(
    "/businesses/{business_id}/ownership-transfers/{transfer_id}",
    dependencies=[ApiKey],
    responses=responses(401, 404),
)
async def get_ownership_transfer(
    business_id: BusinessId, transfer_id: TransferId, session: SessionDep
) -> TransferPublic:
    row = await _row(session, transfer_id)
    if row is None or row.business_id != business_id:
        raise ApiError(404, ErrorCode.OWNERSHIP_TRANSFER_NOT_FOUND, "no such ownership transfer")
    return TransferPublic.of_row(row)


@router.delete(
    "/businesses/{business_id}/ownership-transfers/{transfer_id}",
    dependencies=[ApiKey],
    responses=responses(401, 403, 404, 409, 410),
)
async def cancel_ownership_transfer(
    business_id: BusinessId,
    transfer_id: TransferId,
    acting: ActingPrimary,
    session: SessionDep,
    client: TemporalDep,
) -> TransferPublic:
    """The primary withdraws a pending offer (its link stops working)."""
    row = await _row(session, transfer_id)
    if row is None or row.business_id != business_id:
        raise ApiError(404, ErrorCode.OWNERSHIP_TRANSFER_NOT_FOUND, "no such ownership transfer")
    handle = client.get_workflow_handle_for(OwnershipTransferWorkflow.run, flow_id_of(transfer_id))
    try:
        state = await handle.execute_update(OwnershipTransferWorkflow.cancel)
    except WorkflowUpdateFailedError as err:
        raise refusal(err, FLOW_ERRORS) from None
    except RPCError as err:
        if err.status != RPCStatusCode.NOT_FOUND:
            raise
        raise _closed_error(status_now(row)) from None
    return TransferPublic.of_state(state)


@router.post("/ownership-transfers/accept", responses=responses(400, 404, 409, 410, 422, 503))
async def accept_ownership(
    body: DecisionCreate, session: SessionDep, client: TemporalDep
) -> TransferPublic:
    """The target becomes the primary account; the old primary keeps access as a local
    account on the target's instance. Both are emailed."""
    return await decide_with_token(client, session, body.token, OwnershipTransferWorkflow.accept)


@router.post("/ownership-transfers/decline", responses=responses(400, 409, 410, 422, 503))
async def decline_ownership(
    body: DecisionCreate, session: SessionDep, client: TemporalDep
) -> TransferPublic:
    return await decide_with_token(client, session, body.token, OwnershipTransferWorkflow.decline)
