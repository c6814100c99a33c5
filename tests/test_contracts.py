"""The contracts the API, the tests and the bench meet flows by (models/contracts/flow.py) name
the workflows, updates and queries the workers run, with the same argument and answer types:
a renamed handler or a changed input fails here, not in production."""

from __future__ import annotations

import inspect
from typing import Any

import pytest
from temporalio import workflow

from models.contracts import account_lookup
from models.contracts import direct_change
from models.contracts import email_verification
from models.contracts import license_activation
from models.contracts import local_accounts
from models.contracts import on_premises
from models.contracts import ownership_transfer
from models.contracts import primary_change
from models.contracts import product_registration
from models.contracts.flow import FlowStart
from models.contracts.flow import Query
from models.contracts.flow import Update
from workers.worker import WORKFLOWS

CONTRACTS = [
    account_lookup,
    direct_change,
    email_verification,
    license_activation,
    local_accounts,
    ownership_transfer,
    primary_change,
    product_registration,
]
DEFINITIONS = {
    definition.name: definition
    for definition in (workflow._Definition.must_from_class(flow) for flow in WORKFLOWS)
}


def declared(contract: Any, kind: type) -> list[Any]:
    return [value for _, value in inspect.getmembers(contract) if isinstance(value, kind)]


@pytest.mark.parametrize("contract", CONTRACTS, ids=lambda c: c.__name__.rsplit(".", 1)[-1])
def test_every_update_and_query_a_contract_declares_is_a_handler_of_its_workflow(
    contract: Any,
) -> None:
    definition = DEFINITIONS[contract.WORKFLOW]
    for update in declared(contract, Update):
        handler = definition.updates[update.name]
        assert handler.arg_types == ([update.arg] if update.arg else []), update.name
        assert handler.ret_type is update.answer, update.name
    for query in declared(contract, Query):
        answers = definition.queries[query.name]
        assert answers.arg_types == ([query.arg] if query.arg else []), query.name
        assert answers.ret_type is query.answer, query.name


@pytest.mark.parametrize("contract", CONTRACTS, ids=lambda c: c.__name__.rsplit(".", 1)[-1])
def test_a_flow_starts_as_its_workflow_with_its_describe_update(contract: Any) -> None:
    (start,) = declared(contract, FlowStart)
    definition = DEFINITIONS[start.workflow]
    assert start.describe.name in definition.updates
    assert start.kind == contract.FLOW_KIND


def test_every_activity_a_class_defines_is_one_the_worker_registers() -> None:
    """Each activities class lists its activities by hand (`activities()`); one left out of the
    list would never run."""
    from activities.account_lookup import AccountLookupActivities
    from activities.credits import CreditActivities
    from activities.email_verification import EmailVerificationActivities
    from activities.license_activation import LicenseActivationActivities
    from activities.license_lifecycle import LicenseLifecycleActivities
    from activities.local_accounts import LocalAccountActivities
    from activities.on_premises import OnPremisesActivities
    from activities.ownership_transfer import OwnershipTransferActivities
    from activities.primary_change import PrimaryChangeActivities
    from activities.product_registration import ProductRegistrationActivities

    for kind in (
        OnPremisesActivities,
        AccountLookupActivities,
        CreditActivities,
        EmailVerificationActivities,
        LicenseActivationActivities,
        LicenseLifecycleActivities,
        LocalAccountActivities,
        OwnershipTransferActivities,
        PrimaryChangeActivities,
        ProductRegistrationActivities,
    ):
        defined = {
            name
            for name in dir(kind)
            if hasattr(getattr(kind, name), "__temporal_activity_definition")
        }
        holder: Any = object.__new__(kind)  # no dependencies needed to list its methods
        listed = {method.__name__ for method in holder.activities()}
        assert listed == defined, kind.__name__


def test_the_on_premises_updates_are_handlers_of_their_two_workflows() -> None:
    """One contract, two flows: the certificate and each code's seats."""
    flows: dict[Update[Any, Any], str] = {
        on_premises.DESCRIBE_CERTIFICATE: on_premises.CERTIFICATE_WORKFLOW,
        on_premises.ACTIVATE: on_premises.CODE_WORKFLOW,
        on_premises.DEACTIVATE: on_premises.CODE_WORKFLOW,
        on_premises.RENEW: on_premises.CODE_WORKFLOW,
        on_premises.REVOKE: on_premises.CODE_WORKFLOW,
    }
    assert set(flows) == set(declared(on_premises, Update))
    for update, name in flows.items():
        handler = DEFINITIONS[name].updates[update.name]
        assert handler.arg_types == ([update.arg] if update.arg else []), update.name
        assert handler.ret_type is update.answer, update.name
    assert on_premises.START_CERTIFICATE.workflow == on_premises.CERTIFICATE_WORKFLOW
