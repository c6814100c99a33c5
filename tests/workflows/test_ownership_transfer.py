"""The ownership-transfer flow on the time-skipping server with its real activities, SMTP and
database: acceptance (also when the swap is retried after its commit), decline, cancel, expiry,
one pending transfer per Business, and targets that do not qualify."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.ext.asyncio import async_sessionmaker
from temporalio import activity
from temporalio.client import Client
from temporalio.client import WorkflowUpdateFailedError
from temporalio.exceptions import ApplicationError
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from activities.mail import MailSender
from activities.ownership_transfer import OwnershipTransferActivities
from core.settings import Settings
from core.tokens import hash_token
from models.contracts.ownership_transfer import CompleteTransferInput
from models.contracts.ownership_transfer import DecisionInput
from models.contracts.ownership_transfer import TransferStatus
from models.errors import TransferError
from models.records.domain import Account
from models.records.domain import OwnershipTransfer
from tests.support.accounts import add_local_account
from tests.support.accounts import offer
from tests.support.activations import existing_business
from tests.support.histories import history_text
from tests.support.histories import keep_history
from tests.support.mail import MailSink
from tests.support.mail import text_of
from tests.support.mail import token_in
from workers.worker import WORKFLOWS
from workers.worker import workflow_runner
from workflows.ownership_transfer import OwnershipTransferWorkflow

pytestmark = pytest.mark.asyncio
Sessions = async_sessionmaker[AsyncSession]
OWNER, TARGET = "owner@acme.example", "grace@acme.example"


async def refusal(call: object) -> str | None:
    with pytest.raises(WorkflowUpdateFailedError) as caught:
        await call  # type: ignore[misc]
    assert isinstance(caught.value.cause, ApplicationError)
    return caught.value.cause.type


async def accounts_of(sessions: Sessions, business_id: str) -> dict[str, tuple[str, str | None]]:
    """Each account's (kind, instance) by email."""
    async with sessions() as session:
        rows = await session.scalars(select(Account).where(Account.business_id == business_id))
        return {row.email: (row.kind, row.instance_id) for row in rows}


async def transfer_row(sessions: Sessions, transfer_id: str) -> OwnershipTransfer:
    async with sessions() as session:
        row = await session.get(OwnershipTransfer, transfer_id)
    assert row is not None
    return row


async def a_business_with_a_local_account(
    sessions: Sessions, status: str = "active"
) -> tuple[str, str, str, str]:
    business_id, owner_id, (site,) = await existing_business(sessions, 1, email=OWNER)
    target_id = await add_local_account(sessions, business_id, site, TARGET, status)
    return business_id, owner_id, target_id, site


async def test_the_target_accepts_and_becomes_the_primary_in_one_step(
    time_client: Client, settings: Settings, smtp: MailSink, app_sessions: Sessions
) -> None:
    business_id, owner_id, target_id, site = await a_business_with_a_local_account(app_sessions)
    state, handle = await offer(time_client, settings, business_id, owner_id, target_id)
    assert state.status == TransferStatus.PENDING
    assert (await transfer_row(app_sessions, state.transfer_id)).status == "pending"
    (link,) = await smtp.wait_for(1, to=TARGET)
    assert "Acme Corp" in str(link["Subject"]) and "o***@acme.example" in text_of(link)
    assert OWNER not in text_of(link)  # the owner's address is the owner's: masked
    token = token_in(link)
    assert "/ownership-transfer?token=" in text_of(link)

    state = await handle.execute_update(
        OwnershipTransferWorkflow.accept, DecisionInput(hash_token(token))
    )
    assert state.status == TransferStatus.ACCEPTED and state.decided_at is not None
    assert await accounts_of(app_sessions, business_id) == {
        TARGET: ("primary", None),
        OWNER: ("local", site),  # keeps access, on the new owner's instance
    }
    row = await transfer_row(app_sessions, state.transfer_id)
    assert row.status == "accepted" and row.decided_at is not None
    assert (await handle.result()).status == TransferStatus.ACCEPTED
    (_, new_owner) = await smtp.wait_for(2, to=TARGET)
    (former_owner,) = await smtp.wait_for(1, to=OWNER)
    assert "You are now the owner" in str(new_owner["Subject"])
    assert "new owner" in str(former_owner["Subject"]) and "Site 1" in text_of(former_owner)

    history = await history_text(handle)
    assert token not in history and token.partition(".")[2] not in history
    await keep_history(handle, "transfer_accepted")


