"""Product registration: an enrollment token lives as a workflow until it is used up, expires or is
revoked. Registrations and the revocation go through this one flow, so they cannot race: a
registration either finished before the revocation took effect, or is refused.

See docs/flows/product-registration.md.
"""

from __future__ import annotations

import hmac
from datetime import timedelta

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from activities.product_registration import ProductRegistrationActivities
    from models.contracts.product_registration import CLOSED
    from models.contracts.product_registration import WORKFLOW
    from models.contracts.product_registration import CloseTokenInput
    from models.contracts.product_registration import RecordTokenInput
    from models.contracts.product_registration import RegisterInput
    from models.contracts.product_registration import RegisterInstanceInput
    from models.contracts.product_registration import StartRegistrationInput
    from models.contracts.product_registration import TokenState
    from models.contracts.product_registration import TokenStatus
    from models.errors import RegistrationError
    from models.errors import refuse
    from workflows.changes import REPEAT_WAITS
    from workflows.changes import taken
    from workflows.publishing import publish
    from workflows.publishing import publish_status
    from workflows.recording import FirstRecord
    from workflows.steps import run_step


@workflow.defn(name=WORKFLOW)
class ProductRegistrationWorkflow:
    @workflow.init
    def __init__(self, input: StartRegistrationInput) -> None:
        self._input = input
        self._status = TokenStatus.ACTIVE
        self._created_at = workflow.now()
        self._expires_at = self._created_at + timedelta(seconds=input.expires_in_seconds)
        self._uses = 0
        self._registered: list[str] = []
        self._record = FirstRecord(RegistrationError.NOT_RECORDED, "token")
        self._in_flight: list[str] = []  # instances whose registration is running its activity
        self._closing = False  # a revocation or the expiry waits for them; no new ones start

    @workflow.run
    async def run(self, input: StartRegistrationInput) -> TokenState:
        publish(self._state())
        await run_step(
            ProductRegistrationActivities.record_token,
            RecordTokenInput(input, self._created_at, self._expires_at),
        )
        self._record.done()
        while self._status == TokenStatus.ACTIVE:
            remaining = (self._expires_at - workflow.now()).total_seconds()
            if remaining <= 0:
                self._closing = True
                await workflow.wait_condition(lambda: not self._in_flight)
                if self._status == TokenStatus.ACTIVE:
                    self._set_status(TokenStatus.EXPIRED)
                break
            try:
                await workflow.wait_condition(
                    lambda: self._status != TokenStatus.ACTIVE, timeout=remaining
                )
            except TimeoutError:
                continue
        await workflow.wait_condition(workflow.all_handlers_finished)
        await run_step(
            ProductRegistrationActivities.close_token,
            CloseTokenInput(input.token_id, self._status, workflow.now()),
        )
        return self._state()

    @workflow.update
    async def describe(self) -> TokenState:
        """Sent with the start: answers once the token is recorded (the API then shows it)."""
        await self._record.answer()
        return self._state()

    @workflow.update
    async def register(self, input: RegisterInput) -> TokenState:
        instance_id = input.instance_id
        if instance_id in self._in_flight and taken(REPEAT_WAITS):
            # The same registration, repeated while it runs: it gets the first one's answer.
            await workflow.wait_condition(lambda: instance_id not in self._in_flight)
        if instance_id in self._registered:  # a repeated registration: nothing to do
            return self._state()
        self._validate_register(input)  # again: updates that arrive together validate first
        self._in_flight.append(instance_id)
        try:
            registered = await run_step(
                ProductRegistrationActivities.register_instance,
                RegisterInstanceInput(
                    token_id=self._input.token_id,
                    business_id=self._input.business_id,
                    instance_type=self._input.instance_type,
                    description=self._input.description,
                    instance_id=input.instance_id,
                    at=workflow.now(),
                ),
            )
        finally:
            self._in_flight.remove(instance_id)
        if registered:  # False: registered before, by another token; this one is not used up
            self._uses += 1
            self._registered.append(input.instance_id)
            if self._uses >= self._input.max_uses and self._status == TokenStatus.ACTIVE:
                self._set_status(TokenStatus.USED)
            else:
                publish(self._state())
        return self._state()

    @register.validator
    def _validate_register(self, input: RegisterInput) -> None:
        if not hmac.compare_digest(input.token_hash, self._input.token_hash):
            raise refuse(RegistrationError.TOKEN_INVALID, "the enrollment token is not valid")
        if input.instance_id in self._registered or input.instance_id in self._in_flight:
            return  # a repeat: answered like the first (see `register`)
        closed_as = self._status
        if closed_as == TokenStatus.ACTIVE:
            if workflow.now() >= self._expires_at:  # due, even if the timer has not run yet
                closed_as = TokenStatus.EXPIRED
            elif self._closing:  # being revoked (or expiring) while others finish
                closed_as = TokenStatus.REVOKED
            elif self._uses + len(self._in_flight) >= self._input.max_uses:
                closed_as = TokenStatus.USED
        if closed_as != TokenStatus.ACTIVE:
            raise refuse(CLOSED[closed_as])

    @workflow.update
    async def revoke(self) -> TokenState:
        """Registrations already running finish first; none can start from now on."""
        self._closing = True
        await workflow.wait_condition(lambda: not self._in_flight)
        if self._status == TokenStatus.ACTIVE:
            self._set_status(TokenStatus.REVOKED)
        return self._state()

    @revoke.validator
    def _validate_revoke(self) -> None:
        if self._status != TokenStatus.ACTIVE:
            raise refuse(
                RegistrationError.TOKEN_NOT_ACTIVE, f"the enrollment token is {self._status.value}"
            )

    @workflow.query
    def state(self) -> TokenState:
        return self._state()

    def _set_status(self, status: TokenStatus) -> None:
        self._status = status
        publish_status(status.value, self._state())

    def _state(self) -> TokenState:
        input = self._input
        return TokenState(
            id=input.token_id,
            business_id=input.business_id,
            instance_type=input.instance_type,
            description=input.description,
            status=self._status,
            created_at=self._created_at,
            expires_at=self._expires_at,
            max_uses=input.max_uses,
            uses=self._uses,
            registered_instances=list(self._registered),
        )
