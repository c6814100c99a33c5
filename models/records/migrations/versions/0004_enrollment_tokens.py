"""enrollment tokens; registration of product instances

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-21 08:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "enrollment_tokens",
        sa.Column("id", sa.String(length=24), nullable=False),
        sa.Column("business_id", sa.String(length=36), nullable=False),
        sa.Column("instance_type", sa.String(length=50), nullable=False),
        sa.Column("description", sa.String(length=200), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("created_by", sa.String(length=36), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("max_uses", sa.Integer(), nullable=False),
        sa.Column("uses", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["business_id"],
            ["businesses.id"],
            name=op.f("fk_enrollment_tokens_business_id_businesses"),
        ),
        sa.ForeignKeyConstraint(
            ["created_by"], ["accounts.id"], name=op.f("fk_enrollment_tokens_created_by_accounts")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_enrollment_tokens")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_enrollment_tokens_token_hash")),
    )
    with op.batch_alter_table("enrollment_tokens", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_enrollment_tokens_business_id"), ["business_id"], unique=False
        )
    with op.batch_alter_table("product_instances", schema=None) as batch_op:
        batch_op.add_column(sa.Column("enrollment_token_id", sa.String(length=24), nullable=True))
        batch_op.add_column(sa.Column("registered_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("product_instances", schema=None) as batch_op:
        batch_op.drop_column("registered_at")
        batch_op.drop_column("enrollment_token_id")
    with op.batch_alter_table("enrollment_tokens", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_enrollment_tokens_business_id"))
    op.drop_table("enrollment_tokens")