async def test_a_swap_retried_after_its_commit_leaves_exactly_one_primary(
    time_env: WorkflowEnvironment,
    time_client: Client,
    settings: Settings,
    smtp: MailSink,
    app_sessions: Sessions,
) -> None:
    """The worker is lost after the swap committed: the retry must not swap back or fail."""
    business_id, owner_id, target_id, site = await a_business_with_a_local_account(app_sessions)
    real = OwnershipTransferActivities(settings, app_sessions, MailSender(settings, app_sessions))
    attempts: list[int] = []

    @activity.defn(name="ownership_transfer.complete")
    async def complete_then_crash(input: CompleteTransferInput) -> None:
        await real.complete_transfer(input)
        attempts.append(activity.info().attempt)
        if activity.info().attempt == 1:
            raise RuntimeError("the worker was lost after the commit")

    others = [act for act in real.activities() if act != real.complete_transfer]
    queue = f"tq-{uuid.uuid4()}"
    async with Worker(
        time_env.client,
        task_queue=queue,
        workflows=WORKFLOWS,
        activities=[*others, complete_then_crash],
        workflow_runner=workflow_runner(),
    ):
        _, handle = await offer(
            time_client, settings, business_id, owner_id, target_id, task_queue=queue
        )
        (link,) = await smtp.wait_for(1, to=TARGET)
        state = await handle.execute_update(
            OwnershipTransferWorkflow.accept, DecisionInput(hash_token(token_in(link)))
        )
        assert state.status == TransferStatus.ACCEPTED
        await handle.result()
    assert attempts == [1, 2]
    assert await accounts_of(app_sessions, business_id) == {
        TARGET: ("primary", None),
        OWNER: ("local", site),
    }


async def test_the_target_declines_and_the_owner_is_told(
    time_client: Client, settings: Settings, smtp: MailSink, app_sessions: Sessions
) -> None:
    business_id, owner_id, target_id, site = await a_business_with_a_local_account(app_sessions)
    _, handle = await offer(time_client, settings, business_id, owner_id, target_id)
    (link,) = await smtp.wait_for(1, to=TARGET)
    bad = DecisionInput(hash_token(token_in(link) + "x"))
    assert (
        await refusal(handle.execute_update(OwnershipTransferWorkflow.accept, bad))
        == TransferError.TOKEN_INVALID
    )
    state = await handle.execute_update(
        OwnershipTransferWorkflow.decline, DecisionInput(hash_token(token_in(link)))
    )
    assert state.status == TransferStatus.DECLINED
    assert (await handle.result()).status == TransferStatus.DECLINED
    (declined,) = await smtp.wait_for(1, to=OWNER)
    assert "declined" in str(declined["Subject"])
    assert await accounts_of(app_sessions, business_id) == {
        OWNER: ("primary", None),
        TARGET: ("local", site),
    }
    assert (await transfer_row(app_sessions, state.transfer_id)).status == "declined"
    await keep_history(handle, "transfer_declined")


async def test_the_owner_cancels_and_the_link_no_longer_works(
    time_client: Client, settings: Settings, smtp: MailSink, app_sessions: Sessions
) -> None:
    business_id, owner_id, target_id, _ = await a_business_with_a_local_account(app_sessions)
    _, handle = await offer(time_client, settings, business_id, owner_id, target_id)
    (link,) = await smtp.wait_for(1, to=TARGET)
    state = await handle.execute_update(OwnershipTransferWorkflow.cancel)
    assert state.status == TransferStatus.CANCELLED
    assert (await handle.result()).status == TransferStatus.CANCELLED
    (_, cancelled) = await smtp.wait_for(2, to=TARGET)
    assert "cancelled" in str(cancelled["Subject"])
    assert (await transfer_row(app_sessions, state.transfer_id)).status == "cancelled"
    assert (await accounts_of(app_sessions, business_id))[OWNER] == ("primary", None)
    await keep_history(handle, "transfer_cancelled")


