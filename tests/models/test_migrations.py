"""Migrations apply, roll back and re-apply on both stores; the schema matches the models."""

from __future__ import annotations

import asyncio

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Connection
from sqlalchemy import inspect

from models.records import domain  # noqa: F401  (every table on Base.metadata)
from models.records import events  # noqa: F401
from models.records import on_premises  # noqa: F401
from models.records import outbox  # noqa: F401
from models.records import webhooks  # noqa: F401
from models.records.base import Base
from models.records.base import make_engine
from models.records.migrate import alembic_config
from models.records.migrate import upgrade

pytestmark = pytest.mark.asyncio


async def _tables(url: str) -> set[str]:
    engine = make_engine(url)
    async with engine.connect() as conn:
        names = await conn.run_sync(lambda sync: set(inspect(sync).get_table_names()))
    await engine.dispose()
    return names


async def test_downgrade_and_upgrade_round_trip(database_url: str) -> None:
    assert {"mail_outbox", "email_verifications"} <= await _tables(database_url)
    await asyncio.to_thread(command.downgrade, alembic_config(database_url), "base")
    assert await _tables(database_url) <= {"alembic_version"}
    await asyncio.to_thread(upgrade, database_url)
    assert {"mail_outbox", "email_verifications"} <= await _tables(database_url)


async def test_the_migrated_schema_matches_the_models(database_url: str) -> None:
    def diff(conn: Connection) -> list[object]:
        context = MigrationContext.configure(conn, opts={"compare_type": False})
        return list(compare_metadata(context, Base.metadata))

    engine = make_engine(database_url)
    async with engine.connect() as conn:
        differences = await conn.run_sync(diff)
    await engine.dispose()
    assert differences == []
