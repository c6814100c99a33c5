"""an agreement acceptance keeps the browser's user agent

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-21 16:20:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("agreement_acceptances", schema=None) as batch_op:
        batch_op.add_column(sa.Column("user_agent", sa.String(length=300), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("agreement_acceptances", schema=None) as batch_op:
        batch_op.drop_column("user_agent")
