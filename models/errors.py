"""The error contract (docs/architecture.md): every refusal the service can give is declared once,
here, as a member of a `DomainError` enum, with its stable code, its HTTP status, a message for
people and, where repeating the request helps, a Retry-After in seconds. One catalogue, one enum
a flow, so a code is never restated and every code the API can answer reads on one page.

Flows and activities refuse with `raise refuse(<member>[, message, details…])` (the one way); the
API turns the failure's type back into the member (`find`) and answers with its status; the
OpenAPI responses list the codes.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Self

from temporalio import activity
from temporalio.exceptions import ApplicationError
from temporalio.exceptions import ApplicationErrorCategory


class DomainError(StrEnum):
    """Subclass per flow; each member is `code, HTTP status, message[, retry_after]`."""

    status: int
    message: str
    retry_after: int | None

    def __new__(cls, code: str, status: int, message: str, retry_after: int | None = None) -> Self:
        member = str.__new__(cls, code)
        member._value_ = code
        member.status = status
        member.message = message
        member.retry_after = retry_after
        return member


@dataclass(frozen=True)
class Refusal:
    """A declared error with the words that fit the case, from a rule both the API (a quick
    answer) and an activity (the authoritative check, under a lock) apply."""

    error: DomainError
    message: str


def refuse(error: DomainError, message: str | None = None, *details: object) -> ApplicationError:
    """A refusal, for a workflow's update or an activity to raise: the declared error (its code
    is the failure's type, which the API answers), in the words that fit the case (by default
    the catalogue's), with `details` for the caller (a Retry-After, the problems found).
    Retrying cannot change it; it is benign: a worker logs it as one line, not as a failure
    with a traceback (those are for the unexpected)."""
    if activity.in_activity():
        activity.logger.info("refused: %s", error.value)  # the code: the message may quote input
    return ApplicationError(
        message or error.message,
        *details,
        type=error.value,
        non_retryable=True,
        category=ApplicationErrorCategory.BENIGN,
    )


# -- the catalogue ----------------------------------------------------------------------------


class VerificationError(DomainError):
    """The refusals of email verification (docs/flows/email-verification.md)."""

    NOT_FOUND = "verification_not_found", 404, "no such email verification"
    NOT_PENDING = "verification_not_pending", 409, "the verification is no longer pending"
    EXPIRED = "verification_expired", 410, "the verification has expired"
    LOCKED = "verification_locked", 423, "too many failed attempts: the verification is locked"
    RESEND_COOLDOWN = "resend_cooldown", 429, "a new link can be sent after the cooldown"
    RESEND_LIMIT = "resend_limit_reached", 409, "no resends left"
    TOKEN_INVALID = ("token_invalid", 400,
        "the link is not valid (used, replaced, cancelled or mistyped)")  # fmt: skip
    LINK_NOT_READY = "link_not_ready", 503, "the link is still being sent; try again shortly", 5


class ActivationError(DomainError):
    """The refusals of license activation (docs/flows/license-activation.md)."""

    NOT_FOUND = ("activation_not_found", 404,
        "no activation for this code (mistyped, or from another system)")  # fmt: skip
    ORDER_NOT_FOUND = "order_not_found", 404, "no such order"
    INVALID_ORDER = "invalid_order", 422, "the order is not valid"
    REFERENCE_CONFLICT = ("order_reference_conflict", 409,
        "an order with this reference exists with different terms")  # fmt: skip
    COMPLETED = "activation_completed", 409, "the licenses of this link are already active"
    EXPIRED = "activation_expired", 410, "the Activation Link has expired"
    CLOSED = "activation_closed", 409, "the activation is closed"
    WRONG_STEP = "activation_wrong_step", 409, "not possible at this step of the activation"
    ACCOUNT_NOT_FOUND = "account_not_found", 404, "no such account"
    ACCOUNT_EXISTS = ("account_exists", 409,
        "this email address already has a primary account; sign in with it instead")  # fmt: skip
    NO_INSTANCE_FOR_ADDON = ("no_instance_for_addon", 409,
        "an add-on needs an instance of the Business")  # fmt: skip
    AGREEMENTS_INVALID = ("agreements_invalid", 422,
        "the required agreements were not all accepted in their current version")  # fmt: skip
    INSTANCE_CHOICE_INVALID = "instance_choice_invalid", 422, "that instance choice is not possible"
    INSTANCE_UNAVAILABLE = ("instance_unavailable", 409,
        "the instance chosen for an add-on no longer exists")  # fmt: skip
    TRIAL_NOT_AVAILABLE = ("trial_not_available", 409,
        "this Business has the product already; a trial is for trying a product first")  # fmt: skip
    ORDER_NOT_RECORDED = ("order_not_recorded", 503,
        "the order is not recorded yet; repeat the request shortly", 5)  # fmt: skip


class LocalAccountError(DomainError):
    """The refusals of local accounts and their invitations (docs/flows/local-accounts.md)."""

    LIMIT_REACHED = ("local_account_limit_reached", 409,
        "the Business has reached its local-account limit")  # fmt: skip
    ACCOUNT_EXISTS = ("local_account_exists", 409,
        "this address has an account on this instance already")  # fmt: skip
    INSTANCE_NOT_FOUND = "instance_not_found", 404, "no such product instance"
    TOKEN_INVALID = "invitation_token_invalid", 400, "the invitation link is not valid"
    ALREADY_ACTIVE = "local_account_already_active", 409, "the account is active already"
    LAPSED = "invitation_lapsed", 410, "the invitation has lapsed"
    CANCELLED = "invitation_cancelled", 410, "the invitation was withdrawn"
    NOT_RECORDED = ("invitation_not_recorded", 503,
        "the invitation is not recorded yet; repeat the request shortly", 5)  # fmt: skip
    ACCOUNT_NOT_FOUND = "account_not_found", 404, "no such account in this Business"
    PRIMARY_IMMUTABLE = ("primary_account_immutable", 409,
        "the primary account cannot be edited, disabled or deleted; transfer the ownership instead"
    )  # fmt: skip
    ACCOUNT_PENDING = "account_pending", 409, "a pending account is activated by its user"
    ACCOUNT_CLOSED = "account_closed", 409, "the account is closed"


class TransferError(DomainError):
    """The refusals of ownership transfer (docs/flows/ownership-transfer.md)."""

    NOT_FOUND = "ownership_transfer_not_found", 404, "no such ownership transfer"
    PENDING_EXISTS = ("ownership_transfer_pending", 409,
        "the Business has a pending ownership transfer; cancel it first")  # fmt: skip
    PRIMARY_CHANGE_PENDING = ("primary_change_pending", 409,
        "the Business has a pending primary change by support; it must end first")  # fmt: skip
    TARGET_NOT_FOUND = "transfer_target_not_found", 404, "no such account in this Business"
    TARGET_NOT_ELIGIBLE = ("transfer_target_not_eligible", 409,
        "only an active local account can become the owner")  # fmt: skip
    NOT_PRIMARY = "not_primary_account", 403, "only the Business's primary account may do this"
    TOKEN_INVALID = "transfer_token_invalid", 400, "the transfer link is not valid"
    COMPLETED = "ownership_transfer_completed", 409, "the ownership has been transferred"
    DECLINED = "ownership_transfer_declined", 409, "the transfer was declined"
    CANCELLED = "ownership_transfer_cancelled", 410, "the transfer was cancelled"
    EXPIRED = "ownership_transfer_expired", 410, "the transfer has expired"
    FAILED = "ownership_transfer_failed", 409, "the transfer could not be completed"
    NOT_RECORDED = ("ownership_transfer_not_recorded", 503,
        "the transfer is not recorded yet; repeat the request shortly", 5)  # fmt: skip


class RegistrationError(DomainError):
    """The refusals of product registration (docs/flows/product-registration.md)."""

    NOT_FOUND = "enrollment_token_not_found", 404, "no such enrollment token"
    UNKNOWN_INSTANCE_TYPE = "unknown_instance_type", 422, "not a product that runs as an instance"
    TOKEN_INVALID = "enrollment_token_invalid", 400, "the enrollment token is not valid"
    TOKEN_USED = "enrollment_token_used", 409, "the enrollment token has been used"
    TOKEN_EXPIRED = "enrollment_token_expired", 410, "the enrollment token has expired"
    TOKEN_REVOKED = "enrollment_token_revoked", 410, "the enrollment token was revoked"
    TOKEN_NOT_ACTIVE = "enrollment_token_not_active", 409, "the enrollment token is not active"
    BUSINESS_MISMATCH = ("enrollment_token_business_mismatch", 403,
        "the token belongs to another Business")  # fmt: skip
    INSTANCE_TYPE_MISMATCH = ("instance_type_mismatch", 422,
        "the token is for another kind of instance")  # fmt: skip
    INSTANCE_NOT_FOUND = "instance_not_found", 404, "no such product instance"
    NOT_RECORDED = ("enrollment_token_not_recorded", 503,
        "the token is not recorded yet; repeat the request shortly", 5)  # fmt: skip


class LicenseCodeError(DomainError):
    """The refusals of an on-premises Activation Code (docs/on-premises.md)."""

    MISTYPED = "activation_code_mistyped", 422, "not an Activation Code: check what was typed"
    NOT_FOUND = "activation_code_not_found", 404, "no such Activation Code"
    EXPIRED = "activation_code_expired", 410, "the Activation Code's term has ended"
    REVOKED = "activation_code_revoked", 410, "the Activation Code was revoked by the vendor"
    NO_SEAT_LEFT = "no_seat_left", 409, "every seat of this Activation Code is in use"
    NOT_INSTALLED = "installation_not_found", 404, "this installation holds no seat of the code"
    AGREEMENT = "agreement_not_accepted", 422, "accept the current Business Software Agreement"
    TOO_MANY_DEACTIVATIONS = ("too_many_deactivations", 429,
        "this code freed too many seats today; try again tomorrow", 3600)  # fmt: skip
    CERTIFICATE_NOT_FOUND = "certificate_not_found", 404, "no such license certificate"


class ChangeError(DomainError):
    """The refusals of a primary change (docs/flows/primary-change.md)."""

    NOT_FOUND = "primary_change_not_found", 404, "no such primary change"
    PENDING_EXISTS = ("primary_change_pending", 409,
        "the Business has a pending primary change; cancel it first")  # fmt: skip
    TRANSFER_PENDING = ("ownership_transfer_pending", 409,
        "the Business has a pending ownership transfer; it must end first")  # fmt: skip
    ADDRESS_TAKEN = "new_address_is_primary", 409, "the new address is already a primary account"
    NO_INSTANCE = ("no_instance_for_local_account", 409,
        "the Business has no instance for the old primary as a local account; disable it instead"
    )  # fmt: skip
    TOKEN_INVALID = "primary_change_token_invalid", 400, "the objection link is not valid"
    COMPLETED = "primary_change_completed", 409, "the primary account has been changed"
    OBJECTED = "primary_change_objected", 409, "the change was stopped by the primary account"
    CANCELLED = "primary_change_cancelled", 410, "the change was cancelled"
    FAILED = "primary_change_failed", 409, "the change could not be completed"
    NOT_RECORDED = ("primary_change_not_recorded", 503,
        "the change is not recorded yet; repeat the request shortly", 5)  # fmt: skip


class CreditError(DomainError):
    """The refusals of credit allocation and the sandbox quota."""

    UNKNOWN_SENSOR = "unknown_sensor", 404, "no such sensor kind in the catalog"
    BUSINESS_NOT_FOUND = "business_not_found", 404, "no such Business"
    EXCEEDS_BALANCE = ("allocation_exceeds_balance", 409,
        "the allocations would need more credits than the Business has")  # fmt: skip
    QUOTA_EXHAUSTED = ("sandbox_quota_exhausted", 429,
        "today's sandbox submission quota is used up; it resets at 00:00 UTC")  # fmt: skip


class WebhookError(DomainError):
    """Webhook endpoints, their deliveries and the event feed (docs/webhooks.md)."""

    ENDPOINT_NOT_FOUND = "webhook_endpoint_not_found", 404, "no such webhook endpoint"
    URL_REFUSED = "webhook_url_refused", 422, "the URL must be https and reach a public address"
    UNKNOWN_EVENT_TYPE = "unknown_event_type", 422, "not an event type (GET /v1/event-types)"
    DELIVERY_NOT_FOUND = "webhook_delivery_not_found", 404, "no delivery of this event here"
    EVENT_NOT_FOUND = "event_not_found", 404, "no such event (events are kept for a while)"
    ENDPOINT_DISABLED = ("webhook_endpoint_disabled", 409,
        "the endpoint is disabled; enable it first")  # fmt: skip
    INVALID_CURSOR = "invalid_cursor", 422, "not a cursor this feed gave"


class ProvisioningError(DomainError):
    """Provisioning in the vendor's product (docs/provisioning.md): why an activation failed
    there, and the refusals of the backend's callback."""

    REFUSED = "provisioning_refused", 409, "the vendor's product refused to set up an instance"
    TIMED_OUT = "provisioning_timed_out", 409, "the vendor's product took too long to set it up"
    ADDRESS_REFUSED = ("provisioning_address_refused", 409,
        "the product's provisioning URL must be https and reach a public address")  # fmt: skip
    SIGNATURE_INVALID = ("callback_signature_invalid", 401,
        "the callback's signature does not verify with the product's secret")  # fmt: skip
    INSTANCE_NOT_FOUND = "instance_not_found", 404, "no such instance of this product"
    NOT_WAITING = "instance_not_pending", 409, "this instance is not waiting for an answer"


