"""Talking to flows, the same way for every flow (docs/architecture.md): reading a flow's
published state (each workflow keeps its public state in its memo, so a read is one `describe` on
the Temporal server, no worker, no replay, running or finished), and acting on it with an update
whose refusal becomes its declared HTTP answer."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Mapping
from typing import Any
from typing import TypeVar

from pydantic import TypeAdapter
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from temporalio.client import Client
from temporalio.client import WorkflowHandle
from temporalio.client import WorkflowUpdateFailedError
from temporalio.service import RPCError
from temporalio.service import RPCStatusCode

from api.errors import ApiError
from api.errors import refusal
from core.settings import Settings
from models.errors import ApiProblem
from models.errors import DomainError
from models.errors import find
from workflows.direct_change import change

T = TypeVar("T")

STATE_MEMO = "state"  # where every flow publishes its state (workflows/kit.py)
PUBLISH_WAIT, PUBLISH_TRIES = 2.0, 40  # seconds; a first task takes milliseconds


async def published_state(handle: WorkflowHandle[Any, Any]) -> dict[str, Any] | None:
    """The memo entry as a plain dict (validated by the caller's pydantic model; much cheaper
    than the converter's dataclass typing), or None when there is no such flow. A flow started a
    moment ago as a child publishes from its first task: until then it is read again, for
    PUBLISH_WAIT at most, then counts as not there."""
    for _ in range(PUBLISH_TRIES):
        try:
            description = await handle.describe()
        except RPCError as err:
            if err.status == RPCStatusCode.NOT_FOUND:
                return None
            raise
        try:
            published: dict[str, Any] = await description.memo_value(STATE_MEMO, type_hint=dict)
        except KeyError:  # not published yet
            await asyncio.sleep(PUBLISH_WAIT / PUBLISH_TRIES)
            continue
        return published
    return None


_ADAPTERS: dict[type[Any], TypeAdapter[Any]] = {}  # built once a kind: building is slow


def public(kind: type[T], published: object) -> T:
    """A flow's published state (the memo's dict, the state itself, or a row with those
    attributes) as the dataclass `kind`: the one shape the flow, the API and the pages share."""
    if not isinstance(published, Mapping):
        names = (field.name for field in dataclasses.fields(kind))  # type: ignore[arg-type]
        published = {name: getattr(published, name) for name in names if hasattr(published, name)}
    adapter = _ADAPTERS.get(kind) or _ADAPTERS.setdefault(kind, TypeAdapter(kind))
    value: T = adapter.validate_python(published)
    return value


async def read_state(handle: WorkflowHandle[Any, Any], not_found: DomainError) -> dict[str, Any]:
    published = await published_state(handle)
    if published is None:
        raise ApiError(not_found)
    return published


def closed_error(published: Mapping[str, Any], closed: Mapping[str, DomainError]) -> ApiError:
    """Why a flow that has ended refuses an action, from the status it published."""
    return ApiError(closed[published["status"]])


async def run_change(
    client: Client,
    settings: Settings,
    activity: str,
    arg: object,
    *,
    business_id: str,
    summary: str,
) -> None:
    """A database change the API asks for, run as a direct-change flow (the API never writes
    the database); its refusal is its declared answer."""
    outcome = await change(
        client,
        activity,
        arg,
        business_id=business_id,
        summary=summary,
        task_queue=settings.temporal_task_queue,
    )
    problem = find(outcome.refusal)
    if outcome.refusal is not None:
        raise ApiError(problem or ApiProblem.INVALID_REQUEST, outcome.message)


async def act(
    handle: WorkflowHandle[Any, Any],
    update: Any,
    *args: Any,
    closed: Mapping[str, DomainError],
    not_found: DomainError,
) -> Any:
    """Run an update. A refusal is its declared answer; a flow that has ended says how it ended
    (`closed`: status -> error); no such flow is `not_found`."""
    try:
        return await handle.execute_update(update, *args)
    except WorkflowUpdateFailedError as err:
        raise refusal(err) from None
    except RPCError as err:
        if err.status != RPCStatusCode.NOT_FOUND:
            raise
    published = await read_state(handle, not_found)
    raise closed_error(published, closed)


async def newest_first(session: AsyncSession, model: Any, business_id: str) -> list[Any]:
    """A Business's rows of one kind of flow (tokens, transfers, changes), newest first."""
    rows = await session.scalars(
        select(model)
        .where(model.business_id == business_id)
        .order_by(model.created_at.desc(), model.id)
    )
    return list(rows)
