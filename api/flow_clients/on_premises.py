"""The API's side of on-premises licenses (docs/on-premises.md): an order's on-premises items
become a license certificate; an Activation Code, as typed, leads to its code's flow."""

from __future__ import annotations

from typing import TYPE_CHECKING
from typing import Annotated
from typing import Any

from fastapi import Request
from pydantic import BaseModel
from pydantic import Field
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from temporalio.client import Client

from api.deps import client_address
from api.errors import ApiError
from api.fields import Body
from api.flow_clients import act
from api.flow_clients import start
from core.license_codes import hash_code
from core.license_codes import normalized
from core.settings import Settings
from core.tokens import keyed_uuid
from models.catalog import Catalog
from models.contracts.flow import Update
from models.contracts.license_activation import LicenseItem
from models.contracts.license_activation import StartActivationInput
from models.contracts.on_premises import ACTIVATE
from models.contracts.on_premises import CODE_CLOSED
from models.contracts.on_premises import RENEW
from models.contracts.on_premises import START_CERTIFICATE
from models.contracts.on_premises import ActivateInput
from models.contracts.on_premises import CertificateItem
from models.contracts.on_premises import CertificateState
from models.contracts.on_premises import CodeState
from models.contracts.on_premises import LicenseFile
from models.contracts.on_premises import RenewInput
from models.contracts.on_premises import StartCertificateInput
from models.contracts.on_premises import code_flow_id
from models.errors import ActivationError
from models.errors import LicenseCodeError
from models.records.on_premises import LicenseCode

if TYPE_CHECKING:  # the order's module imports this one
    from api.flow_clients.license_activation import OrderCreate


# How an order's renewal of a code may be refused.
RENEWAL_ERRORS = (LicenseCodeError.NOT_FOUND, LicenseCodeError.EXPIRED, LicenseCodeError.REVOKED)


class CodePublic(BaseModel):
    """A code as the vendor's systems see it: its id, never the code (that is the customer's)."""

    id: str
    product_code: str
    seats: int
    expires_on: str


class CertificatePublic(BaseModel):
    id: str  # the order's id
    business_id: str | None  # None: the order only renewed codes
    status: str
    codes: list[CodePublic]
    renewed: list[CodePublic] = []  # codes the order's renewals extended

    @classmethod
    def of(cls, state: CertificateState) -> CertificatePublic:
        codes = [
            CodePublic(id=code.code_id, product_code=code.product_code, seats=code.seats,
                       expires_on=code.expires_on)
            for code in state.codes
        ]  # fmt: skip
        return cls(id=state.id, business_id=state.business_id, status=state.status, codes=codes)


async def certify(
    settings: Settings,
    catalog: Catalog,
    session: AsyncSession,
    client: Client,
    body: OrderCreate,
    order: StartActivationInput,
) -> CertificatePublic | None:
    """An order's on-premises items (taken out of `order`): renewals extend their codes, the
    others get a certificate with new codes. None: the order has none."""
    # The order's items, as the catalog fixed them, each with the order line it came from.
    lines = list(zip(order.items, body.items, strict=True))
    cloud = [item for item, _ in lines if catalog.product(item.product_code).deployment == "cloud"]
    installed = [(item, line.renews_code) for item, line in lines if item not in cloud]
    if any(line.renews_code for item, line in lines if item in cloud):
        raise ApiError(ActivationError.INVALID_ORDER, "renews_code renews on-premises codes only")
    if not installed:
        return None
    order.items = cloud
    renewed = await _renew(session, client, [(code, item) for item, code in installed if code])
    new = [item for item, code in installed if not code]
    if not new:
        return CertificatePublic(id=order.order_id, business_id=None, status="renewed",
                                 codes=[], renewed=renewed)  # fmt: skip
    issued = await start(
        START_CERTIFICATE, client, settings, certificate_input(settings, order, new)
    )
    return CertificatePublic.of(issued).model_copy(update={"renewed": renewed})


