"""License activation: an order's Activation Link is emailed; the customer signs in (or creates an
account through a child email verification), accepts the required agreements and, for an add-on,
picks an instance; then provisioning runs, each step undone if a later one fails for good
(`workflows/license_order.py`). The link lapses after 30 days (reminders before).

See docs/flows/license-activation.md.
"""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import datetime
from datetime import timedelta
from typing import Any

from temporalio import workflow
from temporalio.exceptions import ApplicationError
from temporalio.exceptions import ChildWorkflowError

with workflow.unsafe.imports_passed_through():
    from activities.license_activation import LicenseActivationActivities as Steps
    from models.contracts import email_verification as verification
    from models.contracts.license_activation import CLOSED
    from models.contracts.license_activation import SIGNUP_PURPOSE
    from models.contracts.license_activation import WAITING_FOR_CUSTOMER
    from models.contracts.license_activation import WORKFLOW
    from models.contracts.license_activation import AcceptAgreementsInput
    from models.contracts.license_activation import AccountInfo
    from models.contracts.license_activation import ActivationState
    from models.contracts.license_activation import ActivationStatus
    from models.contracts.license_activation import AgreementRef
    from models.contracts.license_activation import ChooseInstanceInput
    from models.contracts.license_activation import CloseOrderInput
    from models.contracts.license_activation import CreateAccountInput
    from models.contracts.license_activation import InstanceChoice
    from models.contracts.license_activation import RecordAcceptancesInput
    from models.contracts.license_activation import RecordOrderInput
    from models.contracts.license_activation import SignInInput
    from models.contracts.license_activation import StartActivationInput
    from models.contracts.license_rules import agreement_problems
    from models.contracts.license_rules import awaiting_choice
    from models.contracts.license_rules import instance_choices
    from models.contracts.license_rules import require_choice_possible
    from models.contracts.license_rules import require_possible
    from models.contracts.provisioning import InstanceAnswer
    from models.contracts.search_attributes import BUSINESS_ID
    from models.errors import ActivationError
    from models.errors import refuse
    from workflows.changes import BUSINESS_WITH_STATUS
    from workflows.changes import LICENSE_LIFECYCLES
    from workflows.changes import RENEWALS_KEEP_INSTANCES
    from workflows.changes import taken
    from workflows.children import cancel_child
    from workflows.children import start_child_flow
    from workflows.email_verification import EmailVerificationWorkflow
    from workflows.in_product import InProduct
    from workflows.license_order import account_of_proven_address
    from workflows.license_order import mail_activation_link
    from workflows.license_order import mail_confirmation
    from workflows.license_order import provision
    from workflows.license_order import start_lifecycles
    from workflows.publishing import publish
    from workflows.publishing import publish_status
    from workflows.recording import FirstRecord
    from workflows.steps import run_step
    from workflows.turns import Turns
    from workflows.waiting import Waited
    from workflows.waiting import reminder_times
    from workflows.waiting import wait_for_answer

Status = ActivationStatus


