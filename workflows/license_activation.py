"""License activation: an order's Activation Link is emailed; the customer signs in (or creates an
account through a child email verification), accepts the required agreements and, for an add-on,
picks an instance; then provisioning runs, each step undone if a later one fails for good. The
link lapses after 30 days (reminders before).

See docs/flows/license-activation.md.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from datetime import timedelta
from typing import Any

from temporalio import workflow
from temporalio.exceptions import ApplicationError

with workflow.unsafe.imports_passed_through():
    from activities.license_activation import LicenseActivationActivities
    from core.tokens import mask_email
    from models.contracts import email_verification as verification
    from models.contracts.license_activation import FLOW_KIND
    from models.contracts.license_activation import WAITING_FOR_CUSTOMER
    from models.contracts.license_activation import AcceptAgreementsInput
    from models.contracts.license_activation import AccountInfo
    from models.contracts.license_activation import ActivationState
    from models.contracts.license_activation import ActivationStatus
    from models.contracts.license_activation import AgreementRef
    from models.contracts.license_activation import ChooseInstanceInput
    from models.contracts.license_activation import CreateAccountInput
    from models.contracts.license_activation import RecordAcceptancesInput
    from models.contracts.license_activation import RecordOrderInput
    from models.contracts.license_activation import SignInInput
    from models.contracts.license_activation import StartActivationInput
    from models.contracts.license_activation import agreement_problems
    from models.contracts.license_activation import flow_id_of
    from models.errors import ActivationError
    from workflows.email_verification import EmailVerificationWorkflow
    from workflows.email_verification import summary as verification_summary
    from workflows.flow_start import FlowStart
    from workflows.flow_start import cancel_child
    from workflows.flow_start import start_child_flow
    from workflows.kit import Turns
    from workflows.kit import cancel_update
    from workflows.kit import run_step
    from workflows.kit import state_query
    from workflows.kit import wait_until_recorded
    from workflows.license_activation_steps import RENEWALS_KEEP_INSTANCES
    from workflows.license_activation_steps import ActivationSteps

Status = ActivationStatus
SIGNUP_PURPOSE = "activation"


# Named explicitly: running flows and saved histories know this name, whatever the class is called.
@workflow.defn(name="LicenseActivationWorkflow")
class LicenseActivationWorkflow(ActivationSteps):
    @workflow.init
    def __init__(self, input: StartActivationInput) -> None:
        self._input = input
        self._items = [replace(item) for item in input.items]
        self._status = Status.AWAITING_ACCOUNT
        self._recorded = False
        self._expires_at = workflow.now() + timedelta(seconds=input.link_expiry_seconds)
        self._link_number = 0
        self._account: AccountInfo | None = None
        self._accepted: list[AgreementRef] = []
        self._child: workflow.ChildWorkflowHandle[Any, verification.VerificationState] | None
        self._child = None
        self._turns = Turns()  # one action at a time runs its step; the others wait
        self._problem: str | None = None
        self._activated_at: datetime | None = None
        self._renewals_keep_instances = workflow.patched(RENEWALS_KEEP_INSTANCES)

    @workflow.run
    async def run(self, input: StartActivationInput) -> ActivationState:
        self._publish()
        await run_step(
            LicenseActivationActivities.record_order, RecordOrderInput(input, self._expires_at)
        )
        self._recorded = True
        await self._send_link(reminder=False)
        reminders = sorted(
            self._expires_at - timedelta(seconds=offset)
            for offset in input.reminder_offsets_seconds
            if self._expires_at - timedelta(seconds=offset) > workflow.now()
        )
        while self._status in WAITING_FOR_CUSTOMER:
            if self._child is not None and self._child.done() and not self._turns.busy:
                await self._finish_signup(self._child)
                continue
            now = workflow.now()
            if now >= self._expires_at:
                await self._close(Status.EXPIRED)
                break
            if reminders and now >= reminders[0]:
                reminders.pop(0)
                await self._send_link(reminder=True)
                continue
            wake_at = min([*reminders[:1], self._expires_at])
            try:
                await workflow.wait_condition(
                    lambda: (
                        self._status not in WAITING_FOR_CUSTOMER
                        or (self._child is not None and self._child.done() and not self._turns.busy)
                    ),
                    timeout=(wake_at - now).total_seconds(),
                )
            except TimeoutError:
                continue
        if self._status == Status.PROVISIONING:
            await self._provision()
        elif self._status == Status.CANCELLED:
            await self._close(Status.CANCELLED)
        await workflow.wait_condition(workflow.all_handlers_finished)
        return self._state()

    # -- updates --------------------------------------------------------------------------------

    @workflow.update
    async def describe(self) -> ActivationState:
        """Sent with the start: answers once the order is recorded, so the caller can rely on it."""
        await wait_until_recorded(
            lambda: self._recorded, ActivationError.ORDER_NOT_RECORDED, "order"
        )
        return self._state()

    @workflow.update
    async def sign_in(self, input: SignInInput) -> ActivationState:
        async with self._turns.take(lambda: self._validate_sign_in(input)):
            account = await run_step(LicenseActivationActivities.load_account, input)
            self._require_step(Status.AWAITING_ACCOUNT, Status.VERIFYING_EMAIL)  # expired?
            self._require_possible(self._choices(account.instances))
            if self._child is not None:  # signed in instead of finishing the sign-up
                child, self._child = self._child, None
                await cancel_child(child)
            self._attach(account)
        return self._state()

    @sign_in.validator
    def _validate_sign_in(self, input: SignInInput) -> None:
        self._require_step(Status.AWAITING_ACCOUNT, Status.VERIFYING_EMAIL)

    @workflow.update
    async def create_account(self, input: CreateAccountInput) -> ActivationState:
        products = ", ".join(dict.fromkeys(item.product_name for item in self._items))
        about = f"{self._input.company_name}: {products}"
        start = self._input.verification.start(input.email, SIGNUP_PURPOSE, input.locale, about)
        async with self._turns.take(lambda: self._validate_create_account(input)):
            # Ending this flow (expiry, cancel) cancels the sign-up's link too.
            self._child = await start_child_flow(
                EmailVerificationWorkflow.run,
                start,
                flow_id=input.verification_flow_id,
                kind=verification.FLOW_KIND,
                status=verification.VerificationStatus.PENDING.value,
                summary=verification_summary(start),
            )
            self._problem = None
            self._refresh()
        return self._state()

    @create_account.validator
    def _validate_create_account(self, input: CreateAccountInput) -> None:
        self._require_step(Status.AWAITING_ACCOUNT)
        if not input.sign_in_allowed:  # a new Business has no instance for an add-on yet
            self._require_possible(self._choices([]))

    @workflow.update
    async def accept_agreements(self, input: AcceptAgreementsInput) -> ActivationState:
        async with self._turns.take(lambda: self._validate_accept_agreements(input)):
            account = self._account
            if account is None:  # cannot happen past the step check; narrows the type
                raise ApplicationError("sign in first", type=ActivationError.WRONG_STEP)
            accepted_at = workflow.now()
            agreements = [self._required(ref.id) for ref in input.agreements]
            await run_step(
                LicenseActivationActivities.record_acceptances,
                RecordAcceptancesInput(
                    order_id=self._input.order_id,
                    account_id=account.account_id,
                    agreements=agreements,
                    client_address=input.client_address,
                    user_agent=input.user_agent,
                    accepted_at=accepted_at,
                ),
            )
            self._require_step(Status.AWAITING_AGREEMENTS)  # expired meanwhile?
            self._accepted = agreements
            self._refresh()
        return self._state()

    @accept_agreements.validator
    def _validate_accept_agreements(self, input: AcceptAgreementsInput) -> None:
        self._require_step(Status.AWAITING_AGREEMENTS)
        problems = agreement_problems(self._input.required_agreements, input.agreements)
        if problems:
            raise ApplicationError(
                "the required agreements were not all accepted in their current version",
                problems,
                type=ActivationError.AGREEMENTS_INVALID,
            )

    @workflow.update
    def choose_instance(self, input: ChooseInstanceInput) -> ActivationState:
        license_id = input.license_id or self._awaiting_choice()[0]
        for item in self._items:
            if item.license_id == license_id:
                item.instance_id = input.instance_id
        self._refresh()
        return self._state()

    @choose_instance.validator
    def _validate_choose_instance(self, input: ChooseInstanceInput) -> None:
        self._require_step(Status.AWAITING_AGREEMENTS, Status.AWAITING_INSTANCE_CHOICE)
        awaiting = self._awaiting_choice()
        if not awaiting:
            raise ApplicationError(
                "no add-on of this order waits for an instance", type=ActivationError.WRONG_STEP
            )
        if input.license_id is None and len(awaiting) > 1:
            problem = "several add-ons wait for an instance: name the license_id"
        elif input.license_id is not None and input.license_id not in awaiting:
            problem = "that license is not an add-on waiting for an instance"
        elif input.instance_id not in {choice.instance_id for choice in self._instance_choices()}:
            problem = "that instance is not one of the Business's instances"
        else:
            return
        raise ApplicationError(problem, type=ActivationError.INSTANCE_CHOICE_INVALID)

    cancel = cancel_update(ActivationState)  # the order withdrawn; its links stop working
    state = state_query(ActivationState)


def summary(input: StartActivationInput) -> str:
    """The one line an operator reads in the Temporal UI."""
    products = ", ".join(sorted({item.product_code for item in input.items}))
    order = input.reference or input.order_id[:8]
    return (
        f"License activation of order {order} for {input.company_name} "
        f"({mask_email(input.contact_email)}): {products}"
    )


# Starts the order's flow (or joins it: one flow per order) once its rows are written.
start = FlowStart(
    LicenseActivationWorkflow.run,
    LicenseActivationWorkflow.describe,
    FLOW_KIND,
    Status.AWAITING_ACCOUNT,
    summary,
    lambda input: flow_id_of(input.order_id),
)
