"""Direct changes (an account edit, an unregistration) run as one-activity flows on the
time-skipping server, with the real activities and database: done, refused, and each retry safe."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.ext.asyncio import async_sessionmaker
from temporalio.client import Client
from temporalio.testing import ActivityEnvironment

from activities.local_accounts import LocalAccountActivities
from activities.mail import MailSender
from core.settings import Settings
from models.contracts.direct_change import CHANGE_ACCOUNT
from models.contracts.direct_change import START
from models.contracts.direct_change import ChangeAccountInput
from models.contracts.direct_change import DirectChangeInput
from models.contracts.direct_change import DirectChangeOutcome
from models.errors import LocalAccountError
from models.records.domain import Account
from tests.support.accounts import add_local_account
from tests.support.activations import existing_business
from tests.support.histories import keep_history

pytestmark = pytest.mark.asyncio
Sessions = async_sessionmaker[AsyncSession]


async def status_of(sessions: Sessions, account_id: str) -> tuple[str, str | None]:
    async with sessions() as session:
        account = await session.get(Account, account_id)
        assert account is not None
        return account.status, account.display_name


async def test_an_account_change_is_done_by_its_activity_and_a_stale_one_is_refused(
    time_client: Client, settings: Settings, app_sessions: Sessions
) -> None:
    business_id, _, (site,) = await existing_business(app_sessions, 1)
    account_id = await add_local_account(app_sessions, business_id, site)

    async def run(input: ChangeAccountInput, history: str) -> DirectChangeOutcome:
        flow_id = f"direct-change-{uuid.uuid4()}"
        outcome = await START(
            time_client,
            DirectChangeInput(CHANGE_ACCOUNT, input, business_id),
            task_queue=settings.temporal_task_queue,
            flow_id=flow_id,
            summary="test",
        )
        await keep_history(time_client.get_workflow_handle(flow_id), history)
        return outcome

    done = await run(
        ChangeAccountInput(account_id, "active", "Grace H.", "disabled"), "direct_change_done"
    )
    assert done.refusal is None
    assert await status_of(app_sessions, account_id) == ("disabled", "Grace H.")
    # Read as active, but it is disabled now: nothing changes, the refusal is the answer.
    stale = await run(
        ChangeAccountInput(account_id, "active", status="removed"), "direct_change_refused"
    )
    assert stale.refusal == LocalAccountError.ACCOUNT_CLOSED
    assert await status_of(app_sessions, account_id) == ("disabled", "Grace H.")


async def test_a_change_retried_after_its_commit_changes_nothing_more(
    settings: Settings, sessions: Sessions
) -> None:
    business_id, _, (site,) = await existing_business(sessions, 1)
    account_id = await add_local_account(sessions, business_id, site)
    activities = LocalAccountActivities(settings, sessions, MailSender(settings, sessions))
    input = ChangeAccountInput(account_id, "active", status="disabled")
    for _ in range(2):  # the retry reads "disabled", as it set it: done already
        await ActivityEnvironment().run(activities.change_account, input)
    assert await status_of(sessions, account_id) == ("disabled", "Grace Hopper")
