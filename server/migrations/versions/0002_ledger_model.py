"""ledger model

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "api_tokens",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("gateway", sa.String(length=64), nullable=False),
        sa.Column("token_sha256", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("name"),
        sa.UniqueConstraint("token_sha256"),
    )
    with op.batch_alter_table("locations", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("kind", sa.String(length=20), server_default="bin", nullable=False)
        )
        batch_op.add_column(
            sa.Column("negative", sa.String(length=8), server_default="refuse", nullable=False)
        )

    with op.batch_alter_table("movements", schema=None) as batch_op:
        batch_op.add_column(sa.Column("event_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(
            sa.Column("clock", sa.String(length=64), server_default="", nullable=False)
        )
        batch_op.add_column(
            sa.Column("flags", sa.String(length=64), server_default="", nullable=False)
        )
        batch_op.add_column(
            sa.Column("reason", sa.String(length=64), server_default="", nullable=False)
        )
        batch_op.add_column(
            sa.Column("unit_cost", sa.Numeric(precision=14, scale=4), nullable=True)
        )
        batch_op.create_index("ix_movements_event_at", ["event_at"], unique=False)

    with op.batch_alter_table("skus", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("safety_stock", sa.BigInteger(), server_default="0", nullable=False)
        )


def downgrade() -> None:
    with op.batch_alter_table("skus", schema=None) as batch_op:
        batch_op.drop_column("safety_stock")

    with op.batch_alter_table("movements", schema=None) as batch_op:
        batch_op.drop_index("ix_movements_event_at")
        batch_op.drop_column("unit_cost")
        batch_op.drop_column("reason")
        batch_op.drop_column("flags")
        batch_op.drop_column("clock")
        batch_op.drop_column("event_at")

    with op.batch_alter_table("locations", schema=None) as batch_op:
        batch_op.drop_column("negative")
        batch_op.drop_column("kind")

    op.drop_table("api_tokens")
