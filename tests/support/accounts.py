"""Helpers for the local-account and ownership-transfer tests."""

from __future__ import annotations

import uuid
from datetime import datetime
from datetime import timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.ext.asyncio import async_sessionmaker
from temporalio.client import Client
from temporalio.client import WorkflowHandle

from core.settings import Settings
from core.tokens import domain_key
from core.tokens import random_key
from models.contracts.local_accounts import START as start
from models.contracts.local_accounts import InvitationState
from models.contracts.local_accounts import StartInvitationInput
from models.contracts.local_accounts import flow_id_of
from models.contracts.local_accounts import flow_key_parts
from models.contracts.ownership_transfer import START as start_transfer
from models.contracts.ownership_transfer import OpenTransferInput
from models.contracts.ownership_transfer import StartTransferInput
from models.contracts.ownership_transfer import TransferState
from models.contracts.ownership_transfer import flow_id_of as transfer_flow_id_of
from models.records.domain import Account
from tests.support.activities import NOW
from tests.support.temporal import STARTED_FLOWS
from workflows.local_accounts import LocalAccountActivationWorkflow
from workflows.ownership_transfer import OwnershipTransferWorkflow

InvitationHandle = WorkflowHandle[LocalAccountActivationWorkflow, InvitationState]


def invitation_input(
    settings: Settings,
    business_id: str,
    invited_by: str,
    instance_id: str,
    email: str,
    **overrides: Any,
) -> StartInvitationInput:
    values: dict[str, Any] = {
        "account_id": str(uuid.uuid4()),
        "business_id": business_id,
        "instance_id": instance_id,
        "email": email,
        "display_name": "Grace Hopper",
        "locale": "en",
        "invited_by": invited_by,
        "expires_in_seconds": settings.local_account_invitation_expiry_seconds,
        "reminder_before_seconds": settings.local_account_reminder_before_seconds,
    } | overrides
    return StartInvitationInput(**values)


def invitation_flow_id(settings: Settings, input: StartInvitationInput) -> str:
    parts = flow_key_parts(input.business_id, input.instance_id, input.email)
    return flow_id_of(domain_key(settings.secret_key, *parts))


async def invite(
    client: Client,
    settings: Settings,
    business_id: str,
    invited_by: str,
    instance_id: str,
    email: str = "grace@acme.example",
    *,
    task_queue: str | None = None,
    **overrides: Any,
) -> tuple[InvitationState, InvitationHandle]:
    input = invitation_input(settings, business_id, invited_by, instance_id, email, **overrides)
    flow_id = invitation_flow_id(settings, input)
    handle: InvitationHandle = client.get_workflow_handle_for(
        LocalAccountActivationWorkflow.run, flow_id
    )
    STARTED_FLOWS.append(handle)
    queue = task_queue or settings.temporal_task_queue
    state = await start(client, input, flow_id=flow_id, task_queue=queue)
    return state, handle


async def add_local_account(
    sessions: async_sessionmaker[AsyncSession],
    business_id: str,
    instance_id: str,
    email: str = "grace@acme.example",
    status: str = "active",
) -> str:
    (account_id,) = await add_local_accounts(sessions, business_id, instance_id, 1, status, email)
    return account_id


async def add_local_accounts(
    sessions: async_sessionmaker[AsyncSession],
    business_id: str,
    instance_id: str,
    count: int,
    status: str = "active",
    email: str | None = None,
) -> list[str]:
    """`count` local accounts written directly (the state a Business reaches over time)."""
    ids = [str(uuid.uuid4()) for _ in range(count)]
    async with sessions.begin() as session:
        session.add_all(
            Account(
                id=account_id,
                business_id=business_id,
                email=email or f"user{number}-{account_id[:4]}@acme.example",
                display_name="Grace Hopper" if email else None,
                kind="local",
                status=status,
                instance_id=instance_id,
            )
            for number, account_id in enumerate(ids)
        )
    return ids


TransferHandle = WorkflowHandle[OwnershipTransferWorkflow, TransferState]


def transfer_input(
    settings: Settings, business_id: str, owner_id: str, target_id: str
) -> StartTransferInput:
    return StartTransferInput(
        transfer_id=random_key(),
        business_id=business_id,
        from_account_id=owner_id,
        to_account_id=target_id,
        expires_in_seconds=settings.ownership_transfer_expiry_seconds,
    )


async def offer(
    client: Client,
    settings: Settings,
    business_id: str,
    owner_id: str,
    target_id: str,
    *,
    task_queue: str | None = None,
) -> tuple[TransferState, TransferHandle]:
    """Start an ownership transfer from the primary to a local account."""
    input = transfer_input(settings, business_id, owner_id, target_id)
    handle: TransferHandle = client.get_workflow_handle_for(
        OwnershipTransferWorkflow.run, transfer_flow_id_of(input.transfer_id)
    )
    STARTED_FLOWS.append(handle)
    state = await start_transfer(
        client, input, task_queue=task_queue or settings.temporal_task_queue
    )
    return state, handle


def open_input(
    settings: Settings, business_id: str, owner_id: str, target_id: str, at: datetime = NOW
) -> OpenTransferInput:
    start = transfer_input(settings, business_id, owner_id, target_id)
    return OpenTransferInput(start, at, at + timedelta(hours=24))