async def _renew(
    session: AsyncSession, client: Client, renewals: list[tuple[str, LicenseItem]]
) -> list[CodePublic]:
    """Each code's term runs on to its item's last day; all are checked before any changes."""
    for code_id, item in renewals:
        row = await session.get(LicenseCode, code_id)
        if row is None:
            raise ApiError(LicenseCodeError.NOT_FOUND)
        if row.product_code != item.product_code:
            raise ApiError(
                ActivationError.INVALID_ORDER, f"code {code_id} is not for {item.product_code}"
            )
    renewed = []
    for code_id, item in renewals:
        state: CodeState = await act_on_code(client, code_id, RENEW, RenewInput(item.expires_on))
        renewed.append(CodePublic(id=code_id, product_code=state.product_code,
                                  seats=state.seats, expires_on=state.expires_on))  # fmt: skip
    return renewed


def certificate_input(
    settings: Settings, order: StartActivationInput, items: list[LicenseItem]
) -> StartCertificateInput:
    """The certificate of an order's on-premises items; its Business is keyed from the order
    (a company with no account: it activates in its own products)."""
    return StartCertificateInput(
        order_id=order.order_id,
        business_id=keyed_uuid(settings.secret_key, "on-premises business", order.order_id),
        company_name=order.company_name,
        contact_email=order.contact_email,
        locale=order.locale,
        items=[CertificateItem(item.product_code, item.units, item.expires_on) for item in items],
        file_ttl_days=settings.license_file_ttl_days,
        deactivations_per_day=settings.license_deactivations_per_day,
        reminder_days=settings.license_reminder_before_days,
    )


def code_hash_of(typed: str) -> str:
    """The hash of a typed code; a typo the check character catches is refused here, before
    any lookup."""
    code = normalized(typed)
    if code is None:
        raise ApiError(LicenseCodeError.MISTYPED)
    return hash_code(code)


async def code_row(session: AsyncSession, code_hash: str) -> LicenseCode:
    row = await session.scalar(select(LicenseCode).where(LicenseCode.code_hash == code_hash))
    if row is None:
        raise ApiError(LicenseCodeError.NOT_FOUND)
    return row


async def act_on_code(
    client: Client, code_id: str, update: Update[Any, Any], arg: Any = None
) -> Any:
    """An update of the code's flow; a code whose flow has ended says how it ended."""
    handle = client.get_workflow_handle(code_flow_id(code_id))
    return await act(handle, update, arg, closed=CODE_CLOSED, not_found=LicenseCodeError.NOT_FOUND)


# A fingerprint: what the product derives from its machine, as it shows it (typeable).
Fingerprint = Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9._:-]{7,127}$")]
ActivationCodeText = Annotated[str, Field(min_length=25, max_length=40)]


class AgreementShown(Body):
    id: str = Field(max_length=60)
    version: str = Field(max_length=20)


class InstallationActivate(Body):
    activation_code: ActivationCodeText
    fingerprint: Fingerprint
    # The Business Software Agreement as the product showed it, accepted there.
    agreement: AgreementShown


class InstallationDeactivate(Body):
    activation_code: ActivationCodeText
    fingerprint: Fingerprint


def require_agreement(catalog: Catalog, product_code: str, shown: AgreementShown) -> None:
    """The installation accepted the current version of the product's own agreement."""
    wanted = [
        agreement
        for agreement in catalog.required_agreements([product_code])
        if "on-premises" in agreement.required_for
    ]
    if not any(a.id == shown.id and a.version == shown.version for a in wanted):
        current = ", ".join(f"{a.id} {a.version}" for a in wanted)
        raise ApiError(LicenseCodeError.AGREEMENT, f"accept the current agreement: {current}")


async def activate_installation(
    body: InstallationActivate,
    request: Request,
    session: AsyncSession,
    client: Client,
    catalog: Catalog,
    *,
    offline: bool,
) -> LicenseFile:
    """What the online endpoint and the offline page both do."""
    code_hash = code_hash_of(body.activation_code)
    row = await code_row(session, code_hash)
    require_agreement(catalog, row.product_code, body.agreement)
    activation = ActivateInput(
        code_hash=code_hash,
        fingerprint=body.fingerprint,
        agreement_id=body.agreement.id,
        agreement_version=body.agreement.version,
        offline=offline,
        client_address=client_address(request),
    )
    answer: LicenseFile = await act_on_code(client, row.id, ACTIVATE, activation)
    return answer
