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
    op.create_table(
        "company",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("valuation_method", sa.String(length=8), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("carrying_rate", sa.Numeric(precision=8, scale=4), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_table(
        "cycle_counts",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("ref", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("blind", sa.Boolean(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("opened_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("counted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("ref"),
    )
    op.create_table(
        "idempotency_keys",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("scope", sa.String(length=32), nullable=False),
        sa.Column("key", sa.String(length=100), nullable=False),
        sa.Column("fingerprint", sa.String(length=64), nullable=False),
        sa.Column("answer", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("scope", "key", name="uq_idempotency_keys"),
    )
    op.create_table(
        "suppliers",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("code", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("lead_time_days", sa.Integer(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("code"),
    )
    op.create_table(
        "cycle_count_skus",
        sa.Column("cycle_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("sku_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.ForeignKeyConstraint(
            ["cycle_id"],
            ["cycle_counts.id"],
        ),
        sa.ForeignKeyConstraint(
            ["sku_id"],
            ["skus.id"],
        ),
        sa.PrimaryKeyConstraint("cycle_id", "sku_id"),
    )
    op.create_table(
        "reorder_rules",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("sku_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("loc_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("point", sa.Integer(), nullable=False),
        sa.Column("qty", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["loc_id"],
            ["locations.id"],
        ),
        sa.ForeignKeyConstraint(
            ["sku_id"],
            ["skus.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("sku_id", "loc_id", name="uq_reorder_rules_key"),
    )
    op.create_table(
        "reservations",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("order_ref", sa.String(length=64), nullable=False),
        sa.Column("channel", sa.String(length=64), server_default="", nullable=False),
        sa.Column("sku_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("qty", sa.BigInteger(), nullable=False),
        sa.Column("consumed", sa.BigInteger(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["sku_id"],
            ["skus.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("order_ref", "sku_id", name="uq_reservations_order_sku"),
    )
    with op.batch_alter_table("reservations", schema=None) as batch_op:
        batch_op.create_index("ix_reservations_status_sku", ["status", "sku_id"], unique=False)

    op.create_table(
        "safety_stocks",
        sa.Column("sku_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("loc_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("qty", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["loc_id"],
            ["locations.id"],
        ),
        sa.ForeignKeyConstraint(
            ["sku_id"],
            ["skus.id"],
        ),
        sa.PrimaryKeyConstraint("sku_id", "loc_id"),
    )
    op.create_table(
        "cost_revisions",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column(
            "movement_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("unit_cost", sa.Numeric(precision=14, scale=4), nullable=False),
        sa.Column("note", sa.String(length=200), nullable=False),
        sa.Column("revised_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["movement_id"],
            ["movements.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("cost_revisions", schema=None) as batch_op:
        batch_op.create_index("ix_cost_revisions_movement", ["movement_id"], unique=False)

    op.create_table(
        "reservation_holds",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column(
            "reservation_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("sku_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("loc_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("reserved", sa.BigInteger(), nullable=False),
        sa.Column("consumed", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["loc_id"],
            ["locations.id"],
        ),
        sa.ForeignKeyConstraint(
            ["reservation_id"],
            ["reservations.id"],
        ),
        sa.ForeignKeyConstraint(
            ["sku_id"],
            ["skus.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("reservation_id", "loc_id", name="uq_reservation_holds_key"),
    )
    with op.batch_alter_table("reservation_holds", schema=None) as batch_op:
        batch_op.create_index("ix_reservation_holds_sku_loc", ["sku_id", "loc_id"], unique=False)

    op.create_table(
        "count_tallies",
        sa.Column("line_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("dev", sa.String(length=64), nullable=False),
        sa.Column("qty", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["line_id"],
            ["count_lines.id"],
        ),
        sa.PrimaryKeyConstraint("line_id", "dev"),
    )
    with op.batch_alter_table("count_lines", schema=None) as batch_op:
        batch_op.add_column(sa.Column("expected", sa.BigInteger(), nullable=True))
        batch_op.add_column(sa.Column("counted_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("reset_at", sa.DateTime(timezone=True), nullable=True))

    with op.batch_alter_table("counts", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "cycle_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True
            )
        )
        batch_op.create_index("ix_counts_cycle", ["cycle_id"], unique=False)
        batch_op.create_index("ix_counts_loc", ["loc_id"], unique=False)

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
        batch_op.create_index("ix_movements_from_loc", ["from_loc_id"], unique=False)
        batch_op.create_index("ix_movements_to_loc", ["to_loc_id"], unique=False)

    with op.batch_alter_table("po_lines", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("invoiced_cost", sa.Numeric(precision=14, scale=4), nullable=True)
        )

    with op.batch_alter_table("purchase_orders", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("status", sa.String(length=20), server_default="open", nullable=False)
        )
        batch_op.add_column(
            sa.Column(
                "supplier_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True
            )
        )
        batch_op.add_column(sa.Column("expected_on", sa.Date(), nullable=True))
        batch_op.add_column(sa.Column("submitted_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(
            sa.Column("note", sa.String(length=200), server_default="", nullable=False)
        )
        batch_op.create_index("ix_purchase_orders_status", ["status"], unique=False)

    with op.batch_alter_table("reorder_alerts", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("loc_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True)
        )
        batch_op.add_column(
            sa.Column("po_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True)
        )
        batch_op.add_column(
            sa.Column("closed_reason", sa.String(length=16), server_default="", nullable=False)
        )
        batch_op.add_column(
            sa.Column("note", sa.String(length=200), server_default="", nullable=False)
        )

    with op.batch_alter_table("skus", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("safety_stock", sa.BigInteger(), server_default="0", nullable=False)
        )
        batch_op.add_column(
            sa.Column(
                "supplier_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True
            )
        )


def downgrade() -> None:
    with op.batch_alter_table("skus", schema=None) as batch_op:
        batch_op.drop_column("supplier_id")
        batch_op.drop_column("safety_stock")

    with op.batch_alter_table("reorder_alerts", schema=None) as batch_op:
        batch_op.drop_column("note")
        batch_op.drop_column("closed_reason")
        batch_op.drop_column("po_id")
        batch_op.drop_column("loc_id")

    with op.batch_alter_table("purchase_orders", schema=None) as batch_op:
        batch_op.drop_index("ix_purchase_orders_status")
        batch_op.drop_column("note")
        batch_op.drop_column("closed_at")
        batch_op.drop_column("submitted_at")
        batch_op.drop_column("expected_on")
        batch_op.drop_column("supplier_id")
        batch_op.drop_column("status")

    with op.batch_alter_table("po_lines", schema=None) as batch_op:
        batch_op.drop_column("invoiced_cost")

    with op.batch_alter_table("movements", schema=None) as batch_op:
        batch_op.drop_index("ix_movements_to_loc")
        batch_op.drop_index("ix_movements_from_loc")
        batch_op.drop_index("ix_movements_event_at")
        batch_op.drop_column("unit_cost")
        batch_op.drop_column("reason")
        batch_op.drop_column("flags")
        batch_op.drop_column("clock")
        batch_op.drop_column("event_at")

    with op.batch_alter_table("locations", schema=None) as batch_op:
        batch_op.drop_column("negative")
        batch_op.drop_column("kind")

    with op.batch_alter_table("counts", schema=None) as batch_op:
        batch_op.drop_index("ix_counts_loc")
        batch_op.drop_index("ix_counts_cycle")
        batch_op.drop_column("cycle_id")

    with op.batch_alter_table("count_lines", schema=None) as batch_op:
        batch_op.drop_column("reset_at")
        batch_op.drop_column("counted_at")
        batch_op.drop_column("expected")

    op.drop_table("count_tallies")
    with op.batch_alter_table("reservation_holds", schema=None) as batch_op:
        batch_op.drop_index("ix_reservation_holds_sku_loc")

    op.drop_table("reservation_holds")
    with op.batch_alter_table("cost_revisions", schema=None) as batch_op:
        batch_op.drop_index("ix_cost_revisions_movement")

    op.drop_table("cost_revisions")
    op.drop_table("safety_stocks")
    with op.batch_alter_table("reservations", schema=None) as batch_op:
        batch_op.drop_index("ix_reservations_status_sku")

    op.drop_table("reservations")
    op.drop_table("reorder_rules")
    op.drop_table("cycle_count_skus")
    op.drop_table("suppliers")
    op.drop_table("idempotency_keys")
    op.drop_table("cycle_counts")
    op.drop_table("company")
    op.drop_table("api_tokens")
