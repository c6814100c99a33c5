"""local account invitations; ownership transfers

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-21 10:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

PENDING = sa.text("status = 'pending'")


def upgrade() -> None:
    with op.batch_alter_table("accounts", schema=None) as batch_op:
        batch_op.add_column(sa.Column("locale", sa.String(length=10), nullable=True))
        batch_op.add_column(sa.Column("invited_by", sa.String(length=36), nullable=True))
        batch_op.add_column(
            sa.Column("invitation_expires_at", sa.DateTime(timezone=True), nullable=True)
        )
        batch_op.add_column(sa.Column("activated_at", sa.DateTime(timezone=True), nullable=True))
    op.create_table(
        "ownership_transfers",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("business_id", sa.String(length=36), nullable=False),
        sa.Column("from_account_id", sa.String(length=36), nullable=False),
        sa.Column("to_account_id", sa.String(length=36), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["business_id"],
            ["businesses.id"],
            name=op.f("fk_ownership_transfers_business_id_businesses"),
        ),
        sa.ForeignKeyConstraint(
            ["from_account_id"],
            ["accounts.id"],
            name=op.f("fk_ownership_transfers_from_account_id_accounts"),
        ),
        sa.ForeignKeyConstraint(
            ["to_account_id"],
            ["accounts.id"],
            name=op.f("fk_ownership_transfers_to_account_id_accounts"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ownership_transfers")),
    )
    with op.batch_alter_table("ownership_transfers", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_ownership_transfers_business_id"), ["business_id"], unique=False
        )
        batch_op.create_index(
            "uq_ownership_transfers_one_pending",
            ["business_id"],
            unique=True,
            postgresql_where=PENDING,
            sqlite_where=PENDING,
        )


def downgrade() -> None:
    with op.batch_alter_table("ownership_transfers", schema=None) as batch_op:
        batch_op.drop_index(
            "uq_ownership_transfers_one_pending", postgresql_where=PENDING, sqlite_where=PENDING
        )
        batch_op.drop_index(batch_op.f("ix_ownership_transfers_business_id"))
    op.drop_table("ownership_transfers")
    with op.batch_alter_table("accounts", schema=None) as batch_op:
        batch_op.drop_column("activated_at")
        batch_op.drop_column("invitation_expires_at")
        batch_op.drop_column("invited_by")
        batch_op.drop_column("locale")
