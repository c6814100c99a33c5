"""Primary change by support: support staff (an operator key) change a Business's primary account
for a ticket; the new address is proven, then the current primary may object by link for 72 h;
support can cancel until then. One pending change per Business, excluding a pending ownership
transfer.

See docs/flows/primary-change.md.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter
from fastapi import Depends
from fastapi import Path
from fastapi import status
from pydantic import EmailStr
from pydantic import Field
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from api.deps import OperatorKey
from api.deps import SessionDep
from api.deps import SettingsDep
from api.deps import TemporalDep
from api.deps import require_business
from api.errors import BAD_BODY
from api.errors import ApiError
from api.errors import responses
from api.fields import UUID_PATTERN
from api.fields import Body
from api.fields import Locale
from api.fields import OneLine
from api.flow_clients import act
from api.flow_clients import newest_first
from api.flow_clients import public
from api.flow_clients.primary_change import ChangeEvent
from api.flow_clients.primary_change import ChangePublic
from api.flow_clients.primary_change import Error
from api.flow_clients.primary_change import flow_handle
from api.flow_clients.primary_change import object_with_token
from api.flow_clients.primary_change import start_change
from models.contracts.primary_change import CANCEL
from models.contracts.primary_change import CLOSED
from models.contracts.primary_change import ChangeStatus
from models.contracts.primary_change import OldPrimary
from models.errors import ApiProblem
from models.records.domain import Business
from models.records.domain import PrimaryChange
from models.records.domain import PrimaryChangeEvent

router = APIRouter(prefix="/v1", tags=["primary change (support)"])

NEEDS_OPERATOR = (ApiProblem.INVALID_OPERATOR_KEY, ApiProblem.BUSINESS_NOT_FOUND)
ChangeId = Annotated[str, Path(pattern=UUID_PATTERN, description="The change's id")]
KnownBusinessRow = Annotated[Business, Depends(require_business)]


class ChangeCreate(Body):
    new_email: EmailStr = Field(max_length=254, description="Becomes the primary account")
    ticket: OneLine = Field(min_length=1, max_length=100, description="The support ticket")
    requested_by: OneLine = Field(
        min_length=1, max_length=100, description="Who in support asks (kept in the audit)"
    )
    old_primary: OldPrimary = Field(
        OldPrimary.LOCAL,
        description="The old primary becomes a local account (on the first instance) or is "
        "disabled",
    )
    locale: Locale = "en"


class ObjectionCreate(Body):
    token: str = Field(min_length=1, max_length=200)


async def _public(session: AsyncSession, row: PrimaryChange) -> ChangePublic:
    events = await session.execute(
        select(PrimaryChangeEvent.step, PrimaryChangeEvent.at)
        .where(PrimaryChangeEvent.change_id == row.id)
        .order_by(PrimaryChangeEvent.at, PrimaryChangeEvent.id)
    )
    change = public(ChangePublic, row)
    change.events = [ChangeEvent(step=step, at=at) for step, at in events]
    return change


@router.post(
    "/businesses/{business_id}/primary-changes",
    status_code=status.HTTP_202_ACCEPTED,
    dependencies=[OperatorKey],
    responses=responses(
        *NEEDS_OPERATOR,
        *BAD_BODY,
        Error.PENDING_EXISTS,
        Error.TRANSFER_PENDING,
        Error.ADDRESS_TAKEN,
        Error.NO_INSTANCE,
        Error.NOT_RECORDED,
    ),
)
async def start_primary_change(
    business: KnownBusinessRow, body: ChangeCreate, settings: SettingsDep, client: TemporalDep
) -> ChangePublic:
    """Start the change: the new address gets a verification mail; once it is confirmed, the
    current primary is emailed and may stop the change until `objection_ends_at`."""
    return await start_change(
        client,
        settings,
        business,
        new_email=str(body.new_email),
        ticket=body.ticket,
        requested_by=body.requested_by,
        old_primary=body.old_primary,
        locale=body.locale,
    )


@router.get(
    "/businesses/{business_id}/primary-changes",
    dependencies=[OperatorKey],
    responses=responses(*NEEDS_OPERATOR),
)
async def list_primary_changes(
    business: KnownBusinessRow, session: SessionDep
) -> list[ChangePublic]:
    """The Business's changes, newest first, each with its audit trail."""
    rows = await newest_first(session, PrimaryChange, business.id)
    return [await _public(session, row) for row in rows]


@router.get(
    "/businesses/{business_id}/primary-changes/{change_id}",
    dependencies=[OperatorKey],
    responses=responses(*NEEDS_OPERATOR, Error.NOT_FOUND),
)
async def get_primary_change(
    business: KnownBusinessRow, change_id: ChangeId, session: SessionDep
) -> ChangePublic:
    row = await session.get(PrimaryChange, change_id)
    if row is None or row.business_id != business.id:
        raise ApiError(Error.NOT_FOUND)
    return await _public(session, row)


@router.delete(
    "/businesses/{business_id}/primary-changes/{change_id}",
    dependencies=[OperatorKey],
    responses=responses(*NEEDS_OPERATOR, Error.NOT_FOUND, *set(CLOSED.values())),
)
async def cancel_primary_change(
    business: KnownBusinessRow, change_id: ChangeId, session: SessionDep, client: TemporalDep
) -> ChangePublic:
    """Support withdraws the change (its links stop working); nothing changes."""
    row = await session.get(PrimaryChange, change_id)
    if row is None or row.business_id != business.id:
        raise ApiError(Error.NOT_FOUND)

    async def as_recorded() -> str:  # a flow whose history is gone: its row says how it ended
        return row.status if row.status in CLOSED else ChangeStatus.FAILED

    state = await act(
        flow_handle(client, change_id),
        CANCEL,
        closed=CLOSED,
        not_found=Error.NOT_FOUND,
        status_if_gone=as_recorded,
    )
    return public(ChangePublic, state)


@router.post(
    "/primary-changes/object",
    responses=responses(*BAD_BODY, Error.TOKEN_INVALID, *set(CLOSED.values())),
)
async def object_to_primary_change(
    body: ObjectionCreate, session: SessionDep, client: TemporalDep
) -> ChangePublic:
    """The current primary stops the change with the emailed link (no key: the token is the
    credential). Nothing changes; support is told by the change's status."""
    return await object_with_token(client, session, body.token)
