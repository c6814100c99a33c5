"""a primary change names the verification that proves its new address

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-05 12:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("primary_changes", schema=None) as batch_op:
        batch_op.add_column(sa.Column("verification_id", sa.String(length=120), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("primary_changes", schema=None) as batch_op:
        batch_op.drop_column("verification_id")
