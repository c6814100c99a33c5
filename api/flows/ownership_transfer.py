"""Ownership transfers as the API and the link page see them: public state read from the database,
how a link's token reaches its flow run, the link's decision (docs/flows/ownership-transfer.md)."""

from __future__ import annotations

from datetime import UTC
from datetime import datetime
from typing import Any

from pydantic import AliasChoices
from pydantic import BaseModel
from pydantic import Field
from sqlalchemy.ext.asyncio import AsyncSession
from temporalio.client import Client
from temporalio.client import WorkflowHandle
from temporalio.client import WorkflowUpdateFailedError
from temporalio.service import RPCError
from temporalio.service import RPCStatusCode

from api.errors import ApiError
from api.errors import refusal
from api.links import link_target
from models.contracts.ownership_transfer import CLOSED
from models.contracts.ownership_transfer import FLOW_ID_PREFIX
from models.contracts.ownership_transfer import DecisionInput
from models.contracts.ownership_transfer import TransferState
from models.contracts.ownership_transfer import TransferStatus
from models.contracts.ownership_transfer import transfer_status_now
from models.errors import TransferError
from models.records.domain import OwnershipTransfer
from workflows.ownership_transfer import OwnershipTransferWorkflow

Error = TransferError


TransferHandle = WorkflowHandle[OwnershipTransferWorkflow, TransferState]


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
    client: Client, session: AsyncSession, token: str, decision: Any
) -> TransferPublic:
    """The link's action, accept or decline (used by the API and by the page it opens)."""
    target = await link_target(session, token, FLOW_ID_PREFIX)
    if target is None:
        raise ApiError(Error.TOKEN_INVALID)
    handle: TransferHandle = client.get_workflow_handle_for(
        OwnershipTransferWorkflow.run, target.flow_id, run_id=target.run_id
    )
    try:
        state = await handle.execute_update(decision, DecisionInput(target.token_hash))
    except WorkflowUpdateFailedError as err:
        raise refusal(err) from None
    except RPCError as err:
        if err.status != RPCStatusCode.NOT_FOUND:
            raise
        row = await transfer_row(session, target.flow_id.removeprefix(FLOW_ID_PREFIX))
        if row is None:
            raise ApiError(Error.TOKEN_INVALID) from None
        raise ApiError(CLOSED[status_now(row)]) from None
    return TransferPublic.of_state(state)
