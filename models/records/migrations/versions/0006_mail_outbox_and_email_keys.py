"""mail outbox (stored before sending, random link ids); case-insensitive account addresses

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-21 15:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

PRIMARY = sa.text("kind = 'primary'")


def upgrade() -> None:
    op.create_table(
        "mail_outbox",
        sa.Column("idempotency_key", sa.String(length=200), nullable=False),
        sa.Column("message_id", sa.String(length=200), nullable=False),
        sa.Column("template", sa.String(length=100), nullable=False),
        sa.Column("recipient", sa.String(length=320), nullable=False),
        sa.Column("recipient_key", sa.String(length=320), nullable=False),
        sa.Column("secret_hash", sa.String(length=64), nullable=True),
        sa.Column("link_id", sa.String(length=24), nullable=True),
        sa.Column("flow_id", sa.String(length=120), nullable=True),
        sa.Column("run_id", sa.String(length=64), nullable=True),
        sa.Column("body", sa.LargeBinary(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("idempotency_key", name=op.f("pk_mail_outbox")),
        sa.UniqueConstraint("link_id", name=op.f("uq_mail_outbox_link_id")),
    )
    op.create_index(
        "ix_mail_outbox_recipient_key_created_at", "mail_outbox", ["recipient_key", "created_at"]
    )
    # Mails sent before the outbox: kept as sent (their links keep the old routing rules).
    op.execute(
        "INSERT INTO mail_outbox (idempotency_key, message_id, template, recipient, "
        "recipient_key, secret_hash, created_at, sent_at) SELECT idempotency_key, message_id, "
        "template, recipient, lower(trim(recipient)), secret_hash, sent_at, sent_at "
        "FROM sent_messages"
    )
    op.drop_table("sent_messages")

    with op.batch_alter_table("accounts", schema=None) as batch_op:
        batch_op.add_column(sa.Column("email_key", sa.String(length=320), nullable=True))
    op.execute("UPDATE accounts SET email_key = lower(trim(email))")
    with op.batch_alter_table("accounts", schema=None) as batch_op:
        batch_op.alter_column("email_key", existing_type=sa.String(320), nullable=False)
        batch_op.drop_index(
            "uq_accounts_primary_email", postgresql_where=PRIMARY, sqlite_where=PRIMARY
        )
        batch_op.create_index(
            "uq_accounts_primary_email_key",
            ["email_key"],
            unique=True,
            postgresql_where=PRIMARY,
            sqlite_where=PRIMARY,
        )


def downgrade() -> None:
    with op.batch_alter_table("accounts", schema=None) as batch_op:
        batch_op.drop_index(
            "uq_accounts_primary_email_key", postgresql_where=PRIMARY, sqlite_where=PRIMARY
        )
        batch_op.create_index(
            "uq_accounts_primary_email",
            ["email"],
            unique=True,
            postgresql_where=PRIMARY,
            sqlite_where=PRIMARY,
        )
        batch_op.drop_column("email_key")
    op.create_table(
        "sent_messages",
        sa.Column("idempotency_key", sa.String(200), nullable=False),
        sa.Column("message_id", sa.String(200), nullable=False),
        sa.Column("template", sa.String(100), nullable=False),
        sa.Column("recipient", sa.String(320), nullable=False),
        sa.Column("secret_hash", sa.String(64), nullable=True),
        sa.Column(
            "sent_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.PrimaryKeyConstraint("idempotency_key", name=op.f("pk_sent_messages")),
    )
    op.execute(
        "INSERT INTO sent_messages (idempotency_key, message_id, template, recipient, "
        "secret_hash, sent_at) SELECT idempotency_key, message_id, template, recipient, "
        "secret_hash, sent_at FROM mail_outbox WHERE sent_at IS NOT NULL"
    )
    op.drop_index("ix_mail_outbox_recipient_key_created_at", table_name="mail_outbox")
    op.drop_table("mail_outbox")
