"""Email verification: a single-use link that expires, can be resent after a cooldown, locks after
repeated failures and is confirmed by the token's hash (never the token).

See docs/flows/email-verification.md.
"""

from __future__ import annotations

import asyncio
import hmac
import math
from datetime import datetime
from datetime import timedelta

from temporalio import workflow
from temporalio.exceptions import ActivityError
from temporalio.exceptions import is_cancelled_exception

with workflow.unsafe.imports_passed_through():
    from activities.email_verification import EmailVerificationActivities
    from models.contracts.email_verification import CLOSED
    from models.contracts.email_verification import WORKFLOW
    from models.contracts.email_verification import ChangeEmailInput
    from models.contracts.email_verification import ConfirmInput
    from models.contracts.email_verification import RecordOutcomeInput
    from models.contracts.email_verification import SendLinkInput
    from models.contracts.email_verification import StartVerificationInput
    from models.contracts.email_verification import TokenCheck
    from models.contracts.email_verification import VerificationState
    from models.contracts.email_verification import VerificationStatus
    from models.errors import VerificationError
    from models.errors import refuse
    from workflows.changes import CANCELLED_WHILE_SENDING
    from workflows.links import LINK_SETTLE
    from workflows.publishing import publish
    from workflows.publishing import publish_status
    from workflows.steps import RETRY
    from workflows.steps import STEP_TIMEOUT
    from workflows.steps import send_mail
    from workflows.waiting import Waited
    from workflows.waiting import wait_for_answer

PENDING = VerificationStatus.PENDING


