"""A Business's accounts: the primary invites local accounts (at most 50 per Business, pending ones
count), each user activates theirs from the emailed link; the primary edits, disables and
removes local accounts. The primary account itself is never changed here: only an ownership
transfer changes it.

See docs/flows/local-accounts.md.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated
from typing import Literal

from fastapi import APIRouter
from fastapi import Depends
from fastapi import status
from pydantic import BaseModel
from pydantic import EmailStr
from pydantic import Field
from pydantic import model_validator
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from temporalio.client import Client

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
from api.errors import OWNER_ERRORS
from api.errors import ApiError
from api.errors import responses
from api.fields import UUID_PATTERN
from api.fields import AccountId
from api.fields import Body
from api.fields import BusinessId
from api.fields import Locale
from api.fields import OneLine
from api.flow_clients import run_change
from api.flow_clients import start
from api.flow_clients import update_if_running
from api.flow_clients.local_accounts import Error
from api.flow_clients.local_accounts import InvitationPublic
from api.flow_clients.local_accounts import activate_with_token
from api.flow_clients.local_accounts import invitation_flow_id
from api.flow_clients.local_accounts import status_now
from api.mail_limit import require_mail_allowance
from core.settings import Settings
from models.contracts.direct_change import CHANGE_ACCOUNT
from models.contracts.direct_change import ChangeAccountInput
from models.contracts.local_accounts import CANCEL
from models.contracts.local_accounts import START
from models.contracts.local_accounts import StartInvitationInput
from models.records.domain import Account
from models.records.domain import ProductInstance

router = APIRouter(prefix="/v1", tags=["accounts"])

LINK_ERRORS = (*BAD_BODY, Error.TOKEN_INVALID, Error.ALREADY_ACTIVE, Error.LAPSED, Error.CANCELLED)


class LocalAccountCreate(Body):
    email: EmailStr = Field(max_length=254)
    display_name: OneLine | None = Field(None, min_length=1, max_length=200)
    instance_id: str = Field(pattern=UUID_PATTERN, description="The one instance it belongs to")
    locale: Locale = "en"


class ActivationCreate(Body):
    token: str = Field(min_length=1, max_length=200)


class AccountPublic(BaseModel):
    id: str
    email: str
    display_name: str | None
    kind: Literal["primary", "local"]
    status: Literal["pending", "active", "disabled", "lapsed", "removed"]
    instance_id: str | None
    created_at: datetime
    invitation_expires_at: datetime | None
    activated_at: datetime | None

    @classmethod
    def of(cls, account: Account) -> AccountPublic:
        return cls.model_validate(
            {
                "id": account.id,
                "email": account.email,
                "display_name": account.display_name,
                "kind": account.kind,
                "status": status_now(account),
                "instance_id": account.instance_id,
                "created_at": account.created_at,
                "invitation_expires_at": account.invitation_expires_at,
                "activated_at": account.activated_at,
            }
        )


class AccountUpdate(Body):
    display_name: OneLine | None = Field(None, min_length=1, max_length=200)
    status: Literal["active", "disabled"] | None = None

    @model_validator(mode="after")
    def _something_to_change(self) -> AccountUpdate:
        if self.display_name is None and self.status is None:
            raise ValueError("give display_name, status or both")
        return self


async def _account(
    business_id: BusinessId, account_id: AccountId, acting: ActingPrimary, session: SessionDep
) -> Account:
    """The account a change is for: the Business's own, changed by its primary account."""
    return owned(await session.get(Account, account_id), business_id, Error.ACCOUNT_NOT_FOUND)


ChangedAccount = Annotated[Account, Depends(_account)]


def _require_changeable(account: Account) -> None:
    if account.kind == "primary":
        raise ApiError(Error.PRIMARY_IMMUTABLE)
    if status_now(account) in ("lapsed", "removed"):
        raise ApiError(Error.ACCOUNT_CLOSED, f"the account is {status_now(account)}")


async def _change(
    client: Client, settings: Settings, session: AsyncSession, account: Account, **values: str
) -> AccountPublic:
    """Change a local account as it was read (through its activity: the API only reads)."""
    what = ", ".join(f"{name}={value}" for name, value in values.items() if name == "status")
    await run_change(
        client,
        settings,
        CHANGE_ACCOUNT,
        ChangeAccountInput(account.id, account.status, **values),
        business_id=account.business_id,
        summary=f"Local account {account.id[:8]} changed ({what or 'renamed'})",
    )
    await session.refresh(account)
    return AccountPublic.of(account)


