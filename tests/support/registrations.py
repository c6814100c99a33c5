"""Enrollment tokens for the product-registration tests: issued through the flow, presented by
an instance."""

from __future__ import annotations

from typing import Any

from temporalio.client import Client
from temporalio.client import WorkflowHandle

from core.settings import Settings
from core.tokens import hash_token
from core.tokens import new_token
from core.tokens import random_key
from models.contracts.product_registration import START as start
from models.contracts.product_registration import RegisterInput
from models.contracts.product_registration import StartRegistrationInput
from models.contracts.product_registration import TokenState
from models.contracts.product_registration import flow_id_of
from tests.support.temporal import STARTED_FLOWS
from workflows.product_registration import ProductRegistrationWorkflow

Handle = WorkflowHandle[ProductRegistrationWorkflow, TokenState]


async def issue_token(
    client: Client,
    settings: Settings,
    business_id: str,
    account_id: str,
    **overrides: Any,
) -> tuple[str, TokenState, Handle]:
    token_id = random_key()
    token = new_token(token_id)
    values: dict[str, Any] = {
        "token_id": token_id,
        "token_hash": hash_token(token),
        "business_id": business_id,
        "instance_type": "endpoint-protection",
        "description": "Lab appliances",
        "created_by": account_id,
        "expires_in_seconds": 24 * 3600,
        "max_uses": 1,
    } | overrides
    state = await start(
        client, StartRegistrationInput(**values), task_queue=settings.temporal_task_queue
    )
    handle: Handle = client.get_workflow_handle_for(
        ProductRegistrationWorkflow.run, flow_id_of(token_id)
    )
    STARTED_FLOWS.append(handle)
    return token, state, handle


async def register(handle: Handle, token: str, instance_id: str) -> TokenState:
    return await handle.execute_update(
        ProductRegistrationWorkflow.register, RegisterInput(hash_token(token), instance_id)
    )
