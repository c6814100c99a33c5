"""A mailed link's token is never readable on the database's disk: not in its files, its
write-ahead log or its dead rows, while the mail waits to be sent nor after it was sent."""

from __future__ import annotations

from datetime import UTC
from datetime import datetime
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlalchemy.ext.asyncio import create_async_engine

from activities.mail import Link
from activities.mail import Mail
from activities.mail import MailSender
from core.settings import Settings
from models.records.outbox import OutboxMessage
from tests.support.mail import MailSink
from tests.support.mail import token_in

pytestmark = pytest.mark.asyncio
Sessions = async_sessionmaker[AsyncSession]
CONTEXT = {"expires_at": datetime(2030, 1, 2, tzinfo=UTC), "purpose": "signup", "about": None}


async def files_of(database_url: str, sessions: Sessions) -> list[Path]:
    """The files that hold the outbox: SQLite's database and its log; PostgreSQL's table, its
    TOAST table (bodies of a few kB live there) and its write-ahead log."""
    if database_url.startswith("sqlite"):
        path = Path(database_url.partition(":///")[2])
        return [path, path.with_name(path.name + "-wal")]
    admin = create_async_engine(database_url, isolation_level="AUTOCOMMIT")
    async with admin.connect() as conn:
        await conn.execute(text("CHECKPOINT"))
        data_dir = Path(await conn.scalar(text("SHOW data_directory")))
        relations = await conn.execute(
            text(
                "SELECT pg_relation_filepath(oid), pg_relation_filepath(reltoastrelid) "
                "FROM pg_class WHERE relname = 'mail_outbox'"
            )
        )
    await admin.dispose()
    (table, toast) = relations.one()
    found = [*sorted((data_dir / "pg_wal").glob("0*"))]
    for relation in (table, toast):
        found += sorted(data_dir.glob(relation + "*"))
    return found


async def test_no_mailed_token_is_on_the_database_disk(
    settings: Settings, sessions: Sessions, smtp: MailSink, database_url: str
) -> None:
    if database_url.startswith("postgresql"):
        # Stored uncompressed, as a deployment may choose: a token would be readable as it is.
        async with sessions.begin() as session:
            await session.execute(
                text("ALTER TABLE mail_outbox ALTER COLUMN body SET STORAGE EXTERNAL")
            )
    mail = MailSender(settings, sessions)
    link = Link("http://x/verify-email?token={token}", "flow-1", "run-1")
    for number in range(4):
        to = f"reader{number}@example.com"
        await mail.send(f"k{number}", Mail("email_verification", to, "en", CONTEXT), link)
    # One mail stays unsent (its server refused it for now): its stored body is sealed too.
    smtp.handler.refusing = True
    with pytest.raises(Exception):  # noqa: B017 - the refusal, retried by the flow later
        await mail.send("k-later", Mail("email_verification", "x@example.com", "en", CONTEXT), link)
    async with sessions() as session:
        waiting = await session.get(OutboxMessage, "k-later")
        assert waiting is not None and waiting.body is not None and waiting.sent_at is None

    tokens = [token_in(message) for message in await smtp.wait_for(4)]
    secrets = [token.partition(".")[2] for token in tokens]
    files = await files_of(database_url, sessions)
    assert files and all(path.exists() for path in files[:1])
    for path in files:
        content = path.read_bytes() if path.exists() else b""
        for secret in secrets:
            # In pieces: the mail's lines are wrapped (quoted-printable) inside a token.
            pieces = [secret[start : start + 10] for start in range(0, len(secret) - 10, 5)]
            readable = [piece for piece in pieces if piece.encode() in content]
            assert not readable, f"a mailed token is readable in {path}"
