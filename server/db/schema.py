"""The ledger's tables (SQLAlchemy Core). Lot-less stock uses lot '' so keys stay unique."""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    Numeric,
    String,
    Table,
    Text,
    UniqueConstraint,
)

metadata = MetaData()
# BIGINT ids on PostgreSQL; SQLite only auto-increments an INTEGER PRIMARY KEY.
Id = BigInteger().with_variant(Integer(), "sqlite")
Ts = DateTime(timezone=True)


def _id() -> Column[int]:
    return Column("id", Id, primary_key=True, autoincrement=True)


skus = Table(
    "skus",
    metadata,
    _id(),
    Column("sku", String(64), nullable=False, unique=True),
    Column("name", String(200), nullable=False, default=""),
    Column("unit_cost", Numeric(14, 4), nullable=False, default=0),
    Column("reorder_point", Integer, nullable=True),
    Column("reorder_qty", Integer, nullable=True),
    # held back from every channel and from `available` (per location: location_policies)
    Column("safety_stock", BigInteger, nullable=False, default=0, server_default="0"),
)

gtins = Table(
    "gtins",
    metadata,
    Column("gtin14", String(14), primary_key=True),
    Column("sku_id", Id, ForeignKey("skus.id"), nullable=False),
    Column("multiplier", Integer, nullable=False, default=1),
)

locations = Table(
    "locations",
    metadata,
    _id(),
    Column("code", String(64), nullable=False, unique=True),
    Column("parent_id", Id, ForeignKey("locations.id"), nullable=True),
    Column("virtual", Boolean, nullable=False, default=False),
    # virtual locations that must never go negative (in-transit per transfer ref)
    Column("covered", Boolean, nullable=False, default=True),
    # site | warehouse | zone | bin for real ones; the virtual ones' kind is their code
    Column("kind", String(20), nullable=False, default="bin", server_default="bin"),
    # what a movement that would take on hand below 0 here does: refuse | allow (and flag)
    Column("negative", String(8), nullable=False, default="refuse", server_default="refuse"),
)

movements = Table(
    "movements",
    metadata,
    _id(),
    Column("sku_id", Id, ForeignKey("skus.id"), nullable=False),
    Column("from_loc_id", Id, ForeignKey("locations.id"), nullable=False),
    Column("to_loc_id", Id, ForeignKey("locations.id"), nullable=False),
    Column("qty", BigInteger, nullable=False),
    Column("lot", String(64), nullable=False, default=""),
    Column("expiry", Date, nullable=True),
    Column("serial", String(64), nullable=False, default=""),
    Column("kind", String(20), nullable=False),
    Column("ref", String(64), nullable=False, default=""),
    Column("event_id", String(100), nullable=True),
    Column("device_ts", BigInteger, nullable=True),
    Column("gateway_ts", BigInteger, nullable=True),
    Column("booked_at", Ts, nullable=False),
    # when it happened as far as the ledger trusts: the device's time unless flagged
    Column("event_at", Ts, nullable=True),
    Column("clock", String(64), nullable=False, default="", server_default=""),  # skew flag
    Column("flags", String(64), nullable=False, default="", server_default=""),  # e.g. negative
    Column("reason", String(64), nullable=False, default="", server_default=""),  # why / condition
    Column("unit_cost", Numeric(14, 4), nullable=True),  # receipts: the purchase cost
    Index("ix_movements_sku_kind", "sku_id", "kind"),
    Index("ix_movements_event_at", "event_at"),
)

balances = Table(
    "balances",
    metadata,
    _id(),
    Column("sku_id", Id, ForeignKey("skus.id"), nullable=False),
    Column("loc_id", Id, ForeignKey("locations.id"), nullable=False),
    Column("lot", String(64), nullable=False, default=""),
    Column("expiry", Date, nullable=True),
    Column("on_hand", BigInteger, nullable=False, default=0),
    Column("reserved", BigInteger, nullable=False, default=0),
    UniqueConstraint("sku_id", "loc_id", "lot", name="uq_balances_key"),
)

processed_events = Table(
    "processed_events",
    metadata,
    _id(),
    Column("event_id", String(100), nullable=False, unique=True),
    Column("dev", String(64), nullable=False),
    Column("seq", BigInteger, nullable=False),
    Column("gateway", String(64), nullable=False, default=""),
    Column("status", String(16), nullable=False),  # booked | refused
    Column("reason", String(64), nullable=False, default=""),
    Column("detail", Text, nullable=False, default=""),
    Column("mode", String(32), nullable=False, default=""),
    Column("loc", String(64), nullable=False, default=""),
    Column("ref", String(64), nullable=False, default=""),
    Column("code", Text, nullable=False, default=""),
    Column("qty", BigInteger, nullable=False, default=0),
    Column("processed_at", Ts, nullable=False),
    Index("ix_processed_dev", "dev", "id"),
)

