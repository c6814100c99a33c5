"""License activation: an order's Activation Link is emailed; the customer signs in (or creates an
account through a child email verification), accepts the required agreements and, for an add-on,
picks an instance; then provisioning runs, each step undone if a later one fails for good. The
link lapses after 30 days (reminders before).

See docs/flows/license-activation.md.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

from temporalio import workflow
from temporalio.client import Client
from temporalio.common import (
    SearchAttributePair,
    TypedSearchAttributes,
    WorkflowIDReusePolicy,
)
from temporalio.exceptions import ApplicationError, ChildWorkflowError

with workflow.unsafe.imports_passed_through():
    from activities.license_activation import LicenseActivationActivities
    from core.tokens import mask_email
    from models import email_verification as verification
    from models.license_activation import (
        CLOSED,
        FLOW_KIND,
        WAITING_FOR_CUSTOMER,
        AcceptAgreementsInput,
        AccountInfo,
        ActivationError,
        ActivationState,
        ActivationStatus,
        AgreementRef,
        ChooseInstanceInput,
        CloseOrderInput,
        CreateAccountInput,
        CreatePrimaryAccountInput,
        InstanceChoice,
        ProvisionInput,
        RecordAcceptancesInput,
        RecordOrderInput,
        SendActivationLinkInput,
        SendConfirmationInput,
        SignInInput,
        StartActivationInput,
        flow_id_of,
    )
    from workflows.email_verification import EmailVerificationWorkflow
    from workflows.email_verification import summary as verification_summary
    from workflows.kit import (
        Turns,
        publish,
        publish_status,
        refused,
        run_step,
        send_mail,
        start_flow,
        wait_until_recorded,
    )
    from workflows.search_attributes import ACTIVATION_FLOW, ACTIVATION_STATUS, BUSINESS_ID

Status = ActivationStatus
SIGNUP_PURPOSE = "activation"
# How long the confirmation mail is retried (the licenses are active either way).
CONFIRMATION_DEADLINE = timedelta(days=1)
# A provisioning step still failing after this long has failed for good: undo and report.
PROVISION_DEADLINE = timedelta(hours=1)


# Named explicitly: running flows and saved histories know this name, whatever the class is called.
@workflow.defn(name="LicenseActivationWorkflow")
class LicenseActivationWorkflow:
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
            self._require_instance_for_addons(self._choices(account.instances))
            if self._child is not None:  # signed in instead of finishing the sign-up
                child, self._child = self._child, None
                await _cancel(child)
            self._attach(account)
        return self._state()

    @sign_in.validator
    def _validate_sign_in(self, input: SignInInput) -> None:
        self._require_step(Status.AWAITING_ACCOUNT, Status.VERIFYING_EMAIL)

    @workflow.update
    async def create_account(self, input: CreateAccountInput) -> ActivationState:
        policy = self._input.verification
        start = verification.StartVerificationInput(
            email=input.email,
            purpose=SIGNUP_PURPOSE,
            locale=input.locale,
            expiry_seconds=policy.expiry_seconds,
            resend_cooldown_seconds=policy.resend_cooldown_seconds,
            max_resends=policy.max_resends,
            max_attempts=policy.max_attempts,
        )
        async with self._turns.take(lambda: self._validate_create_account(input)):
            self._child = await workflow.start_child_workflow(
                EmailVerificationWorkflow.run,
                start,
                id=input.verification_flow_id,
                # Ending this flow (expiry, cancel) cancels the sign-up's link too.
                parent_close_policy=workflow.ParentClosePolicy.REQUEST_CANCEL,
                search_attributes=TypedSearchAttributes(
                    [
                        SearchAttributePair(ACTIVATION_FLOW, verification.FLOW_KIND),
                        SearchAttributePair(
                            ACTIVATION_STATUS, verification.VerificationStatus.PENDING.value
                        ),
                    ]
                ),
                static_summary=verification_summary(start),
            )
            self._problem = None
            self._refresh()
        return self._state()

    @create_account.validator
    def _validate_create_account(self, input: CreateAccountInput) -> None:
        self._require_step(Status.AWAITING_ACCOUNT)
        self._require_instance_for_addons(self._choices([]))  # a new Business has none yet

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

    @workflow.update
    def cancel(self) -> ActivationState:
        """Withdraw the order (operators); its links stop working."""
        self._set_status(Status.CANCELLED)
        return self._state()

    @cancel.validator
    def _validate_cancel(self) -> None:
        self._require_waiting()

    @workflow.query
    def state(self) -> ActivationState:
        return self._state()

    # -- sign-up, provisioning, closing ---------------------------------------------------------

    async def _finish_signup(self, child: workflow.ChildWorkflowHandle[Any, Any]) -> None:
        self._child = None
        try:
            outcome: verification.VerificationState | None = child.result()
        except (ChildWorkflowError, asyncio.CancelledError):
            outcome = None
        if outcome is None or outcome.status != verification.VerificationStatus.VERIFIED:
            ended = outcome.status.value if outcome else "failed"
            self._problem = f"the email verification ended as {ended}; start it again"
            self._refresh()
            return
        try:
            async with self._turns.take(lambda: None):  # the customer's actions wait meanwhile
                account = await run_step(
                    LicenseActivationActivities.create_primary_account,
                    CreatePrimaryAccountInput(
                        business_id=str(workflow.uuid4()),
                        account_id=str(workflow.uuid4()),
                        company_name=self._input.company_name,
                        region=self._input.region,
                        email=outcome.email,
                    ),
                )
                if self._status in WAITING_FOR_CUSTOMER:
                    self._attach(account)
        except ApplicationError as err:  # the address owns a Business already
            self._problem = err.message
            self._refresh()

    async def _provision(self) -> None:
        provision = ProvisionInput(
            self._input.order_id, self._business_id(), self._input.region, self._items
        )
        steps = (
            (
                LicenseActivationActivities.create_instances,
                LicenseActivationActivities.delete_instances,
            ),
            (LicenseActivationActivities.add_credits, LicenseActivationActivities.remove_credits),
            (
                LicenseActivationActivities.assign_addons,
                LicenseActivationActivities.unassign_addons,
            ),
        )
        undo: list[Callable[[LicenseActivationActivities, ProvisionInput], Awaitable[None]]] = []
        try:
            for step, compensation in steps:
                # Registered first: a step that timed out may still have committed.
                undo.append(compensation)
                await run_step(step, provision, deadline=PROVISION_DEADLINE)
        except ApplicationError as err:
            workflow.logger.warning("provisioning failed, undoing it: %s", err.message)
            for undo_step in reversed(undo):
                await run_step(undo_step, provision)
            self._problem = f"provisioning failed and was undone: {err.message}"
            await self._close(Status.FAILED)
            return
        self._activated_at = workflow.now()
        await self._close(Status.ACTIVATED)
        await send_mail(  # the licenses are active; a lost confirmation stays visible
            LicenseActivationActivities.send_confirmation,
            SendConfirmationInput(
                self._input.order_id,
                self._account_email(),
                self._input.company_name,
                self._input.locale,
                self._items,
            ),
            details="Activated; the confirmation email could not be sent.",
            deadline=CONFIRMATION_DEADLINE,
        )

    async def _close(self, status: Status) -> None:
        if self._child is not None:
            child, self._child = self._child, None
            await _cancel(child)
        await run_step(
            LicenseActivationActivities.close_order,
            CloseOrderInput(
                order_id=self._input.order_id,
                status=status.value,
                business_id=self._account.business_id if self._account else None,
                at=workflow.now(),
            ),
        )
        self._set_status(status)

    async def _send_link(self, *, reminder: bool) -> None:
        self._link_number += 1
        await send_mail(
            LicenseActivationActivities.send_link,
            SendActivationLinkInput(
                order_id=self._input.order_id,
                link_number=self._link_number,
                to=self._input.contact_email,
                company_name=self._input.company_name,
                locale=self._input.locale,
                items=self._items,
                expires_at=self._expires_at,
                reminder=reminder,
            ),
            details=f"Activation Link {self._link_number} was not sent.",
            deadline=self._expires_at - workflow.now(),
        )

    # -- state ----------------------------------------------------------------------------------

    def _attach(self, account: AccountInfo) -> None:
        self._account = account
        self._problem = None
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
        elif self._awaiting_choice():
            step = Status.AWAITING_INSTANCE_CHOICE
        else:
            step = Status.PROVISIONING
        self._set_status(step)

    def _set_status(self, status: Status) -> None:
        if status == self._status:
            publish(self._state())
            return
        self._status = status
        publish_status(status.value, self._state())

    def _publish(self) -> None:
        publish(self._state())

    def _choices(self, existing: list[InstanceChoice]) -> list[InstanceChoice]:
        created = [
            InstanceChoice(
                item.instance_id or "", item.product_code, self._input.region, None, True
            )
            for item in self._items
            if item.kind == "service"
        ]
        return existing + created

    def _instance_choices(self) -> list[InstanceChoice]:
        return self._choices(self._account.instances if self._account else [])

    def _awaiting_choice(self) -> list[str]:
        return [
            item.license_id
            for item in self._items
            if item.kind == "addon" and item.instance_id is None
        ]

    def _require_instance_for_addons(self, choices: list[InstanceChoice]) -> None:
        if any(item.kind == "addon" for item in self._items) and not choices:
            raise ApplicationError(
                "an add-on needs an existing product instance, and this Business has none",
                type=ActivationError.NO_INSTANCE_FOR_ADDON,
            )

    def _require_waiting(self) -> None:
        if self._status not in WAITING_FOR_CUSTOMER:
            raise refused(CLOSED[self._status])

    def _require_step(self, *steps: Status) -> None:
        self._require_waiting()
        if self._status not in steps:
            raise ApplicationError(
                f"not possible while the activation is {self._status.value}",
                type=ActivationError.WRONG_STEP,
            )

    def _required(self, agreement_id: str) -> AgreementRef:
        return next(a for a in self._input.required_agreements if a.id == agreement_id)

    def _business_id(self) -> str:
        return self._account.business_id if self._account else ""

    def _account_email(self) -> str:
        return self._account.email if self._account else self._input.contact_email

    def _state(self) -> ActivationState:
        waiting_for_choice = self._account is not None and bool(self._awaiting_choice())
        return ActivationState(
            id=workflow.info().workflow_id,
            order_id=self._input.order_id,
            status=self._status,
            company_name=self._input.company_name,
            region=self._input.region,
            contact_email=self._input.contact_email,
            items=self._items,
            required_agreements=self._input.required_agreements,
            accepted_agreements=self._accepted,
            link_expires_at=self._expires_at,
            business_id=self._account.business_id if self._account else None,
            account_id=self._account.account_id if self._account else None,
            account_email=self._account.email if self._account else None,
            verification_id=self._child.id if self._child is not None else None,
            instance_choices=self._instance_choices() if waiting_for_choice else [],
            licenses_awaiting_choice=self._awaiting_choice() if waiting_for_choice else [],
            problem=self._problem,
            activated_at=self._activated_at,
        )


async def _cancel(child: workflow.ChildWorkflowHandle[Any, Any]) -> None:
    """Cancel a child verification and wait for it to close (it records itself as cancelled)."""
    if child.done():
        return
    child.cancel()
    try:
        await child
    except (ChildWorkflowError, asyncio.CancelledError):
        pass


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


def summary(input: StartActivationInput) -> str:
    """The one line an operator reads in the Temporal UI."""
    products = ", ".join(sorted({item.product_code for item in input.items}))
    order = input.reference or input.order_id[:8]
    return (
        f"License activation of order {order} for {input.company_name} "
        f"({mask_email(input.contact_email)}): {products}"
    )


async def start(client: Client, input: StartActivationInput, *, task_queue: str) -> ActivationState:
    """Start the order's flow (or join it: one flow per order) once its rows are written."""
    return await start_flow(
        client,
        LicenseActivationWorkflow.run,
        LicenseActivationWorkflow.describe,
        input,
        flow_id=flow_id_of(input.order_id),
        task_queue=task_queue,
        kind=FLOW_KIND,
        status=Status.AWAITING_ACCOUNT.value,
        summary=summary(input),
        reuse=WorkflowIDReusePolicy.REJECT_DUPLICATE,
    )
