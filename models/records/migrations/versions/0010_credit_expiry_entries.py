"""the credit ledger keeps expiries too: one grant and one expiry entry per credit license

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-21 18:10:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("credit_ledger", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("entry", sa.String(length=10), server_default="grant", nullable=False)
        )
        batch_op.drop_constraint("uq_credit_ledger_license_id", type_="unique")
        batch_op.create_unique_constraint(
            batch_op.f("uq_credit_ledger_license_id"), ["license_id", "entry"]
        )


def downgrade() -> None:
    with op.batch_alter_table("credit_ledger", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("uq_credit_ledger_license_id"), type_="unique")
        batch_op.create_unique_constraint("uq_credit_ledger_license_id", ["license_id"])
        batch_op.drop_column("entry")