class MailProblem(DomainError):
    """Why a mail step gave up (docs/mail.md): the flow goes on without that mail and operators
    find it by `ActivationProblem`. Retrying cannot change these."""

    REJECTED = "email_rejected", 422, "the mail server refused the recipient or the message"
    UNBUILDABLE = "mail_unbuildable", 422, "the mail cannot be built from this data; fix the data"
    RATE_LIMITED = ("mail_rate_limited", 429,
        "this address has received the most mails allowed within the hour; try again later"
    )  # fmt: skip


class FlowProblem(DomainError):
    """What can go wrong in any flow, apart from its own refusals."""

    STEP_TIMED_OUT = ("step_timed_out", 503,
        "a step did not complete in time (the database or a system it calls is down)", 5
    )  # fmt: skip
    # Its workflow task fails (a worker build that cannot replay it): operators are alerted.
    FLOW_STUCK = ("flow_stuck", 503,
        "this flow cannot take answers until it is repaired; try again later", 60
    )  # fmt: skip


class ApiProblem(DomainError):
    """Refusals of the API itself (not of a flow)."""

    INVALID_REQUEST = "invalid_request", 422, "the request is not valid"
    PAYLOAD_TOO_LARGE = "payload_too_large", 413, "the body is too large"
    NOT_FOUND = "not_found", 404, "no such resource"
    METHOD_NOT_ALLOWED = "method_not_allowed", 405, "method not allowed"
    MISSING_API_KEY = "missing_api_key", 401, "send Authorization: Bearer <api key>"
    INVALID_API_KEY = "invalid_api_key", 401, "the API key is not valid"
    TEMPORAL_UNAVAILABLE = ("temporal_unavailable", 503,
        "the workflow service is unavailable; try again", 5)  # fmt: skip
    DATABASE_UNAVAILABLE = "database_unavailable", 503, "the database is unavailable; try again", 5
    TOO_MANY_REQUESTS = ("too_many_requests", 429,
        "too many requests from this client; try again later")  # fmt: skip
    CODEC_OFF = "codec_off", 404, "the codec endpoint is off: set ACTIVATION_OPERATOR_KEYS"
    INVALID_OPERATOR_KEY = ("invalid_operator_key", 401,
        "send an operator key (Authorization: Bearer <key>, or in the codec endpoint's path)"
    )  # fmt: skip
    UNKNOWN_PAYLOAD_KEY = "unknown_payload_key", 422, "a payload names a key this service lacks"
    BUSINESS_NOT_FOUND = "business_not_found", 404, "no such Business"
    NOT_PRIMARY_ACCOUNT = ("not_primary_account", 403,
        "only the Business's primary account may do this (send it as X-Acting-Account)"
    )  # fmt: skip


def all_errors() -> list[DomainError]:
    """Every declared error, across the flows and the API."""
    return [error for kind in DomainError.__subclasses__() for error in kind]


def find(code: str | None) -> DomainError | None:
    """The declared error with this code (a code may be shared by flows: one meaning)."""
    return next((error for error in all_errors() if error.value == code), None)
