"""The API's side of each flow (one module a flow), and talking to flows the same way for every
flow (docs/architecture.md): reading a flow's published state (each workflow keeps its public
state in its memo, so a read is one `describe` on the Temporal server, no worker, no replay,
running or finished), and acting on it with an update whose refusal becomes its declared HTTP
answer (`act`). Flows are met through their contracts (`models/contracts/`), by name and type:
the API process never imports a workflow, and so never loads an activity or an SMTP client."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Awaitable
from collections.abc import Callable
from collections.abc import Mapping
from typing import Any
from typing import TypeVar
from typing import overload

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
from models.contracts import direct_change
from models.contracts.flow import FlowStart
from models.contracts.flow import Query
from models.contracts.flow import Update
from models.errors import ApiProblem
from models.errors import DomainError
from models.errors import find

T = TypeVar("T")
ArgT = TypeVar("ArgT")
AnswerT = TypeVar("AnswerT")
InputT = TypeVar("InputT")
Handle = WorkflowHandle[Any, Any]

STATE_MEMO = "state"  # where every flow publishes its state (workflows/publishing.py)
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


async def start(
    flow: FlowStart[InputT, AnswerT],
    client: Client,
    settings: Settings,
    input: InputT,
    *,
    flow_id: str | None = None,
) -> AnswerT:
    """Start a flow (or join it) on the service's task queue and return its first answer; a
    refusal of its start is its declared HTTP answer."""
    try:
        return await flow(client, input, task_queue=settings.temporal_task_queue, flow_id=flow_id)
    except WorkflowUpdateFailedError as err:
        raise refusal(err) from None


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
    outcome = await direct_change.START(
        client,
        direct_change.DirectChangeInput(activity, arg, business_id),
        task_queue=settings.temporal_task_queue,
        summary=summary,
    )
    if outcome.refusal is not None:
        raise ApiError(find(outcome.refusal) or ApiProblem.INVALID_REQUEST, outcome.message)


async def update_if_running(
    handle: Handle, update: Update[Any, AnswerT], *args: Any
) -> AnswerT | None:
    """Run an update on a flow that still runs: its answer, or None when the flow has ended (or
    never was). A refusal is its declared HTTP answer."""
    try:
        answer: AnswerT = await handle.execute_update(update.name, *args, result_type=update.answer)
        return answer
    except WorkflowUpdateFailedError as err:
        raise refusal(err) from None
    except RPCError as err:
        if err.status != RPCStatusCode.NOT_FOUND:
            raise
    return None


@overload
async def act(
    handle: Handle,
    update: Update[None, AnswerT],
    *,
    closed: Mapping[str, DomainError],
    not_found: DomainError,
    status_if_gone: Callable[[], Awaitable[str | None]] | None = None,
) -> AnswerT: ...


@overload
async def act(
    handle: Handle,
    update: Update[ArgT, AnswerT],
    arg: ArgT,
    *,
    closed: Mapping[str, DomainError],
    not_found: DomainError,
    status_if_gone: Callable[[], Awaitable[str | None]] | None = None,
) -> AnswerT: ...


async def act(
    handle: Handle,
    update: Update[Any, AnswerT],
    arg: Any = None,
    *,
    closed: Mapping[str, DomainError],
    not_found: DomainError,
    status_if_gone: Callable[[], Awaitable[str | None]] | None = None,
) -> AnswerT:
    """Run an update and return its answer. A refusal is its declared HTTP answer; a flow that
    has ended says how it ended (`closed`: status -> error; the status the flow published, or
    `status_if_gone()` for one whose history is gone); no such flow is `not_found`."""
    answer = await update_if_running(handle, update, *([] if update.arg is None else [arg]))
    if answer is not None:
        return answer
    if status_if_gone is not None:
        status = await status_if_gone()
    else:
        published = await published_state(handle)
        status = published["status"] if published else None
    if status is None:
        raise ApiError(not_found)
    raise ApiError(closed[status])


async def ask(handle: Handle, query: Query[ArgT, AnswerT], arg: ArgT) -> AnswerT:
    """Run a query (it changes nothing)."""
    answer: AnswerT = await handle.query(query.name, arg, result_type=query.answer)
    return answer


async def newest_first(session: AsyncSession, model: Any, business_id: str) -> list[Any]:
    """A Business's rows of one kind of flow (tokens, transfers, changes), newest first."""
    rows = await session.scalars(
        select(model)
        .where(model.business_id == business_id)
        .order_by(model.created_at.desc(), model.id)
    )
    return list(rows)
