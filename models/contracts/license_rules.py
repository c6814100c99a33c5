"""The rules a license activation applies to its order, as plain functions of its items (the
workflow, its validators and the API's pages apply them alike): which agreements are accepted
as required, where an add-on may go, what the Business must have or not have to take the order.
"""

from __future__ import annotations

from models.contracts.license_activation import AgreementRef
from models.contracts.license_activation import ChooseInstanceInput
from models.contracts.license_activation import InstanceChoice
from models.contracts.license_activation import LicenseItem
from models.errors import ActivationError
from models.errors import refuse


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


def instance_choices(
    items: list[LicenseItem],
    existing: list[InstanceChoice],
    region: str,
    *,
    renewals_keep_instances: bool = True,
) -> list[InstanceChoice]:
    """Where an add-on may go: the Business's instances and those this order creates. A paid
    service license of a product the Business has renews that product's license and keeps its
    instance (`match_held_licenses`), so it creates none. (`renewals_keep_instances=False`:
    as flows started before this rule offered them.)"""
    held = {choice.product_code for choice in existing}
    created = [
        InstanceChoice(item.instance_id or "", item.product_code, region, None, True)
        for item in items
        if item.kind == "service"
        and not (renewals_keep_instances and renews_held_product(item, held))
    ]
    return existing + created


def renews_held_product(item: LicenseItem, held_products: set[str]) -> bool:
    """Whether a service item renews (or converts) a license of a product the Business holds,
    instead of creating an instance: the rule `match_held_licenses` applies."""
    return not item.trial and not item.new_instance and item.product_code in held_products


def require_possible(items: list[LicenseItem], choices: list[InstanceChoice]) -> None:
    """What the Business must have (an instance for an add-on) or not (the product, for a
    trial) to take this order."""
    if any(item.kind == "addon" for item in items) and not choices:
        raise refuse(
            ActivationError.NO_INSTANCE_FOR_ADDON,
            "an add-on needs an existing product instance, and this Business has none",
        )
    held = {choice.product_code for choice in choices if not choice.new}
    if any(item.trial and item.product_code in held for item in items):
        raise refuse(
            ActivationError.TRIAL_NOT_AVAILABLE,
            "this Business has the product already; a trial is for trying a product first",
        )


def require_choice_possible(
    items: list[LicenseItem], choice: ChooseInstanceInput, instances: list[str]
) -> None:
    """An instance choice names an add-on that waits for one (or there is one such add-on) and
    one of `instances`, where it may go."""
    awaiting = awaiting_choice(items)
    if not awaiting:
        raise refuse(ActivationError.WRONG_STEP, "no add-on of this order waits for an instance")
    if choice.license_id is None and len(awaiting) > 1:
        problem = "several add-ons wait for an instance: name the license_id"
    elif choice.license_id is not None and choice.license_id not in awaiting:
        problem = "that license is not an add-on waiting for an instance"
    elif choice.instance_id not in instances:
        problem = "that instance is not one of the Business's instances"
    else:
        return
    raise refuse(ActivationError.INSTANCE_CHOICE_INVALID, problem)


def awaiting_choice(items: list[LicenseItem]) -> list[str]:
    """The add-on licenses still waiting for the customer to choose their instance."""
    return [item.license_id for item in items if item.kind == "addon" and item.instance_id is None]
