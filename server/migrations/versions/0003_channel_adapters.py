"""channel adapters: settings, remote ids and quantities, allocation, per-SKU overrides

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("channel_skus", schema=None) as batch_op:
        batch_op.add_column(sa.Column("remote_id", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("remote_qty", sa.BigInteger(), nullable=True))
        batch_op.add_column(sa.Column("ov_safety_stock", sa.BigInteger(), nullable=True))
        batch_op.add_column(sa.Column("ov_allocation_pct", sa.BigInteger(), nullable=True))
        batch_op.add_column(sa.Column("ov_max_qty", sa.BigInteger(), nullable=True))

    with op.batch_alter_table("channels", schema=None) as batch_op:
        batch_op.add_column(sa.Column("settings", sa.Text(), server_default="{}", nullable=False))
        batch_op.add_column(
            sa.Column("allocation_pct", sa.BigInteger(), server_default="100", nullable=False)
        )


def downgrade() -> None:
    with op.batch_alter_table("channels", schema=None) as batch_op:
        batch_op.drop_column("allocation_pct")
        batch_op.drop_column("settings")

    with op.batch_alter_table("channel_skus", schema=None) as batch_op:
        batch_op.drop_column("ov_max_qty")
        batch_op.drop_column("ov_allocation_pct")
        batch_op.drop_column("ov_safety_stock")
        batch_op.drop_column("remote_qty")
        batch_op.drop_column("remote_id")
