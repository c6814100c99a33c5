"""on-premises licenses: the Activation Codes of license certificates, the installations holding
their seats and the audit of every change of a seat

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-06 02:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from models.records.base import UTCDateTime

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "license_codes",
        sa.Column("id", sa.String(length=24), nullable=False),
        sa.Column("order_id", sa.String(length=36), nullable=False),
        sa.Column("business_id", sa.String(length=36), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("product_code", sa.String(length=50), nullable=False),
        sa.Column("seats", sa.Integer(), nullable=False),
        sa.Column("expires_on", sa.Date(), nullable=False),
        sa.Column("code_hash", sa.String(length=64), nullable=False),
        sa.Column("sealed_code", sa.LargeBinary(), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("locale", sa.String(length=10), nullable=False),
        sa.Column(
            "created_at",
            UTCDateTime(),
            server_default=sa.text("(CURRENT_TIMESTAMP)"),
            nullable=False,
        ),  # fmt: skip
        sa.ForeignKeyConstraint(["business_id"], ["businesses.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("code_hash"),
        sa.UniqueConstraint("order_id", "position", name="uq_license_code_item"),
    )
    op.create_index("ix_license_codes_order_id", "license_codes", ["order_id"])
    op.create_index("ix_license_codes_business_id", "license_codes", ["business_id"])
    op.create_table(
        "installations",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("code_id", sa.String(length=24), nullable=False),
        sa.Column("fingerprint", sa.String(length=128), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("offline", sa.Boolean(), nullable=False),
        sa.Column("activated_at", UTCDateTime(), nullable=False),
        sa.Column("deactivated_at", UTCDateTime(), nullable=True),
        sa.Column("agreement_id", sa.String(length=60), nullable=False),
        sa.Column("agreement_version", sa.String(length=20), nullable=False),
        sa.Column("client_address", sa.String(length=64), nullable=True),
        sa.ForeignKeyConstraint(["code_id"], ["license_codes.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("code_id", "fingerprint", name="uq_installation"),
    )
    op.create_index("ix_installations_code_id", "installations", ["code_id"])
    op.create_table(
        "installation_events",
        sa.Column("code_id", sa.String(length=24), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("event", sa.String(length=12), nullable=False),
        sa.Column("fingerprint", sa.String(length=128), nullable=False),
        sa.Column("at", UTCDateTime(), nullable=False),
        sa.Column("client_address", sa.String(length=64), nullable=True),
        sa.ForeignKeyConstraint(["code_id"], ["license_codes.id"]),
        sa.PrimaryKeyConstraint("code_id", "number"),
    )


def downgrade() -> None:
    op.drop_table("installation_events")
    op.drop_index("ix_installations_code_id", table_name="installations")
    op.drop_table("installations")
    op.drop_index("ix_license_codes_business_id", table_name="license_codes")
    op.drop_index("ix_license_codes_order_id", table_name="license_codes")
    op.drop_table("license_codes")
