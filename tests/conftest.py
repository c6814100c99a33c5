"""Shared fixtures: real Temporal servers, a real SMTP server on loopback, real databases.

Each test gets its own database (a copy of a migrated template), task queue and mail folder.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import uuid
from collections.abc import AsyncIterator
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlalchemy.ext.asyncio import create_async_engine
from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment

from api.app import create_app
from core.payload_codec import data_converter
from core.settings import Settings
from core.temporal import dev_server_path
from core.temporal import test_server_path
from models.contracts import search_attributes
from models.records.base import make_engine
from models.records.base import make_session_factory
from models.records.migrate import upgrade
from tests.support.declared_refusals import DeclaredRefusals
from tests.support.mail import MailSink
from tests.support.net import PG_ADMIN_URL
from tests.support.net import PG_HOST
from tests.support.net import PG_PORT
from tests.support.net import free_port
from tests.support.net import postgres_reachable
from tests.support.product_backend import FakeBackend
from tests.support.receiver import Receiver
from tests.support.temporal import TEST_CODEC_KEY
from tests.support.temporal import TEST_OPERATOR_KEY
from tests.support.temporal import TEST_PAYLOAD_KEYS
from tests.support.temporal import assert_no_personal_data
from tests.support.temporal import end_started_flows
from workers.worker import build_worker

# -- the quick tests and the slow ones ---------------------------------------------------------

# What makes a test slow: it starts real processes (the dev server, a browser, the service's own
# commands) or injects faults. `make test-fast` leaves these out; `make test` runs everything.
SLOW_FIXTURES = frozenset({"dev_env", "dev_client", "browser", "stack"})


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if SLOW_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.slow)


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


@pytest.fixture
def smtp(tmp_path: Path) -> Iterator[MailSink]:
    sink = MailSink(tmp_path / "maildir")
    yield sink
    sink.stop()


# -- settings and Temporal ---------------------------------------------------------------------


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
async def backend() -> AsyncIterator[FakeBackend]:
    """A vendor's product backend on loopback (tests/support/product_backend.py)."""
    receiver = await Receiver().start()
    fake = FakeBackend(receiver)
    receiver.answer = fake.answer
    yield fake
    await receiver.stop()


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


@pytest.fixture
async def api(time_client: Client, settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    """The API in-process over HTTP semantics (ASGI), on the time-skipping server with a worker;
    every refusal it answers must be one its route declares."""
    app = create_app(settings, temporal=time_client)
    observed = DeclaredRefusals(app)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=observed)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            yield client
    observed.assert_declared()
