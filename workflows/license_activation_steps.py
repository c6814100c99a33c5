"""The steps of the license-activation flow behind its updates (docs/flows/license-activation.md):
finishing a sign-up, provisioning with compensation, closing the order, mailing the link, and the
state the flow publishes. Plain methods (no handlers), mixed into `LicenseActivationWorkflow`.
"""

from __future__ import annotations

import asyncio
import dataclasses
from datetime import datetime
from datetime import timedelta
from typing import Any

from temporalio import workflow
from temporalio.exceptions import ApplicationError
from temporalio.exceptions import ChildWorkflowError
from temporalio.exceptions import WorkflowAlreadyStartedError

with workflow.unsafe.imports_passed_through():
    from activities.license_activation import LicenseActivationActivities
    from models.contracts import email_verification as verification
    from models.contracts.license_activation import CLOSED
    from models.contracts.license_activation import WAITING_FOR_CUSTOMER
    from models.contracts.license_activation import AccountInfo
    from models.contracts.license_activation import ActivationState
    from models.contracts.license_activation import ActivationStatus
    from models.contracts.license_activation import AgreementRef
    from models.contracts.license_activation import CloseOrderInput
    from models.contracts.license_activation import CreatePrimaryAccountInput
    from models.contracts.license_activation import FindAccountInput
    from models.contracts.license_activation import InstanceChoice
    from models.contracts.license_activation import LicenseItem
    from models.contracts.license_activation import MatchLicensesInput
    from models.contracts.license_activation import ProvisionInput
    from models.contracts.license_activation import SendActivationLinkInput
    from models.contracts.license_activation import SendConfirmationInput
    from models.contracts.license_activation import StartActivationInput
    from models.contracts.license_activation import awaiting_choice
    from models.contracts.license_activation import instance_choices
    from models.contracts.license_lifecycle import FLOW_KIND as LIFECYCLE_KIND
    from models.contracts.license_lifecycle import LifecycleInput
    from models.contracts.license_lifecycle import LifecycleStatus
    from models.contracts.license_lifecycle import flow_id_of as lifecycle_flow_id
    from models.errors import ActivationError
    from workflows.flow_start import cancel_child
    from workflows.flow_start import start_child_flow
    from workflows.kit import Published
    from workflows.kit import Turns
    from workflows.kit import refused
    from workflows.kit import run_step
    from workflows.kit import run_with_compensation
    from workflows.kit import send_mail
    from workflows.kit import state_of
    from workflows.license_lifecycle import LicenseLifecycleWorkflow
    from workflows.license_lifecycle import summary as lifecycle_summary
    from workflows.license_lifecycle import tell_lifecycle
    from workflows.search_attributes import BUSINESS_ID

Status = ActivationStatus
Steps = LicenseActivationActivities
# Flows started before this change create an account after the verification; newer ones first
# look for a primary account with the address (the customer's pages sign it in that way).
SIGNUP_SIGNS_IN = "signup-signs-in-existing-primary"
LICENSE_LIFECYCLES = "license-lifecycles"
RENEWALS = "renewals-and-trial-conversions"
# Flows started before this change offered an instance to an add-on that a renewal in the same
# order would never create.
RENEWALS_KEEP_INSTANCES = "renewal-offers-no-new-instance"
# How long the confirmation mail is retried (the licenses are active either way).
CONFIRMATION_DEADLINE = timedelta(days=1)
# A provisioning step still failing after this long has failed for good: undo and report.
PROVISION_DEADLINE = timedelta(hours=1)


