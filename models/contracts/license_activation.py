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

from core.tokens import mask_email
from models.contracts.email_verification import StartVerificationInput
from models.contracts.flow import FlowStart
from models.contracts.flow import Update
from models.contracts.flow_ids import flow_ids
from models.errors import ActivationError

FLOW_KIND = "license-activation"
# Named explicitly: running flows and saved histories know this name.
WORKFLOW = "LicenseActivationWorkflow"
# The purpose of a sign-up's child verification (its mail says what the address is for).
SIGNUP_PURPOSE = "activation"
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
    # Where the customer opens its instance, as the vendor's product answered (none without
    # a product backend).
    console_url: str | None = None


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
        self,
        email: str,
        purpose: str,
        locale: str,
        about: str | None = None,
        products: list[str] | None = None,
    ) -> StartVerificationInput:
        return StartVerificationInput(
            email=email,
            purpose=purpose,
            locale=locale,
            about=about,
            products=products or [],
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
    unproven_email: str | None = None  # a verification's address that was not confirmed
    # Provisioning waits for the vendor's product to set up an instance (it answered 202).
    setting_up: bool = False
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
    reason: str | None = None  # why it failed: the refusal's code


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


# -- how the API meets the flow (models/contracts/flow.py) --------------------------------------

DESCRIBE: Update[None, ActivationState] = Update("describe", None, ActivationState)
SIGN_IN: Update[SignInInput, ActivationState] = Update("sign_in", SignInInput, ActivationState)
CREATE_ACCOUNT: Update[CreateAccountInput, ActivationState] = Update(
    "create_account", CreateAccountInput, ActivationState
)
ACCEPT_AGREEMENTS: Update[AcceptAgreementsInput, ActivationState] = Update(
    "accept_agreements", AcceptAgreementsInput, ActivationState
)
CHOOSE_INSTANCE: Update[ChooseInstanceInput, ActivationState] = Update(
    "choose_instance", ChooseInstanceInput, ActivationState
)
CANCEL: Update[None, ActivationState] = Update("cancel", None, ActivationState)


def summary(input: StartActivationInput) -> str:
    """The one line an operator reads in the Temporal UI."""
    products = ", ".join(sorted({item.product_code for item in input.items}))
    order = input.reference or input.order_id[:8]
    return (
        f"License activation of order {order} for {input.company_name} "
        f"({mask_email(input.contact_email)}): {products}"
    )


# Starts the order's flow (or joins it: one flow per order) once its rows are written.
START: FlowStart[StartActivationInput, ActivationState] = FlowStart(
    WORKFLOW,
    DESCRIBE,
    FLOW_KIND,
    ActivationStatus.AWAITING_ACCOUNT,
    summary,
    flow_id=lambda input: flow_id_of(input.order_id),
)
