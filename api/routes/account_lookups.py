"""`POST /v1/account-lookups`: "do I already have an account?" (docs/flows/account-lookup.md).
No API key; the answer is the same 202 for every address, and the mail tells the address."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter
from fastapi import status
from pydantic import BaseModel
from pydantic import EmailStr
from pydantic import Field

from api.deps import LookupsPerClient
from api.deps import SessionDep
from api.deps import SettingsDep
from api.deps import TemporalDep
from api.errors import BAD_BODY
from api.errors import responses
from api.fields import Body
from api.fields import Locale
from api.flow_clients.account_lookup import ANSWER
from api.flow_clients.account_lookup import ask
from models.errors import ApiProblem

router = APIRouter(prefix="/v1", tags=["account lookup"])


class LookupCreate(Body):
    email: EmailStr = Field(max_length=254)
    locale: Locale = "en"


class LookupAccepted(BaseModel):
    status: Literal["accepted"] = "accepted"
    message: str = ANSWER


@router.post(
    "/account-lookups",
    status_code=status.HTTP_202_ACCEPTED,
    dependencies=[LookupsPerClient],
    responses=responses(*BAD_BODY, ApiProblem.TOO_MANY_REQUESTS),
)
async def look_up_account(
    body: LookupCreate, session: SessionDep, settings: SettingsDep, client: TemporalDep
) -> LookupAccepted:
    """Mail the address whether it is the primary account of a company (masked), or that it
    has none and how an Activation Link makes one. An address gets a few such answers an hour,
    apart from the flows' mails (beyond them nothing is sent and the answer is still 202); a
    client may ask a limited number of times an hour (429)."""
    await ask(session, client, settings, str(body.email), body.locale)
    return LookupAccepted()
