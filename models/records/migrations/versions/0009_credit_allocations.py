"""credits set aside per sensor kind, and the daily sandbox usage

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-21 18:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "credit_allocations",
        sa.Column("business_id", sa.String(length=36), nullable=False),
        sa.Column("sensor_code", sa.String(length=50), nullable=False),
        sa.Column("units", sa.Integer(), nullable=False),
        sa.Column("credits", sa.Integer(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["business_id"],
            ["businesses.id"],
            name=op.f("fk_credit_allocations_business_id_businesses"),
        ),
        sa.PrimaryKeyConstraint("business_id", "sensor_code", name=op.f("pk_credit_allocations")),
    )
    op.create_table(
        "sandbox_usage",
        sa.Column("business_id", sa.String(length=36), nullable=False),
        sa.Column("period", sa.Date(), nullable=False),
        sa.Column("used", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["business_id"],
            ["businesses.id"],
            name=op.f("fk_sandbox_usage_business_id_businesses"),
        ),
        sa.PrimaryKeyConstraint("business_id", name=op.f("pk_sandbox_usage")),
    )


def downgrade() -> None:
    op.drop_table("sandbox_usage")
    op.drop_table("credit_allocations")