@workflow.defn(name=WORKFLOW)
class EmailVerificationWorkflow:
    @workflow.init
    def __init__(self, input: StartVerificationInput) -> None:
        self._input = input
        self._email = input.email
        self._status = PENDING
        self._link_number = 0
        self._token_hash: str | None = None
        self._verified_hash: str | None = None
        self._resends_used = 0
        self._failed_attempts = 0
        self._sending = False
        self._request_link()

    @workflow.run
    async def run(self, input: StartVerificationInput) -> VerificationState:
        publish(self._state())
        try:
            await self._wait_for_outcome()
        except (asyncio.CancelledError, ActivityError) as err:
            # Cancelled by a parent flow that ended or moved on: close like a cancel update.
            # While a link is being sent, the cancel arrives as the send's ActivityError (flows
            # before the change ended as Cancelled there, with no outcome recorded).
            if isinstance(err, ActivityError) and not (
                is_cancelled_exception(err) and workflow.patched(CANCELLED_WHILE_SENDING)
            ):
                raise
            self._set_status(VerificationStatus.CANCELLED)
        await workflow.wait_condition(workflow.all_handlers_finished)
        # Local: a short idempotent write needs no task round trip through the server.
        await workflow.execute_local_activity_method(
            EmailVerificationActivities.record_outcome,
            RecordOutcomeInput(
                flow_id=workflow.info().workflow_id,
                email=self._email,
                purpose=input.purpose,
                status=self._status,
                business_id=input.business_id,
                finished_at=workflow.now(),
            ),
            start_to_close_timeout=STEP_TIMEOUT,
            retry_policy=RETRY,
        )
        return self._state()

    async def _wait_for_outcome(self) -> None:
        """Send each link asked for (the first, a resend, a new address) until the address is
        confirmed, or the current link expires."""
        while True:
            waited = await wait_for_answer(
                lambda: self._status != PENDING,
                lambda: self._expires_at,  # a resend moves it
                woken=lambda: self._link_requested,
            )
            if waited is Waited.WOKEN:
                await self._send_link()
                continue
            if waited is Waited.EXPIRED:
                self._set_status(VerificationStatus.EXPIRED)
            return

    # -- updates: actions that need an answer ---------------------------------------------------

    @workflow.update
    def describe(self) -> VerificationState:
        """Read-only; sent with the start so the caller gets the state atomically."""
        return self._state()

    @workflow.update
    async def confirm(self, input: ConfirmInput) -> VerificationState:
        if self._link_requested or self._sending:
            try:
                await workflow.wait_condition(
                    lambda: not (self._link_requested or self._sending),
                    timeout=LINK_SETTLE,
                )
            except TimeoutError:
                raise refuse(VerificationError.LINK_NOT_READY) from None
        self._require_pending()
        if self._token_hash is not None and hmac.compare_digest(input.token_hash, self._token_hash):
            self._verified_hash = input.token_hash
            self._set_status(VerificationStatus.VERIFIED)
            return self._state()
        self._failed_attempts += 1
        if self._failed_attempts >= self._input.max_attempts:
            self._set_status(VerificationStatus.LOCKED)
            raise refuse(VerificationError.LOCKED)
        publish(self._state())
        raise refuse(
            VerificationError.TOKEN_INVALID,
            "the link is not valid (used, replaced or mistyped)",
            self._attempts_left(),
        )

    @confirm.validator
    def _validate_confirm(self, input: ConfirmInput) -> None:
        self._require_pending()

    @workflow.update
    def resend(self) -> VerificationState:
        self._resends_used += 1
        self._request_link()
        publish(self._state())
        return self._state()

    @resend.validator
    def _validate_resend(self) -> None:
        self._require_resend_allowed()

    @workflow.update
    def change_email(self, input: ChangeEmailInput) -> VerificationState:
        """A new address gets a new link at once (a typo is fixed without waiting out the resend
        cooldown); it counts against the resends, and the API's per-address mail limits still
        apply. The same address again is a resend, cooldown and all."""
        self._email = input.email
        self._resends_used += 1
        self._request_link()
        publish(self._state())
        return self._state()

    @change_email.validator
    def _validate_change_email(self, input: ChangeEmailInput) -> None:
        if input.email.casefold() == self._email.casefold():
            self._require_resend_allowed()
            return
        self._require_pending()
        if self._resends_left() == 0:
            raise refuse(VerificationError.RESEND_LIMIT)

    @workflow.update
    async def cancel(self) -> VerificationState:
        """By the portal (or the flow that started it), while it is pending."""
        self._set_status(VerificationStatus.CANCELLED)
        return self._state()

    @cancel.validator
    def _validate_cancel(self) -> None:
        self._require_pending()

    # -- queries --------------------------------------------------------------------------------

    @workflow.query
    def state(self) -> VerificationState:
        return self._state()

    @workflow.query
    def check_token(self, input: ConfirmInput) -> TokenCheck:
        """Lets the link page tell a live link from a dead one without consuming it."""
        if self._verified_hash is not None and hmac.compare_digest(
            input.token_hash, self._verified_hash
        ):
            return TokenCheck.USED
        if self._status == PENDING and (self._link_requested or self._sending):
            return TokenCheck.SENDING
        if (
            self._status == PENDING
            and self._token_hash is not None
            and hmac.compare_digest(input.token_hash, self._token_hash)
        ):
            return TokenCheck.VALID
        return TokenCheck.DEAD

    # -- internals ------------------------------------------------------------------------------

    def _request_link(self) -> None:
        """Kill the current link at once and schedule a new one; the run loop sends it."""
        now = workflow.now()
        self._link_number += 1
        self._token_hash = None
        self._last_link_at = now
        self._expires_at = now + timedelta(seconds=self._input.expiry_seconds)
        self._link_requested = True

    async def _send_link(self) -> None:
        self._link_requested = False
        self._sending = True
        number = self._link_number
        try:
            # Retrying past the link's own expiry is pointless. A link that cannot be sent
            # leaves the flow pending: the customer can ask for a resend, or it expires.
            token_hash = await send_mail(
                EmailVerificationActivities.send_link,
                SendLinkInput(
                    flow_id=workflow.info().workflow_id,
                    link_number=number,
                    email=self._email,
                    purpose=self._input.purpose,
                    locale=self._input.locale,
                    expires_at=self._expires_at,
                    about=self._input.about,
                    products=self._input.products,
                ),
                details=f"Link {number} could not be sent; a resend may help.",
                deadline=self._expires_at - workflow.now(),
            )
            if token_hash is not None and number == self._link_number:  # a resend supersedes
                self._token_hash = token_hash
        finally:
            self._sending = False

    def _require_pending(self) -> None:
        if self._status != PENDING:
            raise refuse(CLOSED[self._status], f"the verification is {self._status.value}")

    def _require_resend_allowed(self) -> None:
        self._require_pending()
        if self._resends_left() == 0:
            raise refuse(VerificationError.RESEND_LIMIT)
        wait = (self._resend_available_at() - workflow.now()).total_seconds()
        if wait > 0:
            raise refuse(VerificationError.RESEND_COOLDOWN, None, math.ceil(wait))

    def _resends_left(self) -> int:
        return max(0, self._input.max_resends - self._resends_used)

    def _attempts_left(self) -> int:
        return max(0, self._input.max_attempts - self._failed_attempts)

    def _resend_available_at(self) -> datetime:
        return self._last_link_at + timedelta(seconds=self._input.resend_cooldown_seconds)

    def _set_status(self, status: VerificationStatus) -> None:
        self._status = status
        publish_status(status.value, self._state())

    def _state(self) -> VerificationState:
        can_resend = self._status == PENDING and self._resends_left() > 0
        return VerificationState(
            id=workflow.info().workflow_id,
            status=self._status,
            email=self._email,
            purpose=self._input.purpose,
            expires_at=self._expires_at,
            resend_available_at=self._resend_available_at() if can_resend else None,
            last_sent_at=self._last_link_at,
            resends_left=self._resends_left(),
            attempts_left=self._attempts_left(),
            locale=self._input.locale,
        )
