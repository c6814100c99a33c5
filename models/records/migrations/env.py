"""Alembic environment: runs migrations on the async engine the application uses."""

from __future__ import annotations

import asyncio

from alembic import context
from sqlalchemy.engine import Connection

from models.records import domain  # noqa: F401  (registers the tables on Base.metadata)
from models.records import events  # noqa: F401  (registers the tables on Base.metadata)
from models.records import on_premises  # noqa: F401  (registers the tables on Base.metadata)
from models.records import outbox  # noqa: F401  (registers the tables on Base.metadata)
from models.records import webhooks  # noqa: F401  (registers the tables on Base.metadata)
from models.records.base import Base
from models.records.base import make_engine

target_metadata = Base.metadata


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
    )
    with context.begin_transaction():
        context.run_migrations()


async def _run_async() -> None:
    engine = make_engine(context.config.get_main_option("sqlalchemy.url") or "")
    async with engine.connect() as connection:
        await connection.run_sync(_run)
        await connection.commit()
    await engine.dispose()


def _run_sync_or_async() -> None:
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        asyncio.run(_run_async())
        return
    raise RuntimeError(
        "call models.records.migrate.upgrade from a thread without a running event loop"
    )


_run_sync_or_async()
