"""activation codes per emailed link; order reference and activation time

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-21 07:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # One code per emailed link (reminders carry their own), so the hash moves to its own table.
    op.create_table(
        "activation_codes",
        sa.Column("code_hash", sa.String(length=64), nullable=False),
        sa.Column("order_id", sa.String(length=36), nullable=False),
        sa.Column("link_number", sa.Integer(), nullable=False),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.ForeignKeyConstraint(
            ["order_id"], ["orders.id"], name=op.f("fk_activation_codes_order_id_orders")
        ),
        sa.PrimaryKeyConstraint("code_hash", name=op.f("pk_activation_codes")),
    )
    with op.batch_alter_table("activation_codes", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_activation_codes_order_id"), ["order_id"], unique=False
        )
    with op.batch_alter_table("orders", schema=None) as batch_op:
        batch_op.drop_constraint("uq_orders_activation_code_hash", type_="unique")
        batch_op.drop_column("activation_code_hash")
        batch_op.add_column(sa.Column("reference", sa.String(length=100), nullable=True))
        batch_op.add_column(sa.Column("activated_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.create_unique_constraint(batch_op.f("uq_orders_reference"), ["reference"])


def downgrade() -> None:
    with op.batch_alter_table("orders", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("uq_orders_reference"), type_="unique")
        batch_op.drop_column("activated_at")
        batch_op.drop_column("reference")
        # Pending orders lose their links on a downgrade: a placeholder keeps the column valid.
        batch_op.add_column(
            sa.Column(
                "activation_code_hash", sa.String(length=64), nullable=False, server_default=""
            )
        )
    with op.batch_alter_table("activation_codes", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_activation_codes_order_id"))
    op.drop_table("activation_codes")
