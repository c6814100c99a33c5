"""support's changes of a primary account, with their audit trail

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-21 17:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

PENDING = sa.text("status IN ('verifying', 'waiting')")


def upgrade() -> None:
    op.create_table(
        "primary_changes",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("business_id", sa.String(length=36), nullable=False),
        sa.Column("new_email", sa.String(length=320), nullable=False),
        sa.Column("ticket", sa.String(length=100), nullable=False),
        sa.Column("requested_by", sa.String(length=100), nullable=False),
        sa.Column("old_primary", sa.String(length=10), nullable=False),
        sa.Column("locale", sa.String(length=10), nullable=False),
        sa.Column("from_account_id", sa.String(length=36), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("objection_ends_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["business_id"],
            ["businesses.id"],
            name=op.f("fk_primary_changes_business_id_businesses"),
        ),
        sa.ForeignKeyConstraint(
            ["from_account_id"],
            ["accounts.id"],
            name=op.f("fk_primary_changes_from_account_id_accounts"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_primary_changes")),
    )
    with op.batch_alter_table("primary_changes", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_primary_changes_business_id"), ["business_id"], unique=False
        )
        batch_op.create_index(
            "uq_primary_changes_one_pending",
            ["business_id"],
            unique=True,
            postgresql_where=PENDING,
            sqlite_where=PENDING,
        )
    op.create_table(
        "primary_change_events",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("change_id", sa.String(length=36), nullable=False),
        sa.Column("step", sa.String(length=20), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["change_id"],
            ["primary_changes.id"],
            name=op.f("fk_primary_change_events_change_id_primary_changes"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_primary_change_events")),
        sa.UniqueConstraint("change_id", "step", name=op.f("uq_primary_change_events_change_id")),
    )
    with op.batch_alter_table("primary_change_events", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_primary_change_events_change_id"), ["change_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("primary_change_events", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_primary_change_events_change_id"))
    op.drop_table("primary_change_events")
    with op.batch_alter_table("primary_changes", schema=None) as batch_op:
        batch_op.drop_index(
            "uq_primary_changes_one_pending", postgresql_where=PENDING, sqlite_where=PENDING
        )
        batch_op.drop_index(batch_op.f("ix_primary_changes_business_id"))
    op.drop_table("primary_changes")