@workflow.defn(name=WORKFLOW)
class LicenseActivationWorkflow:
    @workflow.init
    def __init__(self, input: StartActivationInput) -> None:
        self._input = input
        self._items = [replace(item) for item in input.items]
        self._status = Status.AWAITING_ACCOUNT
        self._record = FirstRecord(ActivationError.ORDER_NOT_RECORDED, "order")
        self._expires_at = workflow.now() + timedelta(seconds=input.link_expiry_seconds)
        self._link_number = 0
        self._account: AccountInfo | None = None
        self._accepted: list[AgreementRef] = []
        self._child: workflow.ChildWorkflowHandle[Any, verification.VerificationState] | None = None
        self._turns = Turns()  # one action at a time runs its step; the others wait
        self._problem: str | None = None
        self._unproven_email: str | None = None  # a lapsed verification's: offered again
        self._activated_at: datetime | None = None
        self._renewals_keep_instances = taken(RENEWALS_KEEP_INSTANCES)
        self._in_product = InProduct(lambda: publish(self._state()))

    @workflow.run
    async def run(self, input: StartActivationInput) -> ActivationState:
        # 1. Record the order and mail its Activation Link.
        publish(self._state())
        await run_step(Steps.record_order, RecordOrderInput(input, self._expires_at))
        self._record.done()
        await self._send_link(reminder=False)
        # 2. Wait for the customer's steps (the handlers below), reminding before the link
        #    lapses; a finished sign-up is seen to as soon as no action holds the turn.
        reminders = reminder_times(self._expires_at, input.reminder_offsets_seconds)
        while True:
            waited = await wait_for_answer(
                lambda: self._status not in WAITING_FOR_CUSTOMER,
                lambda: self._expires_at,
                reminders=reminders,
                woken=self._signup_finished,
            )
            if waited is Waited.REMINDER_DUE:
                await self._send_link(reminder=True)
            elif waited is Waited.WOKEN and self._child is not None:
                await self._finish_signup(self._child)
            else:
                if waited is Waited.EXPIRED:
                    await self._close(Status.EXPIRED)
                break
        # 3. Provision (or close a withdrawn order).
        if self._status == Status.PROVISIONING:
            await self._provision()
        elif self._status == Status.CANCELLED:
            await self._close(Status.CANCELLED)
        await workflow.wait_condition(workflow.all_handlers_finished)
        return self._state()

    # -- handlers --------------------------------------------------------------------------------

    @workflow.update
    async def describe(self) -> ActivationState:
        """Sent with the start: answers once the order is recorded, so the caller can rely on it."""
        await self._record.answer()
        return self._state()

    @workflow.update
    async def sign_in(self, input: SignInInput) -> ActivationState:
        async with self._turns.take(lambda: self._validate_sign_in(input)):
            account = await run_step(Steps.load_account, input)
            self._require_step(Status.AWAITING_ACCOUNT, Status.VERIFYING_EMAIL)  # expired?
            require_possible(self._items, self._choices(account.instances))
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
        # The mail names the products by code, in its language (was English text: input only).
        codes = list(dict.fromkeys(item.product_code for item in self._items))
        policy, company = self._input.verification, self._input.company_name
        start = policy.start(input.email, SIGNUP_PURPOSE, input.locale, company, codes)
        async with self._turns.take(lambda: self._validate_create_account(input)):
            # Ending this flow (expiry, cancel) cancels the sign-up's link too.
            self._child = await start_child_flow(
                EmailVerificationWorkflow.run,
                start,
                flow_id=input.verification_flow_id,
                kind=verification.FLOW_KIND,
                status=verification.VerificationStatus.PENDING.value,
                summary=verification.summary(start),
            )
            self._problem = None
            self._refresh()
        return self._state()

    @create_account.validator
    def _validate_create_account(self, input: CreateAccountInput) -> None:
        self._require_step(Status.AWAITING_ACCOUNT)
        if not input.sign_in_allowed:  # a new Business has no instance for an add-on yet
            require_possible(self._items, self._choices([]))

    @workflow.update
    async def accept_agreements(self, input: AcceptAgreementsInput) -> ActivationState:
        async with self._turns.take(lambda: self._validate_accept_agreements(input)):
            account = self._account
            if account is None:  # cannot happen past the step check; narrows the type
                raise refuse(ActivationError.WRONG_STEP, "sign in first")
            accepted_at = workflow.now()
            agreements = [self._required(ref.id) for ref in input.agreements]
            await run_step(
                Steps.record_acceptances,
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
            raise refuse(
                ActivationError.AGREEMENTS_INVALID,
                "the required agreements were not all accepted in their current version",
                problems,
            )

    @workflow.update
    def choose_instance(self, input: ChooseInstanceInput) -> ActivationState:
        license_id = input.license_id or awaiting_choice(self._items)[0]
        for item in self._items:
            if item.license_id == license_id:
                item.instance_id = input.instance_id
        self._refresh()
        return self._state()

    @choose_instance.validator
    def _validate_choose_instance(self, input: ChooseInstanceInput) -> None:
        self._require_step(Status.AWAITING_AGREEMENTS, Status.AWAITING_INSTANCE_CHOICE)
        choices = [choice.instance_id for choice in self._instance_choices()]
        require_choice_possible(self._items, input, choices)

    @workflow.signal  # INSTANCE_ANSWERED
    def instance_answered(self, answer: InstanceAnswer) -> None:
        """The vendor's product called back about an instance it was setting up (signed; see
        api/routes/provisioning.py)."""
        self._in_product.answered(answer)

    @workflow.update
    async def cancel(self) -> ActivationState:
        """The order withdrawn: its links stop working (the run closes it)."""
        self._set_status(Status.CANCELLED)
        return self._state()

    @cancel.validator
    def _validate_cancel(self) -> None:
        self._require_waiting()

    @workflow.query
    def state(self) -> ActivationState:
        return self._state()

    # -- steps -----------------------------------------------------------------------------------

    def _signup_finished(self) -> bool:
        """A sign-up's verification has ended and no action holds the turn."""
        return self._child is not None and self._child.done() and not self._turns.busy

    async def _finish_signup(self, child: workflow.ChildWorkflowHandle[Any, Any]) -> None:
        self._child = None
        try:
            outcome: verification.VerificationState | None = child.result()
        except (ChildWorkflowError, asyncio.CancelledError):
            outcome = None
        if outcome is None or outcome.status != verification.VerificationStatus.VERIFIED:
            ended = outcome.status.value if outcome else "failed"
            self._unproven_email = outcome.email if outcome else None
            self._problem = f"the email verification ended as {ended}; start it again"
            self._refresh()
            return
        try:
            async with self._turns.take():  # the customer's actions wait meanwhile
                account = await account_of_proven_address(
                    self._input,
                    outcome.email,
                    lambda instances: require_possible(self._items, self._choices(instances)),
                )
                if self._status in WAITING_FOR_CUSTOMER:
                    self._attach(account)
        except ApplicationError as err:  # the address owns a Business already
            self._problem = err.message
            self._refresh()

    async def _provision(self) -> None:
        business_id = self._account.business_id if self._account else ""
        failure = await provision(self._input, self._items, business_id, self._in_product)
        if failure is not None:
            self._problem = f"provisioning failed and was undone: {failure.message}"
            await self._close(Status.FAILED, reason=failure.type)
            return
        self._activated_at = workflow.now()
        await self._close(Status.ACTIVATED)
        # Flows activated before lifecycles existed replay without starting them.
        if taken(LICENSE_LIFECYCLES):
            await start_lifecycles(self._items, business_id, self._input.license_reminder_days)
        to = self._account.email if self._account else self._input.contact_email
        await mail_confirmation(self._input, self._items, to)

    async def _close(self, status: Status, *, reason: str | None = None) -> None:
        if self._child is not None:
            child, self._child = self._child, None
            await cancel_child(child)
        await run_step(
            Steps.close_order,
            CloseOrderInput(
                order_id=self._input.order_id,
                status=status.value,
                business_id=self._account.business_id if self._account else None,
                at=workflow.now(),
                reason=reason,
            ),
        )
        self._set_status(status)

    async def _send_link(self, *, reminder: bool) -> None:
        self._link_number += 1
        await mail_activation_link(
            self._input, self._items, self._link_number, self._expires_at, reminder=reminder
        )

    # -- state -----------------------------------------------------------------------------------

    def _attach(self, account: AccountInfo) -> None:
        self._account = account
        self._problem = None
        if not taken(BUSINESS_WITH_STATUS):
            workflow.upsert_search_attributes([BUSINESS_ID.value_set(account.business_id)])
        choices = self._instance_choices()
        if len(choices) == 1:  # the only instance there is: no question to ask
            for item in self._items:
                if item.kind == "addon":
                    item.instance_id = choices[0].instance_id
        self._refresh()

    def _refresh(self) -> None:
        """Move to the first step still missing (the customer may act in any order)."""
        if self._account is None:
            step = Status.VERIFYING_EMAIL if self._child is not None else Status.AWAITING_ACCOUNT
        elif not self._accepted:
            step = Status.AWAITING_AGREEMENTS
        elif awaiting_choice(self._items):
            step = Status.AWAITING_INSTANCE_CHOICE
        else:
            step = Status.PROVISIONING
        self._set_status(step)

    def _set_status(self, status: Status) -> None:
        if status == self._status:  # the same status: the state alone is published
            publish(self._state())
            return
        self._status = status
        # The Business, once known, goes with each status: one upsert (Action) for both.
        business = [BUSINESS_ID.value_set(self._account.business_id)] if self._account else []
        publish_status(status.value, self._state(), business if taken(BUSINESS_WITH_STATUS) else [])

    def _choices(self, existing: list[InstanceChoice]) -> list[InstanceChoice]:
        return instance_choices(
            self._items,
            existing,
            self._input.region,
            renewals_keep_instances=self._renewals_keep_instances,
        )

    def _instance_choices(self) -> list[InstanceChoice]:
        return self._choices(self._account.instances if self._account else [])

    def _require_waiting(self) -> None:
        if self._status not in WAITING_FOR_CUSTOMER:
            raise refuse(CLOSED[self._status])

    def _require_step(self, *steps: Status) -> None:
        self._require_waiting()
        if self._status not in steps:
            raise refuse(
                ActivationError.WRONG_STEP,
                f"not possible while the activation is {self._status.value}",
            )

    def _required(self, agreement_id: str) -> AgreementRef:
        return next(a for a in self._input.required_agreements if a.id == agreement_id)

    def _state(self) -> ActivationState:
        account = self._account
        waiting_for_choice = account is not None and bool(awaiting_choice(self._items))
        input = self._input
        return ActivationState(
            id=workflow.info().workflow_id,
            order_id=input.order_id,
            status=self._status,
            company_name=input.company_name,
            region=input.region,
            contact_email=input.contact_email,
            items=self._items,
            required_agreements=input.required_agreements,
            accepted_agreements=self._accepted,
            link_expires_at=self._expires_at,
            business_id=account.business_id if account else None,
            account_id=account.account_id if account else None,
            account_email=account.email if account else None,
            verification_id=self._child.id if self._child is not None else None,
            instance_choices=self._instance_choices() if waiting_for_choice else [],
            licenses_awaiting_choice=awaiting_choice(self._items) if waiting_for_choice else [],
            problem=self._problem,
            unproven_email=self._unproven_email,
            setting_up=self._in_product.setting_up,
            activated_at=self._activated_at,
            locale=input.locale,
        )
