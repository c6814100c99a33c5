"""an instance remembers what the vendor's product answered for it: its console, its id there,
where its provisioning stands and where to ask

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-05 15:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("product_instances", schema=None) as batch_op:
        batch_op.add_column(sa.Column("console_url", sa.String(length=2000), nullable=True))
        batch_op.add_column(sa.Column("external_id", sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column("provisioning", sa.String(length=10), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("product_instances", schema=None) as batch_op:
        batch_op.drop_column("provisioning")
        batch_op.drop_column("external_id")
        batch_op.drop_column("console_url")
