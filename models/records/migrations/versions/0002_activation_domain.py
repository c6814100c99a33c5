"""activation domain

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-21 06:56:27.658774
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:

    op.create_table(
        "businesses",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("region", sa.String(length=20), nullable=False),
        sa.Column("credit_balance", sa.Integer(), nullable=False),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_businesses")),
    )
    op.create_table(
        "orders",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("company_name", sa.String(length=200), nullable=False),
        sa.Column("contact_email", sa.String(length=320), nullable=False),
        sa.Column("region", sa.String(length=20), nullable=False),
        sa.Column("locale", sa.String(length=10), nullable=False),
        sa.Column("activation_code_hash", sa.String(length=64), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("business_id", sa.String(length=36), nullable=True),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["business_id"], ["businesses.id"], name=op.f("fk_orders_business_id_businesses")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_orders")),
        sa.UniqueConstraint("activation_code_hash", name=op.f("uq_orders_activation_code_hash")),
    )
    with op.batch_alter_table("orders", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_orders_business_id"), ["business_id"], unique=False)

    op.create_table(
        "product_instances",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("business_id", sa.String(length=36), nullable=False),
        sa.Column("product_code", sa.String(length=50), nullable=False),
        sa.Column("region", sa.String(length=20), nullable=False),
        sa.Column("registration_status", sa.String(length=14), nullable=False),
        sa.Column("description", sa.String(length=200), nullable=True),
        sa.Column("license_id", sa.String(length=36), nullable=True),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.ForeignKeyConstraint(
            ["business_id"],
            ["businesses.id"],
            name=op.f("fk_product_instances_business_id_businesses"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_product_instances")),
        sa.UniqueConstraint("license_id", name=op.f("uq_product_instances_license_id")),
    )
    with op.batch_alter_table("product_instances", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_product_instances_business_id"), ["business_id"], unique=False
        )

    op.create_table(
        "accounts",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("business_id", sa.String(length=36), nullable=False),
        sa.Column("email", sa.String(length=320), nullable=False),
        sa.Column("display_name", sa.String(length=200), nullable=True),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("instance_id", sa.String(length=36), nullable=True),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.ForeignKeyConstraint(
            ["business_id"], ["businesses.id"], name=op.f("fk_accounts_business_id_businesses")
        ),
        sa.ForeignKeyConstraint(
            ["instance_id"],
            ["product_instances.id"],
            name=op.f("fk_accounts_instance_id_product_instances"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_accounts")),
    )
    with op.batch_alter_table("accounts", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_accounts_business_id"), ["business_id"], unique=False)
        batch_op.create_index(
            "uq_accounts_one_primary",
            ["business_id"],
            unique=True,
            postgresql_where=sa.text("kind = 'primary'"),
            sqlite_where=sa.text("kind = 'primary'"),
        )
        batch_op.create_index(
            "uq_accounts_primary_email",
            ["email"],
            unique=True,
            postgresql_where=sa.text("kind = 'primary'"),
            sqlite_where=sa.text("kind = 'primary'"),
        )

    op.create_table(
        "licenses",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("order_id", sa.String(length=36), nullable=False),
        sa.Column("product_code", sa.String(length=50), nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("units", sa.Integer(), nullable=False),
        sa.Column("credits", sa.Integer(), nullable=False),
        sa.Column("expires_on", sa.Date(), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("instance_id", sa.String(length=36), nullable=True),
        sa.ForeignKeyConstraint(
            ["instance_id"],
            ["product_instances.id"],
            name=op.f("fk_licenses_instance_id_product_instances"),
        ),
        sa.ForeignKeyConstraint(
            ["order_id"], ["orders.id"], name=op.f("fk_licenses_order_id_orders")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_licenses")),
    )
    with op.batch_alter_table("licenses", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_licenses_order_id"), ["order_id"], unique=False)

    op.create_table(
        "agreement_acceptances",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("account_id", sa.String(length=36), nullable=False),
        sa.Column("agreement_id", sa.String(length=60), nullable=False),
        sa.Column("version", sa.String(length=20), nullable=False),
        sa.Column("order_id", sa.String(length=36), nullable=False),
        sa.Column("client_address", sa.String(length=64), nullable=True),
        sa.Column("accepted_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["accounts.id"],
            name=op.f("fk_agreement_acceptances_account_id_accounts"),
        ),
        sa.ForeignKeyConstraint(
            ["order_id"], ["orders.id"], name=op.f("fk_agreement_acceptances_order_id_orders")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_agreement_acceptances")),
        sa.UniqueConstraint(
            "account_id",
            "agreement_id",
            "version",
            "order_id",
            name="uq_agreement_acceptances_once",
        ),
    )
    with op.batch_alter_table("agreement_acceptances", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_agreement_acceptances_account_id"), ["account_id"], unique=False
        )

    op.create_table(
        "credit_ledger",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("business_id", sa.String(length=36), nullable=False),
        sa.Column("license_id", sa.String(length=36), nullable=False),
        sa.Column("amount", sa.Integer(), nullable=False),
        sa.Column("expires_on", sa.Date(), nullable=False),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.ForeignKeyConstraint(
            ["business_id"], ["businesses.id"], name=op.f("fk_credit_ledger_business_id_businesses")
        ),
        sa.ForeignKeyConstraint(
            ["license_id"], ["licenses.id"], name=op.f("fk_credit_ledger_license_id_licenses")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_credit_ledger")),
        sa.UniqueConstraint("license_id", name=op.f("uq_credit_ledger_license_id")),
    )
    with op.batch_alter_table("credit_ledger", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_credit_ledger_business_id"), ["business_id"], unique=False
        )


def downgrade() -> None:

    with op.batch_alter_table("credit_ledger", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_credit_ledger_business_id"))

    op.drop_table("credit_ledger")
    with op.batch_alter_table("agreement_acceptances", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_agreement_acceptances_account_id"))

    op.drop_table("agreement_acceptances")
    with op.batch_alter_table("licenses", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_licenses_order_id"))

    op.drop_table("licenses")
    with op.batch_alter_table("accounts", schema=None) as batch_op:
        batch_op.drop_index(
            "uq_accounts_primary_email",
            postgresql_where=sa.text("kind = 'primary'"),
            sqlite_where=sa.text("kind = 'primary'"),
        )
        batch_op.drop_index(
            "uq_accounts_one_primary",
            postgresql_where=sa.text("kind = 'primary'"),
            sqlite_where=sa.text("kind = 'primary'"),
        )
        batch_op.drop_index(batch_op.f("ix_accounts_business_id"))

    op.drop_table("accounts")
    with op.batch_alter_table("product_instances", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_product_instances_business_id"))

    op.drop_table("product_instances")
    with op.batch_alter_table("orders", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_orders_business_id"))

    op.drop_table("orders")
    op.drop_table("businesses")
