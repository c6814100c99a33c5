"""An Activation Code's seats (docs/on-premises.md): one flow per code holds them, so activations
of one code queue here and never exceed its seats, however many arrive at once. An installation
(its fingerprint) takes a seat and gets a signed license file; the same fingerprint again keeps
its seat and gets a fresh file; a deactivation frees the seat, at most so many a day. The vendor
renews (a later last day) or revokes the code; at the end of its term it expires.

Steps: until the end of the term (or a revocation), the renewal reminders to the order's
contact; then record how the code closed.
"""

from __future__ import annotations

import hmac
from datetime import UTC
from datetime import date
from datetime import datetime
from datetime import time
from datetime import timedelta

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from activities.on_premises import OnPremisesActivities as Steps
    from models.contracts.on_premises import CODE_CLOSED
    from models.contracts.on_premises import CODE_WORKFLOW
    from models.contracts.on_premises import ActivateInput
    from models.contracts.on_premises import CodeReminderInput
    from models.contracts.on_premises import CodeState
    from models.contracts.on_premises import CodeStatus
    from models.contracts.on_premises import DeactivateInput
    from models.contracts.on_premises import Installation
    from models.contracts.on_premises import LicenseFile
    from models.contracts.on_premises import RecordInstallationInput
    from models.contracts.on_premises import RenewInput
    from models.contracts.on_premises import SaveCodeInput
    from models.contracts.on_premises import SignInput
    from models.contracts.on_premises import StartCodeInput
    from models.errors import LicenseCodeError
    from models.errors import refuse
    from workflows.publishing import publish
    from workflows.publishing import publish_status
    from workflows.steps import run_step
    from workflows.steps import send_mail

DAY = timedelta(days=1)
REMINDER_DEADLINE = timedelta(hours=12)  # a reminder that late is no longer worth sending


def end_of_term(expires_on: str) -> datetime:
    """The term includes its last day: it ends at the next midnight, UTC."""
    return datetime.combine(date.fromisoformat(expires_on) + DAY, time(), UTC)


