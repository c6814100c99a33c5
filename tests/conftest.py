"""Shared fixtures: real Temporal servers, a real SMTP server on loopback, real databases.

Each test gets its own database (a copy of a migrated template), task queue and mail folder.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import mailbox
import os
import re
import shutil
import socket
import uuid
from collections.abc import AsyncIterator
from collections.abc import Iterator
from datetime import timedelta
from email.message import Message
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.handlers import Mailbox
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlalchemy.ext.asyncio import create_async_engine
from temporalio.client import Client
from temporalio.client import WorkflowExecutionStatus
from temporalio.client import WorkflowHandle
from temporalio.client import WorkflowUpdateFailedError
from temporalio.service import RPCError
from temporalio.testing import WorkflowEnvironment

from core.payload_codec import data_converter
from core.settings import Settings
from core.temporal import dev_server_path
from core.temporal import test_server_path
from models.records.base import make_engine
from models.records.base import make_session_factory
from models.records.migrate import upgrade
from workers.worker import build_worker
from workflows import search_attributes

PG_HOST, PG_PORT = "127.0.0.1", 5432
PG_ADMIN_URL = f"postgresql+asyncpg://postgres@{PG_HOST}:{PG_PORT}/postgres"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def postgres_reachable() -> bool:
    try:
        with socket.create_connection((PG_HOST, PG_PORT), timeout=1):
            return True
    except OSError:
        return False


# -- databases ---------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("sqlite-template") / "template.db"
    upgrade(f"sqlite+aiosqlite:///{path}")
    return path


@pytest.fixture
def sqlite_url(tmp_path: Path, sqlite_template: Path) -> str:
    path = tmp_path / "app.db"
    shutil.copy(sqlite_template, path)
    return f"sqlite+aiosqlite:///{path}"


async def _pg_admin(statement: str) -> None:
    engine = create_async_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    try:
        async with engine.connect() as conn:
            await conn.execute(text(statement))
    finally:
        await engine.dispose()


@pytest.fixture(scope="session")
async def pg_template() -> AsyncIterator[str]:
    if not postgres_reachable():
        if os.environ.get("ACTIVATION_REQUIRE_POSTGRES"):
            pytest.fail("PostgreSQL at 127.0.0.1:5432 is required here")
        pytest.skip("PostgreSQL is not running at 127.0.0.1:5432")
    name = f"ap_template_{uuid.uuid4().hex[:12]}"
    await _pg_admin(f'CREATE DATABASE "{name}"')
    await asyncio.to_thread(upgrade, f"postgresql+asyncpg://postgres@{PG_HOST}:{PG_PORT}/{name}")
    yield name
    await _pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
async def pg_url(pg_template: str) -> AsyncIterator[str]:
    name = f"ap_test_{uuid.uuid4().hex[:12]}"
    await _pg_admin(f'CREATE DATABASE "{name}" TEMPLATE "{pg_template}"')
    yield f"postgresql+asyncpg://postgres@{PG_HOST}:{PG_PORT}/{name}"
    await _pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest) -> str:
    """Database tests run on both stores."""
    fixture = "sqlite_url" if request.param == "sqlite" else "pg_url"
    url: str = request.getfixturevalue(fixture)
    return url


@pytest.fixture
async def sessions(database_url: str) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    engine = make_engine(database_url)
    yield make_session_factory(engine)
    await engine.dispose()


# -- mail --------------------------------------------------------------------------------------


class FaultyMailbox(Mailbox):
    """The sink's Maildir handler with faults on demand: refuse every recipient for a while
    (451), or keep a message and answer only after the client has given up (a lost "250")."""

    def __init__(self, maildir: Path) -> None:
        super().__init__(maildir)
        self.refusing = False
        self.late_replies = 0
        self.late_by = 0.0

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, options: Any
    ) -> str:
        if self.refusing:
            return "451 4.3.0 try again later"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.handle_message(self.prepare_message(session, envelope))  # kept
        if self.late_replies > 0:
            self.late_replies -= 1
            await asyncio.sleep(self.late_by)
        return "250 OK"


class MailSink:
    """A real SMTP server on a free loopback port, keeping messages in a Maildir."""

    def __init__(self, maildir: Path) -> None:
        self.maildir = maildir
        self.port = free_port()
        self.handler = FaultyMailbox(maildir)
        self._controller = self._start()

    def _start(self) -> Controller:
        controller = Controller(self.handler, hostname="127.0.0.1", port=self.port)
        controller.start()
        return controller

    def stop(self) -> None:
        self._controller.stop()

    def restart(self) -> None:
        """Drop every connection and listen again on the same port."""
        self._controller.stop()
        self._controller = self._start()

    def lose_replies(self, count: int, late_by: float) -> None:
        """Keep the next `count` messages but answer each only after `late_by` seconds."""
        self.handler.late_by = late_by
        self.handler.late_replies = count

    def messages(self, to: str | None = None) -> list[Message]:
        box = mailbox.Maildir(self.maildir, create=False)
        found = sorted(box, key=lambda m: m.get_date())
        return [m for m in found if to is None or to.lower() in str(m["To"]).lower()]

    async def wait_for(
        self, count: int, to: str | None = None, timeout: float = 15
    ) -> list[Message]:
        """Mail delivery is asynchronous; poll the folder until `count` messages are there."""
        deadline = asyncio.get_running_loop().time() + timeout
        while len(found := self.messages(to)) < count:
            if asyncio.get_running_loop().time() > deadline:
                raise AssertionError(f"expected {count} messages to {to}, got {len(found)}")
            await asyncio.sleep(0.02)
        return found


def text_of(message: Message) -> str:
    for part in message.walk():
        if part.get_content_type() == "text/plain":
            payload = part.get_payload(decode=True)
            assert isinstance(payload, bytes)
            return payload.decode(part.get_content_charset() or "utf-8")
    raise AssertionError("no text part")


def without_trace_headers(message: Message) -> bytes:
    """A received message as it was sent: without the headers the sink adds itself."""
    for header in ("X-Peer", "X-MailFrom", "X-RcptTo"):
        del message[header]
    return message.as_bytes()


def token_in(message: Message) -> str:
    body = text_of(message)
    start = body.index("token=") + len("token=")
    return body[start:].split()[0]


@pytest.fixture
def smtp(tmp_path: Path) -> Iterator[MailSink]:
    sink = MailSink(tmp_path / "maildir")
    yield sink
    sink.stop()


# -- settings and Temporal ---------------------------------------------------------------------


# Every test's flows run encrypted, as in production (docs/security.md): the newest key first.
TEST_PAYLOAD_KEYS = [
    "test-2:" + base64.b64encode(b"2" * 32).decode(),
    "test-1:" + base64.b64encode(b"1" * 32).decode(),
]
TEST_OPERATOR_KEY = "test-operator-key-of-32-characters-or-more"
TEST_CODEC_KEY = "test-codec-key-of-32-characters-or-more-too"


@pytest.fixture
def settings(tmp_path: Path, sqlite_url: str, smtp: MailSink) -> Settings:
    return Settings(
        environment="test",
        data_dir=tmp_path,
        database_url=sqlite_url,
        smtp_host="127.0.0.1",
        smtp_port=smtp.port,
        api_keys=["test-api-key-of-16-chars"],
        secret_key="test-secret-key-with-at-least-32-characters",
        payload_keys=TEST_PAYLOAD_KEYS,
        operator_keys=[TEST_OPERATOR_KEY],
        codec_keys=[TEST_CODEC_KEY],
        temporal_task_queue=f"tq-{uuid.uuid4()}",
        public_base_url="http://testserver",
    )


@pytest.fixture(scope="module")
async def time_env() -> AsyncIterator[WorkflowEnvironment]:
    """The time-skipping test server, for timers and expiry: one a module (it starts in a fifth
    of a second). Its clock only moves forward, by every timer the tests skip, and by years when
    a result is awaited while an activity waits for a slow worker to pick it up; a module's own
    clock keeps the dates of the tests that follow within their licenses' year."""
    env = await WorkflowEnvironment.start_time_skipping(
        test_server_existing_path=test_server_path(),
        data_converter=data_converter(TEST_PAYLOAD_KEYS),
    )
    await search_attributes.register(env.client, "default")
    yield env
    await end_started_flows(env)  # those of tests that ran their own worker on it
    await env.shutdown()