@router.post(
    "/businesses/{business_id}/local-accounts",
    status_code=status.HTTP_202_ACCEPTED,
    **keyed(
        *OWNER_ERRORS,
        *MAILS,
        Error.INSTANCE_NOT_FOUND,
        Error.LIMIT_REACHED,
        Error.ACCOUNT_EXISTS,
        Error.NOT_RECORDED,
    ),
)
async def invite_local_account(
    business_id: BusinessId,
    body: LocalAccountCreate,
    acting: ActingPrimary,
    session: SessionDep,
    settings: SettingsDep,
    client: TemporalDep,
) -> InvitationPublic:
    """Add a local account to one instance: the user is emailed a link to activate it within
    7 days. Repeating the request for a pending invitation returns it."""
    owned(
        await session.get(ProductInstance, body.instance_id), business_id, Error.INSTANCE_NOT_FOUND
    )
    await require_mail_allowance(session, settings, body.email)
    input = StartInvitationInput(
        **body.model_dump(),  # the address, name, instance and locale, as asked
        account_id=str(uuid.uuid4()),
        business_id=business_id,
        invited_by=acting,
        expires_in_seconds=settings.local_account_invitation_expiry_seconds,
        reminder_before_seconds=settings.local_account_reminder_before_seconds,
    )
    flow_id = invitation_flow_id(settings.secret_key, business_id, body.instance_id, body.email)
    state = await start(START, client, settings, input, flow_id=flow_id)
    return InvitationPublic.of(state)


@router.post("/local-accounts/activate", responses=responses(*LINK_ERRORS))
async def activate_local_account(
    body: ActivationCreate, client: TemporalDep, session: SessionDep
) -> InvitationPublic:
    """The invited user activates the account (the token from the email is the credential)."""
    return InvitationPublic.of(await activate_with_token(client, session, body.token))


@router.get(
    "/businesses/{business_id}/accounts",
    dependencies=[ApiKey, KnownBusiness],
    responses=responses(*BUSINESS_ERRORS),
)
async def list_accounts(business_id: BusinessId, session: SessionDep) -> list[AccountPublic]:
    """The primary account first, then the local accounts (with their status and instance)."""
    accounts = await session.scalars(
        select(Account)
        .where(Account.business_id == business_id)
        .order_by(Account.kind.desc(), Account.created_at, Account.id)  # primary > local
    )
    return [AccountPublic.of(account) for account in accounts]


@router.patch(
    "/businesses/{business_id}/accounts/{account_id}",
    **keyed(
        *OWNER_ERRORS,
        *BAD_BODY,
        Error.ACCOUNT_NOT_FOUND,
        Error.PRIMARY_IMMUTABLE,
        Error.ACCOUNT_PENDING,
        Error.ACCOUNT_CLOSED,
    ),
)
async def update_account(
    account: ChangedAccount,
    body: AccountUpdate,
    session: SessionDep,
    settings: SettingsDep,
    client: TemporalDep,
) -> AccountPublic:
    """Rename a local account, or disable (and enable again) an active one."""
    _require_changeable(account)
    if body.status is not None and account.status == "pending":
        raise ApiError(Error.ACCOUNT_PENDING)
    values = body.model_dump(exclude_none=True)
    return await _change(client, settings, session, account, **values)


@router.delete(
    "/businesses/{business_id}/accounts/{account_id}",
    **keyed(*OWNER_ERRORS, Error.ACCOUNT_NOT_FOUND, Error.PRIMARY_IMMUTABLE, Error.ACCOUNT_CLOSED),
)
async def remove_account(
    account: ChangedAccount, session: SessionDep, settings: SettingsDep, client: TemporalDep
) -> AccountPublic:
    """Remove a local account (its place is free again); a pending invitation is withdrawn."""
    if account.kind == "primary":
        raise ApiError(Error.PRIMARY_IMMUTABLE)
    if status_now(account) in ("lapsed", "removed"):
        return AccountPublic.of(account)  # gone already: removing is idempotent
    if account.status == "pending" and account.instance_id is not None:
        flow_id = invitation_flow_id(
            settings.secret_key, account.business_id, account.instance_id, account.email
        )
        if await update_if_running(client.get_workflow_handle(flow_id), CANCEL) is None:
            # No flow any more (an operator ended it): the row is all there is to change.
            return await _change(client, settings, session, account, status="removed")
        await session.refresh(account)
        return AccountPublic.of(account)
    return await _change(client, settings, session, account, status="removed")
