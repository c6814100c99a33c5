"""What a license activation does with its order (docs/flows/license-activation.md), apart from
waiting for the customer: mail its Activation Link; once the customer has done their part,
provision it (renewing or converting what the Business holds, one instance per other service
license, credits, add-ons), each step undone if a later one fails for good; then start each
activated license's lifecycle and mail the confirmation. Functions of the order, called by
`LicenseActivationWorkflow`."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from datetime import datetime
from datetime import timedelta
from typing import Any

from temporalio import workflow
from temporalio.exceptions import ApplicationError
from temporalio.exceptions import WorkflowAlreadyStartedError

with workflow.unsafe.imports_passed_through():
    from activities.license_activation import LicenseActivationActivities as Steps
    from models.contracts.license_activation import AccountInfo
    from models.contracts.license_activation import CreatePrimaryAccountInput
    from models.contracts.license_activation import FindAccountInput
    from models.contracts.license_activation import InstanceChoice
    from models.contracts.license_activation import LicenseItem
    from models.contracts.license_activation import MatchLicensesInput
    from models.contracts.license_activation import ProvisionInput
    from models.contracts.license_activation import SendActivationLinkInput
    from models.contracts.license_activation import SendConfirmationInput
    from models.contracts.license_activation import StartActivationInput
    from models.contracts.license_lifecycle import FLOW_KIND as LIFECYCLE_KIND
    from models.contracts.license_lifecycle import LifecycleInput
    from models.contracts.license_lifecycle import LifecycleStatus
    from models.contracts.license_lifecycle import flow_id_of as lifecycle_flow_id
    from workflows.changes import IN_PRODUCT
    from workflows.changes import RENEWALS
    from workflows.changes import SIGNUP_SIGNS_IN
    from workflows.changes import taken
    from workflows.children import start_child_flow
    from workflows.in_product import InProduct
    from workflows.license_lifecycle import LicenseLifecycleWorkflow
    from workflows.license_lifecycle import summary as lifecycle_summary
    from workflows.license_lifecycle import tell_lifecycle
    from workflows.steps import Step
    from workflows.steps import Undo
    from workflows.steps import report_problem
    from workflows.steps import run_step
    from workflows.steps import run_undoable
    from workflows.steps import send_mail
    from workflows.steps import undo_after

# A provisioning step still failing after this long has failed for good: undo and report.
PROVISION_DEADLINE = timedelta(hours=1)
# How long the confirmation mail is retried (the licenses are active either way).
CONFIRMATION_DEADLINE = timedelta(days=1)


async def mail_activation_link(
    order: StartActivationInput,
    items: list[LicenseItem],
    number: int,
    expires_at: datetime,
    *,
    reminder: bool,
) -> None:
    """The order's Activation Link (its `number`th mail), by the link's expiry."""
    await send_mail(
        Steps.send_link,
        SendActivationLinkInput(
            order_id=order.order_id,
            link_number=number,
            to=order.contact_email,
            company_name=order.company_name,
            locale=order.locale,
            items=items,
            expires_at=expires_at,
            reminder=reminder,
        ),
        details=f"Activation Link {number} was not sent.",
        deadline=expires_at - workflow.now(),
    )


async def mail_confirmation(order: StartActivationInput, items: list[LicenseItem], to: str) -> None:
    """The licenses are active; a confirmation that cannot be sent stays visible to operators."""
    await send_mail(
        Steps.send_confirmation,
        SendConfirmationInput(order.order_id, to, order.company_name, order.locale, items),
        details="Activated; the confirmation email could not be sent.",
        deadline=CONFIRMATION_DEADLINE,
    )


async def account_of_proven_address(
    order: StartActivationInput, email: str, possible: Callable[[list[InstanceChoice]], None]
) -> AccountInfo:
    """A sign-up's address is proven: the primary account it is already (if the order is
    `possible` for that account's Business, which may refuse), else a new Business and its
    primary account."""
    account = None
    if taken(SIGNUP_SIGNS_IN):
        account = await run_step(Steps.find_primary_account, FindAccountInput(email))
        possible(account.instances if account else [])
    if account is None:
        account = await run_step(
            Steps.create_primary_account,
            CreatePrimaryAccountInput(
                business_id=str(workflow.uuid4()),
                account_id=str(workflow.uuid4()),
                company_name=order.company_name,
                region=order.region,
                email=email,
            ),
        )
    return account


async def provision(
    order: StartActivationInput, items: list[LicenseItem], business_id: str, in_product: InProduct
) -> ApplicationError | None:
    """Provision the order for the Business: our rows, then the vendor's product; a step
    failing for good undoes the steps before it and is returned (None: all done). `items`
    learn what they renew, where they go and where their console is."""
    steps: list[tuple[Step[ProvisionInput, Any], Step[ProvisionInput, Any]]] = [
        (Steps.create_instances, Steps.delete_instances),
        (Steps.add_credits, Steps.remove_credits),
        (Steps.assign_addons, Steps.unassign_addons),
    ]
    if taken(RENEWALS):
        await _match_held_licenses(items, business_id, order.region)
        steps.insert(1, (Steps.take_over_held_licenses, Steps.give_back_held_licenses))
    work = ProvisionInput(order.order_id, business_id, order.region, items)
    undo = Undo()
    failure = await run_undoable(steps, work, undo, deadline=PROVISION_DEADLINE)
    if failure is None and taken(IN_PRODUCT):
        failure = await in_product.provision(work, undo, deadline=PROVISION_DEADLINE)
    if failure is not None:
        await undo_after(failure, undo)
        if taken(IN_PRODUCT):  # operators find it by its cause (older flows did not)
            report_problem(failure.type or "provisioning_failed")
    return failure


async def _match_held_licenses(items: list[LicenseItem], business_id: str, region: str) -> None:
    """A paid service license of a product the Business holds renews that license, or converts
    that trial, and keeps its instance (add-ons meant for the instance this order would have
    made go to it)."""
    held = await run_step(Steps.match_held_licenses, MatchLicensesInput(business_id, region, items))
    for item in items:
        if item.license_id not in held:
            continue
        item.replaces = held[item.license_id]
        planned, item.instance_id = item.instance_id, item.replaces.instance_id
        for addon in items:
            if addon.kind == "addon" and addon.instance_id == planned:
                addon.instance_id = item.instance_id


async def start_lifecycles(
    items: list[LicenseItem], business_id: str, reminder_days: list[int]
) -> None:
    """Each activated license's lifecycle (reminders, expiry): a child that outlives the
    activation, found by operators as `license-lifecycle`. A renewal tells the lifecycle of the
    license it renewed (or starts it again, if it had expired); a conversion tells the trial's,
    which ends."""
    for item in items:
        held = item.replaces
        lifecycle = LifecycleInput(
            license_id=item.license_id,
            business_id=business_id,
            product_name=item.product_name,
            kind=item.kind,
            amount=item.credits if item.kind == "credits" else item.units,
            expires_on=item.expires_on,
            reminder_days=reminder_days,
            trial=item.trial,
        )
        if held is not None and held.renewal:
            renewed = dataclasses.replace(
                lifecycle,
                license_id=held.license_id,
                expires_on=max(held.expires_on, item.expires_on),
            )
            await _watch(renewed, running=held.status == "active")
            continue
        if held is not None:
            await tell_lifecycle(held.license_id)
        await _watch(lifecycle, running=False)


async def _watch(lifecycle: LifecycleInput, *, running: bool) -> None:
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
