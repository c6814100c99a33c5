"""Ownership transfers as the API and the link page see them: public state read from the database,
how a link's token reaches its flow run, the link's decision (docs/flows/ownership-transfer.md)."""

from __future__ import annotations

from datetime import UTC
from datetime import datetime

from pydantic import AliasChoices
from pydantic import BaseModel
from pydantic import Field
from sqlalchemy.ext.asyncio import AsyncSession
from temporalio.client import Client

from api.errors import ApiError
from api.flow_clients import act
from api.links import link_target
from models.contracts.flow import Update
from models.contracts.ownership_transfer import CLOSED
from models.contracts.ownership_transfer import FLOW_ID_PREFIX
from models.contracts.ownership_transfer import DecisionInput
from models.contracts.ownership_transfer import TransferState
from models.contracts.ownership_transfer import TransferStatus
from models.contracts.ownership_transfer import transfer_status_now
from models.errors import TransferError
from models.records.domain import OwnershipTransfer

Error = TransferError


class TransferPublic(BaseModel):
    # Read from the flow's state (`transfer_id`) or from the database row (`id`).
    id: str = Field(validation_alias=AliasChoices("transfer_id", "id"))
    business_id: str
    from_account_id: str
    to_account_id: str
    status: TransferStatus
    created_at: datetime
    expires_at: datetime
    decided_at: datetime | None = None

    @classmethod
    def of_state(cls, state: TransferState) -> TransferPublic:
        return cls.model_validate(state, from_attributes=True)

    @classmethod
    def of_row(cls, row: OwnershipTransfer) -> TransferPublic:
        """The row, with the status it has now (an offer past its expiry has expired)."""
        return cls.model_validate(row, from_attributes=True).model_copy(
            update={"status": status_now(row)}
        )


def status_now(row: OwnershipTransfer) -> TransferStatus:
    return transfer_status_now(row.status, row.expires_at, datetime.now(UTC))


async def status_as_recorded(row: OwnershipTransfer) -> str:
    """How a transfer whose flow is gone ended, by its row (an operator ended a pending one:
    the next offer sets it aside, so it reads cancelled)."""
    status = status_now(row)
    return TransferStatus.CANCELLED if status == TransferStatus.PENDING else status


async def transfer_row(session: AsyncSession, transfer_id: str) -> OwnershipTransfer | None:
    return await session.get(OwnershipTransfer, transfer_id)


async def transfer_of_link(
    session: AsyncSession, token: str
) -> tuple[OwnershipTransfer, TransferStatus] | None:
    """The transfer a link belongs to and its status now (None: not a link of ours)."""
    target = await link_target(session, token, FLOW_ID_PREFIX)
    if target is None:
        return None
    row = await transfer_row(session, target.flow_id.removeprefix(FLOW_ID_PREFIX))
    return None if row is None else (row, status_now(row))


async def decide_with_token(
    client: Client,
    session: AsyncSession,
    token: str,
    decision: Update[DecisionInput, TransferState],
) -> TransferPublic:
    """The link's action, accept or decline (used by the API and by the page it opens)."""
    target = await link_target(session, token, FLOW_ID_PREFIX)
    row = (
        await transfer_row(session, target.flow_id.removeprefix(FLOW_ID_PREFIX)) if target else None
    )
    if target is None or row is None:
        raise ApiError(Error.TOKEN_INVALID)
    state = await act(
        client.get_workflow_handle(target.flow_id, run_id=target.run_id),
        decision,
        DecisionInput(target.token_hash),
        closed=CLOSED,
        not_found=Error.TOKEN_INVALID,
        status_if_gone=lambda: status_as_recorded(row),
    )
    return TransferPublic.of_state(state)