@pytest.fixture(scope="session")
async def dev_env(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[WorkflowEnvironment]:
    """The real Temporal CLI dev server, for API and end-to-end tests."""
    env = await WorkflowEnvironment.start_local(
        dev_server_existing_path=dev_server_path(),
        port=free_port(),
        search_attributes=search_attributes.ALL,
        dev_server_database_filename=str(tmp_path_factory.mktemp("temporal") / "temporal.db"),
        dev_server_startup_timeout=timedelta(minutes=1),
        data_converter=data_converter(TEST_PAYLOAD_KEYS),
    )
    yield env
    await env.shutdown()


@pytest.fixture
async def app_sessions(settings: Settings) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    engine = make_engine(settings.database_url)
    yield make_session_factory(engine)
    await engine.dispose()


@pytest.fixture
async def time_client(
    time_env: WorkflowEnvironment,
    settings: Settings,
    app_sessions: async_sessionmaker[AsyncSession],
) -> AsyncIterator[Client]:
    """The time-skipping server's client, with the real worker on this test's task queue."""
    async with build_worker(time_env.client, settings, app_sessions):
        yield time_env.client
        await end_started_flows(time_env)


# Flows a test left running would keep the shared time-skipping clock locked for the next tests.
STARTED_FLOWS: list[WorkflowHandle[Any, Any]] = []
# How each kind of flow is ended early: verifications and activations cancel, tokens revoke.
ENDING_UPDATES = ("cancel", "revoke")


async def end_started_flows(env: WorkflowEnvironment) -> None:
    """Cancel what is still pending and let each flow finish on its own (a terminate while an
    activity is in flight leaves the test server's clock locked); then check that the server
    holds no personal data of the flow or of its children. No time passes meanwhile: a
    time-skipping server left idle while a result is awaited jumps its clock by years, and later
    tests' dates would lie in its past."""
    with env.auto_time_skipping_disabled():
        while STARTED_FLOWS:
            handle = STARTED_FLOWS.pop()
            await _end(handle)
            await assert_no_personal_data(handle)


# What the tests use as personal data: full addresses (a masked one, `a***@x.example`, is no
# longer one), company names, display names and instance descriptions.
PERSONAL_DATA = re.compile(
    r"[a-z0-9._%+-]+@[a-z0-9-]+\.(?:example|com)\b|Acme Corp|Grace Hopper|Taipei office"
    r"|Lab appliances|Site 1",
    re.IGNORECASE,
)


def stored_text(history_json: str) -> str:
    """A history's JSON plus every payload's base64 data decoded: what anyone who can read the
    Temporal server or its database sees."""
    found = [history_json]

    def visit(node: Any) -> None:
        if isinstance(node, dict):
            for key, value in node.items():
                if key == "data" and isinstance(value, str):
                    found.append(base64.b64decode(value).decode("utf-8", "replace"))
                else:
                    visit(value)
        elif isinstance(node, list):
            for item in node:
                visit(item)

    visit(json.loads(history_json))
    return "\n".join(found)


async def assert_no_personal_data(handle: WorkflowHandle[Any, Any]) -> None:
    """No personal data readable in the history (memos and summaries included) of a flow and
    of the child flows it started (docs/security.md)."""
    history = await handle.fetch_history()
    readable = PERSONAL_DATA.findall(stored_text(history.to_json()))
    assert not readable, f"{handle.id} keeps personal data readable in Temporal: {readable[:3]}"
    for event in history.events:
        if event.HasField("child_workflow_execution_started_event_attributes"):
            child = event.child_workflow_execution_started_event_attributes.workflow_execution
            await assert_no_personal_data(
                handle._client.get_workflow_handle(child.workflow_id, run_id=child.run_id)
            )


async def _end(handle: WorkflowHandle[Any, Any]) -> None:
    await _end_flow(handle)
    # Children that outlive their parent (a license's lifecycle) would keep timers running on
    # the shared time-skipping clock: they end with the test too.
    history = await handle.fetch_history()
    for event in history.events:
        if event.HasField("child_workflow_execution_started_event_attributes"):
            child = event.child_workflow_execution_started_event_attributes.workflow_execution
            running = handle._client.get_workflow_handle(child.workflow_id, run_id=child.run_id)
            if (await running.describe()).status == WorkflowExecutionStatus.RUNNING:
                await running.terminate("test finished")


async def _end_flow(handle: WorkflowHandle[Any, Any]) -> None:
    try:
        for ending in ENDING_UPDATES:
            if (await handle.describe()).status != WorkflowExecutionStatus.RUNNING:
                return
            with contextlib.suppress(WorkflowUpdateFailedError, RPCError):
                await handle.execute_update(ending)
        await asyncio.wait_for(handle.result(), timeout=10)
    except Exception:
        if (await handle.describe()).status == WorkflowExecutionStatus.RUNNING:
            await handle.terminate("test finished")


@pytest.fixture
async def dev_client(
    dev_env: WorkflowEnvironment,
    settings: Settings,
    app_sessions: async_sessionmaker[AsyncSession],
) -> AsyncIterator[Client]:
    """The dev server's client, with the real worker on this test's task queue; afterwards, no
    flow of the test (found by its task queue) keeps personal data readable in Temporal."""
    async with build_worker(dev_env.client, settings, app_sessions):
        yield dev_env.client
        await end_started_flows(dev_env)
    query = f'TaskQueue="{settings.temporal_task_queue}"'
    async for flow in dev_env.client.list_workflows(query):
        handle = dev_env.client.get_workflow_handle(flow.id, run_id=flow.run_id)
        await assert_no_personal_data(handle)


def code_in(message: Message) -> str:
    """The activation code in an Activation Link email."""
    body = text_of(message)
    start = body.index("/activate/") + len("/activate/")
    return body[start:].split()[0]