class ActivationSteps(Published[Status, ActivationState]):
    """The flow's state (set up by the workflow's __init__) and the steps that change it."""

    _input: StartActivationInput
    _items: list[LicenseItem]
    _status: ActivationStatus
    _recorded: bool
    _expires_at: datetime
    _link_number: int
    _account: AccountInfo | None
    _accepted: list[AgreementRef]
    _child: workflow.ChildWorkflowHandle[Any, verification.VerificationState] | None
    _turns: Turns
    _problem: str | None
    _activated_at: datetime | None
    _renewals_keep_instances: bool

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
                account: AccountInfo | None = None
                # The address is proven: if it is a primary account already, that signs in.
                if workflow.patched(SIGNUP_SIGNS_IN):
                    find = FindAccountInput(outcome.email)
                    account = await run_step(Steps.find_primary_account, find)
                    self._require_possible(self._choices(account.instances if account else []))
                account = account or await run_step(
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

    async def _match_held_licenses(self) -> None:
        """A paid service license of a product the Business holds renews that license, or
        converts that trial, and keeps its instance (add-ons meant for the instance this order
        would have made go to it)."""
        held = await run_step(
            Steps.match_held_licenses,
            MatchLicensesInput(self._business_id(), self._input.region, self._items),
        )
        for item in self._items:
            if item.license_id not in held:
                continue
            item.replaces = held[item.license_id]
            planned, item.instance_id = item.instance_id, item.replaces.instance_id
            for addon in self._items:
                if addon.kind == "addon" and addon.instance_id == planned:
                    addon.instance_id = item.instance_id

    async def _start_lifecycles(self) -> None:
        """Each activated license's lifecycle (reminders, expiry): a child that outlives this
        flow, found by operators as `license-lifecycle`. A renewal tells the lifecycle of the
        license it renewed (or starts it again, if it had expired); a conversion tells the
        trial's, which ends."""
        for item in self._items:
            held = item.replaces
            lifecycle = self._lifecycle_of(item)
            if held is not None and held.renewal:
                renewed = dataclasses.replace(
                    lifecycle,
                    license_id=held.license_id,
                    expires_on=max(held.expires_on, item.expires_on),
                )
                await self._watch(renewed, running=held.status == "active")
                continue
            if held is not None:
                await tell_lifecycle(held.license_id)
            await self._watch(lifecycle, running=False)

    def _lifecycle_of(self, item: LicenseItem) -> LifecycleInput:
        return LifecycleInput(
            license_id=item.license_id,
            business_id=self._business_id(),
            product_name=item.product_name,
            kind=item.kind,
            amount=item.credits if item.kind == "credits" else item.units,
            expires_on=item.expires_on,
            reminder_days=self._input.license_reminder_days,
            trial=item.trial,
        )

    async def _watch(self, lifecycle: LifecycleInput, *, running: bool) -> None:
        """Start the license's lifecycle, or tell the one that runs already."""
        if running and await tell_lifecycle(lifecycle.license_id):
            return
        try:
            await start_child_flow(
                LicenseLifecycleWorkflow.run,
                lifecycle,
                flow_id=lifecycle_flow_id(lifecycle.license_id),
                kind=LIFECYCLE_KIND,
                status=LifecycleStatus.ACTIVE.value,
                summary=lifecycle_summary(lifecycle),
                business_id=lifecycle.business_id,
                outlives_parent=True,
            )
        except WorkflowAlreadyStartedError:  # still ending its last term: it reads the change
            await tell_lifecycle(lifecycle.license_id)

    async def _provision(self) -> None:
        steps: list[tuple[Any, Any]] = [
            (Steps.create_instances, Steps.delete_instances),
            (Steps.add_credits, Steps.remove_credits),
            (Steps.assign_addons, Steps.unassign_addons),
        ]
        # Flows started before renewals provision every service license a new instance.
        if workflow.patched(RENEWALS):
            await self._match_held_licenses()
            steps.insert(1, (Steps.take_over_held_licenses, Steps.give_back_held_licenses))
        provision = ProvisionInput(
            self._input.order_id, self._business_id(), self._input.region, self._items
        )
        failure = await run_with_compensation(steps, provision, deadline=PROVISION_DEADLINE)
        if failure is not None:
            self._problem = f"provisioning failed and was undone: {failure.message}"
            await self._close(Status.FAILED)
            return
        self._activated_at = workflow.now()
        await self._close(Status.ACTIVATED)
        # Flows activated before lifecycles existed replay without starting them.
        if workflow.patched(LICENSE_LIFECYCLES):
            await self._start_lifecycles()
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
            await cancel_child(child)
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
        if status == self._status:  # the same status: the state alone is published
            self._publish()
            return
        super()._set_status(status)

    def _choices(self, existing: list[InstanceChoice]) -> list[InstanceChoice]:
        return instance_choices(
            self._items,
            existing,
            self._input.region,
            renewals_keep_instances=self._renewals_keep_instances,
        )

    def _instance_choices(self) -> list[InstanceChoice]:
        return self._choices(self._account.instances if self._account else [])

    def _awaiting_choice(self) -> list[str]:
        return awaiting_choice(self._items)

    def _require_possible(self, choices: list[InstanceChoice]) -> None:
        """What the Business must have (an instance for an add-on) or not (the product, for a
        trial) to take this order."""
        if any(item.kind == "addon" for item in self._items) and not choices:
            raise ApplicationError(
                "an add-on needs an existing product instance, and this Business has none",
                type=ActivationError.NO_INSTANCE_FOR_ADDON,
            )
        held = {choice.product_code for choice in choices if not choice.new}
        if any(item.trial and item.product_code in held for item in self._items):
            raise ApplicationError(
                "this Business has the product already; a trial is for trying a product first",
                type=ActivationError.TRIAL_NOT_AVAILABLE,
            )

    def _require_waiting(self) -> None:
        if self._status not in WAITING_FOR_CUSTOMER:
            raise refused(CLOSED[self._status])

    _require_cancellable = _require_waiting

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
        account = self._account
        return state_of(
            ActivationState,
            self,
            id=workflow.info().workflow_id,
            accepted_agreements=self._accepted,
            link_expires_at=self._expires_at,
            business_id=account.business_id if account else None,
            account_id=account.account_id if account else None,
            account_email=account.email if account else None,
            verification_id=self._child.id if self._child is not None else None,
            instance_choices=self._instance_choices() if waiting_for_choice else [],
            licenses_awaiting_choice=self._awaiting_choice() if waiting_for_choice else [],
        )