@workflow.defn(name=CODE_WORKFLOW)
class LicenseCodeWorkflow:
    @workflow.init
    def __init__(self, input: StartCodeInput) -> None:
        self._input = input
        self._code = input.code
        self._status = CodeStatus.ACTIVE
        self._seats = {seat.fingerprint: seat for seat in input.installations}
        self._deactivated_at = list(input.deactivated_at)
        self._changes = input.changes
        self._reminded = list(input.reminded)
        self._term_changed = False

    @workflow.run
    async def run(self, input: StartCodeInput) -> CodeState:
        publish(self._state())
        while self._status == CodeStatus.ACTIVE:
            ends = end_of_term(self._code.expires_on)
            if workflow.now() >= ends:
                self._status = CodeStatus.EXPIRED
                break
            reminder = self._next_reminder(ends)
            if await self._interrupted_before(reminder[1] if reminder else ends):
                if workflow.info().is_continue_as_new_suggested():
                    await workflow.wait_condition(workflow.all_handlers_finished)
                    workflow.continue_as_new(self._carried_over())
                continue  # revoked, or renewed: the loop reads the new term
            if reminder is not None:
                await self._remind(reminder[0])
        await workflow.wait_condition(workflow.all_handlers_finished)
        await self._save()
        publish_status(self._status.value, self._state())
        return self._state()

    @workflow.update
    async def activate(self, input: ActivateInput) -> LicenseFile:
        """A seat for the installation (its own again, if it has one) and its license file."""
        self._validate_activate(input)  # again: updates that arrive together validate first
        now = workflow.now()
        holds_a_seat = input.fingerprint in self._seats
        # Taken before the first step, so a concurrent activation sees the seat gone.
        self._seats[input.fingerprint] = Installation(
            input.fingerprint, now, input.offline, input.agreement_version
        )
        try:
            await self._record(
                RecordInstallationInput(
                    code_id=self._code.code_id,
                    event="refreshed" if holds_a_seat else "activated",
                    fingerprint=input.fingerprint,
                    at=now,
                    offline=input.offline,
                    agreement_id=input.agreement_id,
                    agreement_version=input.agreement_version,
                    client_address=input.client_address,
                )
            )
        except Exception:
            if not holds_a_seat:
                del self._seats[input.fingerprint]
            raise
        # An installation that checks in online gets a file for a while; one in a closed
        # network cannot check in, so its file lasts the term.
        valid_until = end_of_term(self._code.expires_on)
        if not input.offline:
            valid_until = min(valid_until, now + timedelta(days=self._input.file_ttl_days))
        signed = await run_step(
            Steps.sign_license_file,
            SignInput(
                code_id=self._code.code_id,
                product_code=self._code.product_code,
                seats=self._code.seats,
                company_name=self._input.company_name,
                fingerprint=input.fingerprint,
                issued_at=now,
                valid_until=valid_until,
                term_ends_on=self._code.expires_on,
                agreement_id=input.agreement_id,
                agreement_version=input.agreement_version,
            ),
        )
        publish(self._state())
        return LicenseFile(signed, valid_until, self._code.seats, len(self._seats))

    @activate.validator
    def _validate_activate(self, input: ActivateInput) -> None:
        self._require_active(input.code_hash)
        if input.fingerprint not in self._seats and len(self._seats) >= self._code.seats:
            raise refuse(LicenseCodeError.NO_SEAT_LEFT)

    @workflow.update
    async def deactivate(self, input: DeactivateInput) -> CodeState:
        """Free the installation's seat (its file still verifies until it expires, which is
        why a code frees only so many seats a day)."""
        self._validate_deactivate(input)
        del self._seats[input.fingerprint]
        self._deactivated_at.append(workflow.now())
        await self._record(
            RecordInstallationInput(
                code_id=self._code.code_id,
                event="deactivated",
                fingerprint=input.fingerprint,
                at=workflow.now(),
                client_address=input.client_address,
            )
        )
        publish(self._state())
        return self._state()

    @deactivate.validator
    def _validate_deactivate(self, input: DeactivateInput) -> None:
        self._require_active(input.code_hash)
        if input.fingerprint not in self._seats:
            raise refuse(LicenseCodeError.NOT_INSTALLED)
        self._deactivated_at = [at for at in self._deactivated_at if workflow.now() - at < DAY]
        if len(self._deactivated_at) >= self._input.deactivations_per_day:
            raise refuse(LicenseCodeError.TOO_MANY_DEACTIVATIONS)

    @workflow.update
    async def renew(self, input: RenewInput) -> CodeState:
        """A renewal order's new last day: installations get files for the longer term."""
        self._code.expires_on = max(self._code.expires_on, input.expires_on)
        self._term_changed = True
        await self._save()
        publish(self._state())
        return self._state()

    @renew.validator
    def _validate_renew(self, input: RenewInput) -> None:
        self._require_active(None)

    @workflow.update
    def revoke(self) -> CodeState:
        """The vendor withdraws the code: no more activations; files already issued verify
        until they expire (products that check in learn it at once)."""
        self._status = CodeStatus.REVOKED
        return self._state()

    @revoke.validator
    def _validate_revoke(self) -> None:
        self._require_active(None)

    @workflow.query
    def state(self) -> CodeState:
        return self._state()

    def _require_active(self, code_hash: str | None) -> None:
        """The code presented is this flow's (None: the vendor's call), and the code can act."""
        if code_hash is not None and not hmac.compare_digest(code_hash, self._code.code_hash):
            raise refuse(LicenseCodeError.NOT_FOUND)
        if self._status != CodeStatus.ACTIVE:
            raise refuse(CODE_CLOSED[self._status])
        if workflow.now() >= end_of_term(self._code.expires_on):  # due, the timer not yet run
            raise refuse(LicenseCodeError.EXPIRED)

    def _next_reminder(self, ends: datetime) -> tuple[int, datetime] | None:
        """The next renewal reminder of this term not sent yet (days before the end, when)."""
        for days in sorted(set(self._input.reminder_days), reverse=True):
            at = ends - timedelta(days=days)
            if f"{self._code.expires_on}/{days}" not in self._reminded and at > workflow.now():
                return days, at
        return None

    async def _interrupted_before(self, moment: datetime) -> bool:
        """Wait until `moment`; True if the code was revoked or renewed first (or its history
        should start afresh)."""
        self._term_changed = False
        try:
            await workflow.wait_condition(
                lambda: (
                    self._status != CodeStatus.ACTIVE
                    or self._term_changed
                    or workflow.info().is_continue_as_new_suggested()
                ),
                timeout=moment - workflow.now(),
            )
        except TimeoutError:
            return False
        return True

    async def _remind(self, days: int) -> None:
        """A renewal reminder to the order's contact, as cloud licenses get theirs."""
        self._reminded.append(f"{self._code.expires_on}/{days}")
        await send_mail(
            Steps.send_reminder,
            CodeReminderInput(
                code_id=self._code.code_id,
                to=self._input.contact_email,
                locale=self._input.locale,
                company_name=self._input.company_name,
                product_code=self._code.product_code,
                seats=self._code.seats,
                expires_on=self._code.expires_on,
                days_left=days,
            ),
            details=f"The renewal reminder {days} days before the end could not be sent.",
            deadline=REMINDER_DEADLINE,
        )

    async def _record(self, change: RecordInstallationInput) -> None:
        """A change of a seat, numbered in the code's audit."""
        self._changes += 1
        change.number = self._changes
        await run_step(Steps.record_installation, change)

    async def _save(self) -> None:
        """The code's status and term, as the pages and the vendor's API read them."""
        saved = SaveCodeInput(self._code.code_id, self._status, self._code.expires_on)
        await run_step(Steps.save_code, saved)

    def _carried_over(self) -> StartCodeInput:
        return StartCodeInput(
            code=self._code,
            order_id=self._input.order_id,
            business_id=self._input.business_id,
            company_name=self._input.company_name,
            file_ttl_days=self._input.file_ttl_days,
            deactivations_per_day=self._input.deactivations_per_day,
            installations=list(self._seats.values()),
            deactivated_at=self._deactivated_at,
            changes=self._changes,
            contact_email=self._input.contact_email,
            locale=self._input.locale,
            reminder_days=self._input.reminder_days,
            reminded=self._reminded,
        )

    def _state(self) -> CodeState:
        return CodeState(
            id=self._code.code_id,
            business_id=self._input.business_id,
            product_code=self._code.product_code,
            status=self._status,
            seats=self._code.seats,
            seats_in_use=len(self._seats),
            expires_on=self._code.expires_on,
        )