async def test_no_answer_within_24_hours_expires_the_transfer(
    time_client: Client,
    time_env: WorkflowEnvironment,
    settings: Settings,
    smtp: MailSink,
    app_sessions: Sessions,
) -> None:
    business_id, owner_id, target_id, _ = await a_business_with_a_local_account(app_sessions)
    state, handle = await offer(time_client, settings, business_id, owner_id, target_id)
    await smtp.wait_for(1, to=TARGET)
    await time_env.sleep(timedelta(hours=23, minutes=59))
    assert (await handle.query(OwnershipTransferWorkflow.state)).status == TransferStatus.PENDING
    await time_env.sleep(timedelta(minutes=2))
    assert (await handle.result()).status == TransferStatus.EXPIRED
    (expired,) = await smtp.wait_for(1, to=OWNER)
    assert "expired" in str(expired["Subject"])
    assert (await transfer_row(app_sessions, state.transfer_id)).status == "expired"
    assert (await accounts_of(app_sessions, business_id))[OWNER] == ("primary", None)
    await keep_history(handle, "transfer_expired")


async def test_one_pending_transfer_per_business(
    time_client: Client, settings: Settings, smtp: MailSink, app_sessions: Sessions
) -> None:
    business_id, owner_id, target_id, site = await a_business_with_a_local_account(app_sessions)
    other_id = await add_local_account(app_sessions, business_id, site, "alan@acme.example")
    _, first = await offer(time_client, settings, business_id, owner_id, target_id)
    assert (
        await refusal(offer(time_client, settings, business_id, owner_id, other_id))
        == TransferError.PENDING_EXISTS
    )
    await first.execute_update(OwnershipTransferWorkflow.cancel)
    state, _ = await offer(time_client, settings, business_id, owner_id, other_id)
    assert state.status == TransferStatus.PENDING


@pytest.mark.parametrize("status", ["pending", "disabled", "lapsed", "removed"])
async def test_only_an_active_local_account_qualifies(
    time_client: Client, settings: Settings, app_sessions: Sessions, status: str
) -> None:
    business_id, owner_id, target_id, _ = await a_business_with_a_local_account(
        app_sessions, status
    )
    assert (
        await refusal(offer(time_client, settings, business_id, owner_id, target_id))
        == TransferError.TARGET_NOT_ELIGIBLE
    )


async def test_targets_outside_the_business_or_the_primary_itself_are_refused(
    time_client: Client, settings: Settings, app_sessions: Sessions
) -> None:
    business_id, owner_id, target_id, _ = await a_business_with_a_local_account(app_sessions)
    other_business, other_owner, (other_site,) = await existing_business(
        app_sessions, 1, email="boss@else.example"
    )
    foreign = await add_local_account(app_sessions, other_business, other_site, "x@else.example")
    assert (
        await refusal(offer(time_client, settings, business_id, owner_id, foreign))
        == TransferError.TARGET_NOT_FOUND
    )
    assert (
        await refusal(offer(time_client, settings, business_id, owner_id, owner_id))
        == TransferError.TARGET_NOT_ELIGIBLE
    )
    assert (
        await refusal(offer(time_client, settings, business_id, target_id, target_id))
        == TransferError.NOT_PRIMARY
    )
    assert (
        await refusal(offer(time_client, settings, business_id, other_owner, target_id))
        == TransferError.NOT_PRIMARY
    )


async def test_a_target_disabled_before_accepting_fails_the_transfer(
    time_client: Client, settings: Settings, smtp: MailSink, app_sessions: Sessions
) -> None:
    business_id, owner_id, target_id, site = await a_business_with_a_local_account(app_sessions)
    _, handle = await offer(time_client, settings, business_id, owner_id, target_id)
    (link,) = await smtp.wait_for(1, to=TARGET)
    async with app_sessions.begin() as session:
        target = await session.get(Account, target_id)
        assert target is not None
        target.status = "disabled"
    decision = DecisionInput(hash_token(token_in(link)))
    assert (
        await refusal(handle.execute_update(OwnershipTransferWorkflow.accept, decision))
        == TransferError.TARGET_NOT_ELIGIBLE
    )
    result = await handle.result()
    assert result.status == TransferStatus.FAILED and result.problem
    await keep_history(handle, "transfer_failed")
    assert await accounts_of(app_sessions, business_id) == {
        OWNER: ("primary", None),
        TARGET: ("local", site),
    }
