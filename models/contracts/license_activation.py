"""Plain data that crosses the license-activation workflow boundary (one dataclass per call).

Never put an activation code here: these values are recorded in workflow history. The order,
its items and the agreements it needs are fixed when the order is placed (a catalog change does
not alter an order in flight).
"""

from __future__ import annotations

from dataclasses import dataclass
from dataclasses import field
from datetime import datetime
from enum import StrEnum

from models.contracts.email_verification import StartVerificationInput
from models.contracts.flow_ids import flow_ids
from models.errors import ActivationError

FLOW_KIND = "license-activation"
# An order is activated once: its ID is the workflow's domain key.
FLOW_ID_PREFIX, flow_id_of = flow_ids(FLOW_KIND)


class ActivationStatus(StrEnum):
    """The step the flow is at (also the `ActivationStatus` search attribute)."""

    AWAITING_ACCOUNT = "awaiting_account"
    VERIFYING_EMAIL = "verifying_email"
    AWAITING_AGREEMENTS = "awaiting_agreements"
    AWAITING_INSTANCE_CHOICE = "awaiting_instance_choice"
    PROVISIONING = "provisioning"
    ACTIVATED = "activated"
    FAILED = "failed"
    EXPIRED = "expired"
    CANCELLED = "cancelled"


WAITING_FOR_CUSTOMER = frozenset(
    {
        ActivationStatus.AWAITING_ACCOUNT,
        ActivationStatus.VERIFYING_EMAIL,
        ActivationStatus.AWAITING_AGREEMENTS,
        ActivationStatus.AWAITING_INSTANCE_CHOICE,
    }
)


@dataclass
class LicenseItem:
    license_id: str
    product_code: str
    product_name: str
    kind: str  # service | addon | credits
    units: int
    credits: int
    expires_on: str  # ISO date (the workflow's JSON payloads carry datetimes, not dates)
    # Service licenses: the instance they will create (chosen up front, so it can be offered
    # to add-ons of the same order). Add-ons: the instance they are assigned to.
    instance_id: str | None = None
    trial: bool = False
    # A service license for a product the Business holds already (found when provisioning):
    # it renews that license, or converts that trial, and keeps its instance.
    replaces: HeldLicense | None = None
    # Asked by the order: another instance, even if the Business holds the product already.
    new_instance: bool = False


@dataclass
class HeldLicense:
    """A service license the Business holds, as it was before an order renewed or converted it
    (what undoing that restores)."""

    license_id: str
    instance_id: str
    expires_on: str
    status: str  # active | expired
    units: int
    trial: bool

    @property
    def renewal(self) -> bool:
        return not self.trial


@dataclass
class MatchLicensesInput:
    business_id: str
    region: str
    items: list[LicenseItem]


@dataclass
class AgreementRef:
    id: str
    version: str
    title: str = ""


@dataclass
class VerificationPolicy:
    """How the child email verification of a new account behaves (from the settings)."""

    expiry_seconds: int
    resend_cooldown_seconds: int
    max_resends: int
    max_attempts: int

    def start(
        self, email: str, purpose: str, locale: str, about: str | None = None
    ) -> StartVerificationInput:
        return StartVerificationInput(
            email=email,
            purpose=purpose,
            locale=locale,
            about=about,
            expiry_seconds=self.expiry_seconds,
            resend_cooldown_seconds=self.resend_cooldown_seconds,
            max_resends=self.max_resends,
            max_attempts=self.max_attempts,
        )


@dataclass
class StartActivationInput:
    order_id: str
    reference: str | None
    company_name: str
    contact_email: str
    region: str
    locale: str
    items: list[LicenseItem]
    required_agreements: list[AgreementRef]
    link_expiry_seconds: int
    # Seconds before the link lapses at which a reminder is emailed, e.g. 7 days and 1 day.
    reminder_offsets_seconds: list[int]
    verification: VerificationPolicy
    # Days before each license's expiry at which the primary account is reminded (its
    # lifecycle flow); orders placed before lifecycles existed carry the default.
    license_reminder_days: list[int] = field(default_factory=lambda: [30, 7, 1])


@dataclass
class InstanceChoice:
    instance_id: str
    product_code: str
    region: str
    description: str | None
    new: bool  # created by this order


@dataclass
class ActivationState:
    id: str
    order_id: str
    status: ActivationStatus
    company_name: str
    region: str
    contact_email: str
    items: list[LicenseItem]
    required_agreements: list[AgreementRef]
    accepted_agreements: list[AgreementRef]
    link_expires_at: datetime
    business_id: str | None = None
    account_id: str | None = None
    account_email: str | None = None
    verification_id: str | None = None
    instance_choices: list[InstanceChoice] = field(default_factory=list)
    # Add-on licenses still waiting for the customer to pick one of `instance_choices`.
    licenses_awaiting_choice: list[str] = field(default_factory=list)
    problem: str | None = None  # why a sign-up or provisioning did not go through
    activated_at: datetime | None = None
    locale: str = "en"  # the customer's language (the order's)


