"""On-premises licenses (docs/on-premises.md): an installation of the vendor's product activates
with the Activation Code from its certificate and gets a signed license file (the code is the
credential: the product has no API key); the vendor's systems read, renew and revoke codes with
their API key; anyone can read the keys that verify license files."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter
from fastapi import Path
from fastapi import Request
from fastapi import status
from fastapi.responses import JSONResponse

from api.deps import CatalogDep
from api.deps import SessionDep
from api.deps import TemporalDep
from api.deps import client_address
from api.deps import keyed
from api.errors import BAD_BODY
from api.errors import responses
from api.fields import Body
from api.flow_clients import public
from api.flow_clients import read_state
from api.flow_clients.on_premises import CertificatePublic
from api.flow_clients.on_premises import InstallationActivate
from api.flow_clients.on_premises import InstallationDeactivate
from api.flow_clients.on_premises import act_on_code
from api.flow_clients.on_premises import activate_installation
from api.flow_clients.on_premises import code_hash_of
from api.flow_clients.on_premises import code_row
from models.contracts.on_premises import DEACTIVATE
from models.contracts.on_premises import RENEW
from models.contracts.on_premises import REVOKE
from models.contracts.on_premises import CertificateState
from models.contracts.on_premises import CodeState
from models.contracts.on_premises import DeactivateInput
from models.contracts.on_premises import LicenseFile
from models.contracts.on_premises import RenewInput
from models.contracts.on_premises import certificate_flow_id
from models.contracts.on_premises import code_flow_id
from models.errors import LicenseCodeError

router = APIRouter(tags=["on-premises licenses"])

CODE_ERRORS = (
    LicenseCodeError.MISTYPED,
    LicenseCodeError.NOT_FOUND,
    LicenseCodeError.EXPIRED,
    LicenseCodeError.REVOKED,
)


class CodeRenew(Body):
    expires_on: date


@router.post(
    "/v1/installations",
    status_code=status.HTTP_201_CREATED,
    responses=responses(
        *BAD_BODY, *CODE_ERRORS, LicenseCodeError.NO_SEAT_LEFT, LicenseCodeError.AGREEMENT
    ),
)
async def activate(
    body: InstallationActivate,
    request: Request,
    session: SessionDep,
    client: TemporalDep,
    catalog: CatalogDep,
) -> LicenseFile:
    """Activate an installation: a seat of the code (its own again, for a fingerprint that has
    one: a check-in) and its signed license file."""
    return await activate_installation(body, request, session, client, catalog, offline=False)


@router.post(
    "/v1/installations/deactivate",
    responses=responses(
        *BAD_BODY,
        *CODE_ERRORS,
        LicenseCodeError.NOT_INSTALLED,
        LicenseCodeError.TOO_MANY_DEACTIVATIONS,
    ),
)
async def deactivate(
    body: InstallationDeactivate, request: Request, session: SessionDep, client: TemporalDep
) -> CodeState:
    """Free the installation's seat (a code frees only so many a day)."""
    code_hash = code_hash_of(body.activation_code)
    row = await code_row(session, code_hash)
    leaving = DeactivateInput(code_hash, body.fingerprint, client_address(request))
    answer: CodeState = await act_on_code(client, row.id, DEACTIVATE, leaving)
    return answer


CodeId = Annotated[str, Path(pattern=r"^[a-z2-7]{24}$", description="The code's id")]
OrderId = Annotated[str, Path(pattern=r"^[0-9a-f-]{36}$", description="The order's id")]


@router.get("/v1/license-certificates/{order_id}", **keyed(LicenseCodeError.CERTIFICATE_NOT_FOUND))
async def get_certificate(order_id: OrderId, client: TemporalDep) -> CertificatePublic:
    """An order's certificate: its codes' ids, products, seats and terms (never the codes)."""
    handle = client.get_workflow_handle(certificate_flow_id(order_id))
    published = await read_state(handle, LicenseCodeError.CERTIFICATE_NOT_FOUND)
    return CertificatePublic.of(public(CertificateState, published))


@router.get("/v1/license-codes/{code_id}", **keyed(LicenseCodeError.NOT_FOUND))
async def get_code(code_id: CodeId, client: TemporalDep) -> CodeState:
    """A code's seats, in use and in all, its term and status."""
    handle = client.get_workflow_handle(code_flow_id(code_id))
    return public(CodeState, await read_state(handle, LicenseCodeError.NOT_FOUND))


@router.post(
    "/v1/license-codes/{code_id}/renew",
    **keyed(*BAD_BODY, LicenseCodeError.NOT_FOUND, LicenseCodeError.EXPIRED),
)
async def renew(code_id: CodeId, body: CodeRenew, client: TemporalDep) -> CodeState:
    """A renewal: the code's term runs to a later last day (installations get files for it at
    their next check-in; offline ones repeat the offline step)."""
    answer: CodeState = await act_on_code(
        client, code_id, RENEW, RenewInput(body.expires_on.isoformat())
    )
    return answer


@router.post(
    "/v1/license-codes/{code_id}/revoke",
    **keyed(LicenseCodeError.NOT_FOUND, LicenseCodeError.EXPIRED, LicenseCodeError.REVOKED),
)
async def revoke(code_id: CodeId, client: TemporalDep) -> CodeState:
    """Withdraw the code: no more activations (files issued verify until they expire)."""
    answer: CodeState = await act_on_code(client, code_id, REVOKE)
    return answer


@router.get("/.well-known/jwks.json", tags=["on-premises licenses"])
async def license_keys(request: Request) -> JSONResponse:
    """The public keys that verify license files, by key id (a JWK Set, RFC 7517)."""
    published = request.app.state.license_keys
    return JSONResponse(published, headers={"Cache-Control": "public, max-age=3600"})
