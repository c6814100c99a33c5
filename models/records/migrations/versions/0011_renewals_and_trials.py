"""licenses know trials, and what a renewal or a paid order replaced

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-21 19:15:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("licenses", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("trial", sa.Boolean(), server_default=sa.false(), nullable=False)
        )
        batch_op.add_column(sa.Column("renews_license_id", sa.String(length=36), nullable=True))
        batch_op.add_column(sa.Column("converts_license_id", sa.String(length=36), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("licenses", schema=None) as batch_op:
        batch_op.drop_column("converts_license_id")
        batch_op.drop_column("renews_license_id")
        batch_op.drop_column("trial")