quarantine = Table(
    "quarantine",
    metadata,
    _id(),
    Column("event_id", String(100), nullable=True),
    Column("dev", String(64), nullable=False, default=""),
    Column("seq", BigInteger, nullable=True),
    Column("gateway", String(64), nullable=False, default=""),
    Column("code", Text, nullable=False, default=""),
    Column("sym", String(8), nullable=False, default=""),
    Column("mode", String(32), nullable=False, default=""),
    Column("loc", String(64), nullable=False, default=""),
    Column("ref", String(64), nullable=False, default=""),
    Column("qty", BigInteger, nullable=False, default=1),
    Column("device_ts", BigInteger, nullable=True),
    Column("gateway_ts", BigInteger, nullable=True),
    Column("raw", Text, nullable=False, default=""),
    Column("reason", String(64), nullable=False),
    Column("detail", Text, nullable=False, default=""),
    Column("status", String(16), nullable=False, default="open"),  # open | replayed
    Column("attempts", Integer, nullable=False, default=1),
    Column("created_at", Ts, nullable=False),
    Column("replayed_at", Ts, nullable=True),
)

purchase_orders = Table(
    "purchase_orders",
    metadata,
    _id(),
    Column("ref", String(64), nullable=False, unique=True),
    Column("created_at", Ts, nullable=False),
)

po_lines = Table(
    "po_lines",
    metadata,
    _id(),
    Column("po_id", Id, ForeignKey("purchase_orders.id"), nullable=False),
    Column("sku_id", Id, ForeignKey("skus.id"), nullable=False),
    Column("qty_ordered", BigInteger, nullable=False),
    Column("qty_received", BigInteger, nullable=False, default=0),
    Column("unit_cost", Numeric(14, 4), nullable=False, default=0),
    UniqueConstraint("po_id", "sku_id", name="uq_po_lines_sku"),
)

counts = Table(
    "counts",
    metadata,
    _id(),
    Column("ref", String(64), nullable=False),
    Column("loc_id", Id, ForeignKey("locations.id"), nullable=False),
    Column("status", String(16), nullable=False, default="open"),  # open | closed
    Column("opened_at", Ts, nullable=False),
    Column("closed_at", Ts, nullable=True),
    UniqueConstraint("ref", "loc_id", name="uq_counts_ref_loc"),
)

count_lines = Table(
    "count_lines",
    metadata,
    _id(),
    Column("count_id", Id, ForeignKey("counts.id"), nullable=False),
    Column("sku_id", Id, ForeignKey("skus.id"), nullable=False),
    Column("lot", String(64), nullable=False, default=""),
    Column("counted", BigInteger, nullable=False, default=0),
    Column("snapshot", BigInteger, nullable=False),
    Column("variance", BigInteger, nullable=True),
    UniqueConstraint("count_id", "sku_id", "lot", name="uq_count_lines_key"),
)

stocktakes = Table(
    "stocktakes",
    metadata,
    _id(),
    Column("ref", String(64), nullable=False, unique=True),
    Column("created_at", Ts, nullable=False),
)

reorder_alerts = Table(
    "reorder_alerts",
    metadata,
    _id(),
    Column("sku_id", Id, ForeignKey("skus.id"), nullable=False),
    Column("available", BigInteger, nullable=False),
    Column("reorder_point", Integer, nullable=False),
    Column("suggested_qty", Integer, nullable=False),
    Column("raised_at", Ts, nullable=False),
    Column("closed_at", Ts, nullable=True),
    Index("ix_reorder_open", "sku_id", "closed_at"),
)

channels = Table(
    "channels",
    metadata,
    _id(),
    Column("name", String(64), nullable=False, unique=True),
    Column("kind", String(20), nullable=False),
    Column("url", Text, nullable=False),
    Column("secret", Text, nullable=False),
    Column("safety_stock", BigInteger, nullable=False, default=0),
    Column("locations", Text, nullable=False, default='"all"'),  # JSON: "all" or [codes]
    Column("last_push_at", Ts, nullable=True),
    Column("pushes", BigInteger, nullable=False, default=0),
    Column("failures", BigInteger, nullable=False, default=0),
    Column("last_error", Text, nullable=False, default=""),
)

# The transactional outbox: a booking bumps `gen` for every (channel, sku) it changes.
channel_dirty = Table(
    "channel_dirty",
    metadata,
    Column("channel_id", Id, ForeignKey("channels.id"), primary_key=True),
    Column("sku_id", Id, ForeignKey("skus.id"), primary_key=True),
    Column("gen", BigInteger, nullable=False, default=1),
    Column("changed_at", Ts, nullable=False),
)

channel_skus = Table(
    "channel_skus",
    metadata,
    Column("channel_id", Id, ForeignKey("channels.id"), primary_key=True),
    Column("sku_id", Id, ForeignKey("skus.id"), primary_key=True),
    Column("version", BigInteger, nullable=False, default=0),
    Column("available", BigInteger, nullable=True),
    Column("on_hand", BigInteger, nullable=True),
    Column("pushed_at", Ts, nullable=True),
)

# API tokens an admin issued (the config file's admin and gateway tokens are not stored here).
api_tokens = Table(
    "api_tokens",
    metadata,
    _id(),
    Column("name", String(64), nullable=False, unique=True),
    Column("role", String(16), nullable=False),  # admin | clerk | readonly | gateway
    Column("gateway", String(64), nullable=False, default=""),  # the gateway id, role gateway
    Column("token_sha256", String(64), nullable=False, unique=True),
    Column("created_at", Ts, nullable=False),
    Column("revoked_at", Ts, nullable=True),
)
