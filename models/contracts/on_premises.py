"""Plain data that crosses the on-premises workflow boundary (docs/on-premises.md): the license
certificate of an order's on-premises items, and one flow per Activation Code holding its seats.

Only a code's SHA-256 hash is here (these values are recorded in workflow history); the plain
code is in the certificate mail and on its page, and the signing keys stay in the worker.
"""

from __future__ import annotations

from dataclasses import dataclass
from dataclasses import field
from datetime import datetime
from enum import StrEnum

from temporalio.common import WorkflowIDConflictPolicy

from models.contracts.flow import FlowStart
from models.contracts.flow import Update
from models.contracts.flow_ids import flow_ids
from models.errors import LicenseCodeError

CERTIFICATE_KIND = "license-certificate"
CERTIFICATE_WORKFLOW = "LicenseCertificateWorkflow"
# One certificate per order: the order's id is its key.
CERTIFICATE_PREFIX, certificate_flow_id = flow_ids(CERTIFICATE_KIND)

CODE_KIND = "license-code"
CODE_WORKFLOW = "LicenseCodeWorkflow"
# One flow per Activation Code: its random public id is the key (never the code).
CODE_PREFIX, code_flow_id = flow_ids(CODE_KIND)


class CertificateStatus(StrEnum):
    ISSUING = "issuing"
    ISSUED = "issued"  # the codes hold their seats in their own flows; the mail has gone


class CodeStatus(StrEnum):
    ACTIVE = "active"
    EXPIRED = "expired"
    REVOKED = "revoked"


@dataclass
class CertificateItem:
    product_code: str
    seats: int
    expires_on: str  # ISO date: the last day of the term


@dataclass
class StartCertificateInput:
    order_id: str
    business_id: str
    company_name: str
    contact_email: str
    locale: str
    items: list[CertificateItem]
    file_ttl_days: int  # settings its codes' flows follow (docs/settings.md)
    deactivations_per_day: int
    reminder_days: list[int] = field(default_factory=list)  # before the end of a term


@dataclass
class IssuedCode:
    """A code as the flows know it: its public id and hash, never the code."""

    code_id: str
    code_hash: str
    product_code: str
    seats: int
    expires_on: str


@dataclass
class CertificateState:
    id: str  # the order's id
    business_id: str
    status: CertificateStatus
    codes: list[IssuedCode] = field(default_factory=list)


@dataclass
class SendCertificateInput:
    order_id: str
    to: str
    locale: str


@dataclass
class Installation:
    """A seat in use: the installation's fingerprint and how it was activated."""

    fingerprint: str
    activated_at: datetime
    offline: bool
    agreement_version: str


@dataclass
class StartCodeInput:
    code: IssuedCode
    order_id: str
    business_id: str
    company_name: str
    file_ttl_days: int
    deactivations_per_day: int
    # Carried over a continue-as-new: the seats in use and the day's deactivations.
    installations: list[Installation] = field(default_factory=list)
    deactivated_at: list[datetime] = field(default_factory=list)
    changes: int = 0  # the seat changes recorded so far (each one's audit number)
    # Renewal reminders to the order's contact, days before the end of a term, and those sent
    # (`<last day>/<days>`: a renewal starts them again).
    contact_email: str = ""
    locale: str = "en"
    reminder_days: list[int] = field(default_factory=list)
    reminded: list[str] = field(default_factory=list)


@dataclass
class CodeState:
    id: str
    business_id: str
    product_code: str
    status: CodeStatus
    seats: int
    seats_in_use: int
    expires_on: str


@dataclass
class ActivateInput:
    code_hash: str
    fingerprint: str
    agreement_id: str
    agreement_version: str
    offline: bool = False
    client_address: str | None = None


@dataclass
class LicenseFile:
    license_file: str  # the signed file (a JWS), for the installation to keep
    valid_until: datetime
    seats: int
    seats_in_use: int


@dataclass
class DeactivateInput:
    code_hash: str
    fingerprint: str
    client_address: str | None = None


@dataclass
class RenewInput:
    expires_on: str  # the new last day of the term (a later one)


@dataclass
class SignInput:
    code_id: str
    product_code: str
    seats: int
    company_name: str
    fingerprint: str
    issued_at: datetime
    valid_until: datetime
    term_ends_on: str
    agreement_id: str
    agreement_version: str


@dataclass
class RecordInstallationInput:
    """An audited change of a seat: `event` is activated, refreshed or deactivated; `number`
    counts the code's changes (its idempotency key; the flow sets it)."""

    code_id: str
    event: str
    fingerprint: str
    at: datetime
    number: int = 0
    offline: bool = False
    agreement_id: str | None = None
    agreement_version: str | None = None
    client_address: str | None = None


@dataclass
class CodeReminderInput:
    code_id: str
    to: str
    locale: str
    company_name: str
    product_code: str
    seats: int
    expires_on: str
    days_left: int


@dataclass
class SaveCodeInput:
    code_id: str
    status: CodeStatus
    expires_on: str


# How a code that no longer runs refuses.
CODE_CLOSED: dict[str, LicenseCodeError] = {
    CodeStatus.EXPIRED: LicenseCodeError.EXPIRED,
    CodeStatus.REVOKED: LicenseCodeError.REVOKED,
}

# -- how the API meets the flows (models/contracts/flow.py) -------------------------------------

DESCRIBE_CERTIFICATE: Update[None, CertificateState] = Update("describe", None, CertificateState)
ACTIVATE: Update[ActivateInput, LicenseFile] = Update("activate", ActivateInput, LicenseFile)
DEACTIVATE: Update[DeactivateInput, CodeState] = Update("deactivate", DeactivateInput, CodeState)
RENEW: Update[RenewInput, CodeState] = Update("renew", RenewInput, CodeState)
REVOKE: Update[None, CodeState] = Update("revoke", None, CodeState)


def certificate_summary(input: StartCertificateInput) -> str:
    """The one line an operator reads in the Temporal UI (no code, no address)."""
    items = ", ".join(f"{item.product_code} × {item.seats}" for item in input.items)
    return f"License certificate: {items}"


def code_summary(input: StartCodeInput) -> str:
    code = input.code
    return (
        f"Activation Code {code.code_id[:6]}… for {code.product_code}: "
        f"{code.seats} seats until {code.expires_on}"
    )


START_CERTIFICATE: FlowStart[StartCertificateInput, CertificateState] = FlowStart(
    CERTIFICATE_WORKFLOW,
    DESCRIBE_CERTIFICATE,
    CERTIFICATE_KIND,
    CertificateStatus.ISSUING,
    certificate_summary,
    flow_id=lambda input: certificate_flow_id(input.order_id),
    business_of=lambda input: input.business_id,
    conflict=WorkflowIDConflictPolicy.USE_EXISTING,
)
