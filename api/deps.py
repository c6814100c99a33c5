"""Dependencies shared by the routers (one place for auth, settings, clients and sessions)."""

from __future__ import annotations

import hmac
from collections.abc import AsyncIterator
from typing import Annotated
from typing import Any
from typing import Protocol
from typing import TypeVar

from fastapi import Depends
from fastapi import Header
from fastapi import Request
from fastapi.security import HTTPAuthorizationCredentials
from fastapi.security import HTTPBearer
from sqlalchemy.ext.asyncio import AsyncSession
from temporalio.client import Client

from api.errors import NEEDS_KEY
from api.errors import ApiError
from api.errors import responses
from api.fields import BusinessId
from api.throttle import Throttle
from core.settings import Settings
from core.text import unsafe_character
from models.catalog import Catalog
from models.errors import ApiProblem
from models.errors import DomainError
from models.records.domain import Account
from models.records.domain import Business

_bearer = HTTPBearer(auto_error=False, description="One of the configured API keys")
# Dependencies are `async def`: sync ones would each cost a thread-pool hop on every request.


async def _settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


async def _temporal(request: Request) -> Client:
    client: Client = request.app.state.temporal
    return client


async def _session(request: Request) -> AsyncIterator[AsyncSession]:
    """A read session for the request (the API reads the database; activities write it)."""
    async with request.app.state.sessions() as session:
        yield session


async def _write_session(request: Request) -> AsyncIterator[AsyncSession]:
    """A session for the configuration the API owns (webhook endpoints): the route commits what
    it wrote (anything else is rolled back); the flows' records are written by activities."""
    async with request.app.state.sessions() as session:
        yield session


async def _catalog(request: Request) -> Catalog:
    catalog: Catalog = request.app.state.catalog
    return catalog


SettingsDep = Annotated[Settings, Depends(_settings)]
TemporalDep = Annotated[Client, Depends(_temporal)]
SessionDep = Annotated[AsyncSession, Depends(_session)]
WriteSessionDep = Annotated[AsyncSession, Depends(_write_session)]
CatalogDep = Annotated[Catalog, Depends(_catalog)]


async def require_api_key(
    settings: SettingsDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> None:
    challenge = {"WWW-Authenticate": "Bearer"}
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise ApiError(ApiProblem.MISSING_API_KEY, headers=challenge)
    presented = credentials.credentials.encode()
    # Compare against every key so the time taken does not tell which one nearly matched.
    matches = [hmac.compare_digest(presented, key.encode()) for key in settings.api_keys]
    if not any(matches):
        raise ApiError(ApiProblem.INVALID_API_KEY, headers=challenge)


ApiKey = Depends(require_api_key)


def key_in(keys: list[str], presented: str) -> bool:
    """Whether `presented` is one of `keys`, compared in constant time against every key (the
    time taken does not tell which one nearly matched)."""
    matches = [hmac.compare_digest(presented.encode(), key.encode()) for key in keys]
    return bool(presented) and any(matches)


def operator_key_ok(settings: Settings, presented: str) -> bool:
    """One of the operators' keys (support's API, the codec endpoint from the CLI)."""
    return key_in(settings.operator_keys, presented)


async def require_operator_key(
    settings: SettingsDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> None:
    """Support's calls: an operator key, apart from the portal's API keys."""
    presented = (
        credentials.credentials if credentials and credentials.scheme.lower() == "bearer" else ""
    )
    if not operator_key_ok(settings, presented):
        raise ApiError(ApiProblem.INVALID_OPERATOR_KEY, headers={"WWW-Authenticate": "Bearer"})


OperatorKey = Depends(require_operator_key)


def keyed(*problems: DomainError) -> dict[str, Any]:
    """The options of a route the portal calls with an API key: the key is checked, and the
    OpenAPI document lists its errors with the key's own."""
    return {"dependencies": [ApiKey], "responses": responses(*NEEDS_KEY, *problems)}


async def require_business(business_id: BusinessId, session: SessionDep) -> Business:
    business = await session.get(Business, business_id)
    if business is None:
        raise ApiError(ApiProblem.BUSINESS_NOT_FOUND)
    return business


KnownBusiness = Depends(require_business)


class OfABusiness(Protocol):
    business_id: str


Row = TypeVar("Row", bound=OfABusiness)


def owned(row: Row | None, business_id: str, missing: DomainError) -> Row:
    """The row if this Business holds it. Another Business's row is refused as if there were
    none, so an ID from elsewhere tells the caller nothing."""
    if row is None or row.business_id != business_id:
        raise ApiError(missing)
    return row


async def require_acting_primary(
    business_id: BusinessId,
    session: SessionDep,
    acting_account: Annotated[
        str | None,
        Header(
            alias="X-Acting-Account",
            description="The account the portal signed in; it must be the Business's primary",
        ),
    ] = None,
) -> str:
    """Actions a Business's owner alone may take: the portal names the signed-in account."""
    await require_business(business_id, session)
    account = await session.get(Account, acting_account) if acting_account else None
    if (
        account is None
        or account.business_id != business_id
        or account.kind != "primary"
        or account.status != "active"
    ):
        raise ApiError(ApiProblem.NOT_PRIMARY_ACCOUNT)
    return account.id


ActingPrimary = Annotated[str, Depends(require_acting_primary)]


def user_agent(request: Request) -> str | None:
    """The browser that accepted an agreement, for its record: one line, at most 300 characters."""
    agent = request.headers.get("user-agent")
    if not agent:
        return None
    return "".join(char for char in agent if unsafe_character(char) is None)[:300]


def client_address(request: Request) -> str:
    """Who is asking, as far as this process can tell (behind a proxy, uvicorn's
    `--forwarded-allow-ips` makes it the client's own)."""
    return request.client.host if request.client else "unknown"


async def _lookups_per_client(request: Request) -> None:
    """Account lookups: anyone may ask, but one client only so often (a per-process count)."""
    throttle: Throttle = request.app.state.lookup_throttle
    wait = throttle.wait(client_address(request))
    if wait is not None:
        raise ApiError(ApiProblem.TOO_MANY_REQUESTS, headers={"Retry-After": str(wait)})


LookupsPerClient = Depends(_lookups_per_client)


def require_sign_up_allowance(request: Request, order_id: str) -> None:
    """Addresses tried with one Activation Link (the API's and the pages' sign-ups): a few an
    hour, so a link cannot be used to try the vendor's customer base (a per-process count)."""
    throttle: Throttle = request.app.state.sign_up_throttle
    wait = throttle.wait(order_id)
    if wait is not None:
        raise ApiError(ApiProblem.TOO_MANY_REQUESTS, headers={"Retry-After": str(wait)})