# -- updates -----------------------------------------------------------------------------------


@dataclass
class SignInInput:
    account_id: str


@dataclass
class FindAccountInput:
    email: str


@dataclass
class CreateAccountInput:
    email: str
    locale: str
    # Derived by the API from its secret key (HMAC), so the child's links route to it.
    verification_flow_id: str
    # The customer's pages: an address that is a primary account already signs in once proven
    # (so whether the Business has instances for an add-on is known only then).
    sign_in_allowed: bool = False


@dataclass
class AcceptAgreementsInput:
    agreements: list[AgreementRef]
    client_address: str | None
    user_agent: str | None = None


@dataclass
class ChooseInstanceInput:
    instance_id: str
    license_id: str | None = None


# -- activities --------------------------------------------------------------------------------


@dataclass
class RecordOrderInput:
    order: StartActivationInput
    expires_at: datetime


@dataclass
class SendActivationLinkInput:
    order_id: str
    link_number: int
    to: str
    company_name: str
    locale: str
    items: list[LicenseItem]
    expires_at: datetime
    reminder: bool


@dataclass
class AccountInfo:
    account_id: str
    business_id: str
    email: str
    instances: list[InstanceChoice]


@dataclass
class CreatePrimaryAccountInput:
    business_id: str
    account_id: str
    company_name: str
    region: str
    email: str


@dataclass
class RecordAcceptancesInput:
    order_id: str
    account_id: str
    agreements: list[AgreementRef]
    client_address: str | None
    accepted_at: datetime
    user_agent: str | None = None


@dataclass
class ProvisionInput:
    order_id: str
    business_id: str
    region: str
    items: list[LicenseItem]


@dataclass
class CloseOrderInput:
    order_id: str
    status: str  # activated | expired | failed | cancelled
    business_id: str | None
    at: datetime


@dataclass
class SendConfirmationInput:
    order_id: str
    to: str
    company_name: str
    locale: str
    items: list[LicenseItem]


# How an activation that no longer waits for the customer refuses an action.
CLOSED: dict[str, ActivationError] = {
    ActivationStatus.PROVISIONING: ActivationError.COMPLETED,
    ActivationStatus.ACTIVATED: ActivationError.COMPLETED,
    ActivationStatus.EXPIRED: ActivationError.EXPIRED,
    ActivationStatus.FAILED: ActivationError.CLOSED,
    ActivationStatus.CANCELLED: ActivationError.CLOSED,
}


def agreement_problems(
    required: list[AgreementRef], given: list[AgreementRef]
) -> list[dict[str, str]]:
    """Each required agreement must be accepted in its current version; nothing else may be."""
    versions = {ref.id: ref.version for ref in required}
    accepted = {ref.id: ref.version for ref in given}
    problems = []
    for ref in required:
        if ref.id not in accepted:
            problems.append({"agreement": ref.id, "problem": "missing", "required": ref.version})
        elif accepted[ref.id] != ref.version:
            problem = "outdated" if accepted[ref.id] < ref.version else "unknown_version"
            problems.append({"agreement": ref.id, "problem": problem, "required": ref.version})
    for agreement_id in accepted:
        if agreement_id not in versions:
            problems.append({"agreement": agreement_id, "problem": "unknown", "required": ""})
    return problems


def instance_choices(
    items: list[LicenseItem],
    existing: list[InstanceChoice],
    region: str,
    *,
    renewals_keep_instances: bool = True,
) -> list[InstanceChoice]:
    """Where an add-on may go: the Business's instances and those this order creates. A paid
    service license of a product the Business has renews that product's license and keeps its
    instance (`match_held_licenses`), so it creates none. (`renewals_keep_instances=False`:
    as flows started before this rule offered them.)"""
    held = {choice.product_code for choice in existing}
    created = [
        InstanceChoice(item.instance_id or "", item.product_code, region, None, True)
        for item in items
        if item.kind == "service"
        and not (renewals_keep_instances and renews_held_product(item, held))
    ]
    return existing + created


def renews_held_product(item: LicenseItem, held_products: set[str]) -> bool:
    """Whether a service item renews (or converts) a license of a product the Business holds,
    instead of creating an instance: the rule `match_held_licenses` applies."""
    return not item.trial and not item.new_instance and item.product_code in held_products


def awaiting_choice(items: list[LicenseItem]) -> list[str]:
    """The add-on licenses still waiting for the customer to choose their instance."""
    return [item.license_id for item in items if item.kind == "addon" and item.instance_id is None]
