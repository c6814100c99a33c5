"""initial schema: sent messages and email-verification outcomes

Revision ID: 0001
Revises:
Create Date: 2026-11-21
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
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
    op.create_table(
        "email_verifications",
        sa.Column("flow_id", sa.String(100), nullable=False),
        sa.Column("run_id", sa.String(64), nullable=False),
        sa.Column("email", sa.String(320), nullable=False),
        sa.Column("purpose", sa.String(50), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("business_id", sa.String(64), nullable=True),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("flow_id", "run_id", name=op.f("pk_email_verifications")),
    )
    op.create_index(
        "ix_email_verifications_email_status", "email_verifications", ["email", "status"]
    )


def downgrade() -> None:
    op.drop_index("ix_email_verifications_email_status", table_name="email_verifications")
    op.drop_table("email_verifications")
    op.drop_table("sent_messages")
