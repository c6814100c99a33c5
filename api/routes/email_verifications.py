"""Email verification: start, read, resend, change address, cancel, confirm.

See docs/flows/email-verification.md.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter
from fastapi import Path
from fastapi import status
from pydantic import BaseModel
from pydantic import EmailStr
from pydantic import Field

from api.deps import SessionDep
from api.deps import SettingsDep
from api.deps import TemporalDep
from api.deps import keyed
from api.errors import BAD_BODY
from api.errors import MAILS
from api.errors import NEEDS_KEY
from api.errors import ApiError
from api.errors import responses
from api.fields import Body
from api.fields import Locale
from api.flow_clients.email_verification import Error
from api.flow_clients.email_verification import VerificationPublic
from api.flow_clients.email_verification import confirm_token
from api.flow_clients.email_verification import final_state
from api.flow_clients.email_verification import flow_handle
from api.flow_clients.email_verification import update_flow
from api.mail_limit import require_mail_allowance
from core.settings import Settings
from models.contracts.email_verification import CANCEL
from models.contracts.email_verification import CHANGE_EMAIL
from models.contracts.email_verification import RESEND
from models.contracts.email_verification import START
from models.contracts.email_verification import ChangeEmailInput
from models.contracts.email_verification import StartVerificationInput
from models.contracts.email_verification import VerificationStatus
from models.contracts.email_verification import flow_id_for
from models.errors import ApiProblem
from models.errors import MailProblem

router = APIRouter(prefix="/v1/email-verifications", tags=["email verification"])

ACTION_ERRORS = (*NEEDS_KEY, Error.NOT_FOUND, Error.NOT_PENDING, Error.EXPIRED, Error.LOCKED)


class EmailVerificationCreate(Body):
    email: EmailStr = Field(max_length=254)
    purpose: str = Field("signup", pattern=r"^[a-z][a-z0-9-]{0,39}$")
    locale: Locale = "en"
    business_id: str | None = Field(None, pattern=r"^[A-Za-z0-9_-]{1,64}$")


class EmailChange(Body):
    email: EmailStr = Field(max_length=254)


class TokenBody(Body):
    token: str = Field(min_length=1, max_length=200)


class ConfirmResult(BaseModel):
    id: str
    status: VerificationStatus


FlowId = Annotated[str, Path(description="The verification's id, as returned by the start")]


def start_input(settings: Settings, body: EmailVerificationCreate) -> StartVerificationInput:
    return StartVerificationInput(
        email=body.email,
        purpose=body.purpose,
        locale=body.locale,
        business_id=body.business_id,
        expiry_seconds=settings.verification_expiry_for(body.purpose),
        resend_cooldown_seconds=settings.verification_resend_cooldown_seconds,
        max_resends=settings.verification_max_resends,
        max_attempts=settings.verification_max_attempts,
    )


@router.post("", status_code=status.HTTP_202_ACCEPTED, **keyed(*MAILS))
async def start_email_verification(
    body: EmailVerificationCreate, settings: SettingsDep, session: SessionDep, client: TemporalDep
) -> VerificationPublic:
    """Email a single-use link; a repeated start for a pending address and purpose returns it."""
    if body.purpose not in settings.verification_purposes:
        raise ApiError(
            ApiProblem.INVALID_REQUEST,
            details=[{"loc": ["body", "purpose"], "msg": "not a configured purpose"}],
        )
    await require_mail_allowance(session, settings, body.email)
    started = await START(
        client,
        start_input(settings, body),
        flow_id=flow_id_for(settings.secret_key, body.purpose, body.email),
        task_queue=settings.temporal_task_queue,
    )
    return VerificationPublic.of(started)


@router.get("/{flow_id}", **keyed(Error.NOT_FOUND))
async def get_email_verification(flow_id: FlowId, client: TemporalDep) -> VerificationPublic:
    """The verification's live status."""
    return VerificationPublic.of(await final_state(flow_handle(client, flow_id)))


@router.post(
    "/{flow_id}/resend",
    status_code=status.HTTP_202_ACCEPTED,
    **keyed(*ACTION_ERRORS, Error.RESEND_COOLDOWN, Error.RESEND_LIMIT, MailProblem.RATE_LIMITED),
)
async def resend_email_verification(
    flow_id: FlowId, settings: SettingsDep, session: SessionDep, client: TemporalDep
) -> VerificationPublic:
    """Send a new link (the previous one stops working); refused inside the cooldown."""
    handle = flow_handle(client, flow_id)
    await require_mail_allowance(session, settings, (await final_state(handle)).email)
    return VerificationPublic.of(await update_flow(handle, RESEND))


@router.post(
    "/{flow_id}/email",
    status_code=status.HTTP_202_ACCEPTED,
    **keyed(*ACTION_ERRORS, *MAILS, Error.RESEND_COOLDOWN, Error.RESEND_LIMIT),
)
async def change_email_verification_address(
    flow_id: FlowId,
    body: EmailChange,
    settings: SettingsDep,
    session: SessionDep,
    client: TemporalDep,
) -> VerificationPublic:
    """Change the address while pending: a new link goes to it (same cooldown and limit)."""
    await require_mail_allowance(session, settings, body.email)
    changed = await update_flow(
        flow_handle(client, flow_id), CHANGE_EMAIL, ChangeEmailInput(email=body.email)
    )
    return VerificationPublic.of(changed)


@router.delete("/{flow_id}", **keyed(*ACTION_ERRORS))
async def cancel_email_verification(flow_id: FlowId, client: TemporalDep) -> VerificationPublic:
    """Cancel a pending verification; its link stops working."""
    return VerificationPublic.of(await update_flow(flow_handle(client, flow_id), CANCEL))


@router.post(
    "/confirm",
    responses=responses(
        *BAD_BODY, Error.TOKEN_INVALID, Error.EXPIRED, Error.LOCKED, Error.LINK_NOT_READY
    ),
)
async def confirm_email_verification(
    body: TokenBody, client: TemporalDep, session: SessionDep
) -> ConfirmResult:
    """Consume the link's token (no API key: the token is the credential)."""
    state = await confirm_token(client, session, body.token)
    return ConfirmResult(id=state.id, status=state.status)
