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
    # held back from every channel and from `available` (per location: safety_stocks)
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
    Column("status", String(16), nullable=False, default="open"),  # open | closed | cancelled
    Column("opened_at", Ts, nullable=False),
    Column("closed_at", Ts, nullable=True),
    UniqueConstraint("ref", "loc_id", name="uq_counts_ref_loc"),  # a count's sheet per bin
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
    # the share of the available stock this channel is told (a floor), percent
    Column("allocation_pct", BigInteger, nullable=False, default=100, server_default="100"),
    Column("locations", Text, nullable=False, default='"all"'),  # JSON: "all" or [codes]
    # JSON: the adapter's own settings (shopify: location_id, api_version); never a secret
    Column("settings", Text, nullable=False, default="{}", server_default="{}"),
    # the secret the channel signs its order webhooks with ("": the channel's `secret`)
    Column("order_secret", Text, nullable=False, default="", server_default=""),
    Column("last_push_at", Ts, nullable=True),
    Column("pushes", BigInteger, nullable=False, default=0),
    Column("failures", BigInteger, nullable=False, default=0),
    Column("last_error", Text, nullable=False, default=""),
)

# An OAuth platform's tokens for a channel (shopee): secret, refreshed by its adapter.
channel_tokens = Table(
    "channel_tokens",
    metadata,
    Column("channel_id", Id, ForeignKey("channels.id"), primary_key=True),
    Column("access_token", Text, nullable=False),
    Column("refresh_token", Text, nullable=False),
    Column("expires_at", BigInteger, nullable=False),  # Unix seconds
)

# Order webhooks already taken (a platform delivers at least once): one row per delivery.
channel_events = Table(
    "channel_events",
    metadata,
    Column("channel_id", Id, ForeignKey("channels.id"), primary_key=True),
    Column("event_key", String(200), primary_key=True),
    Column("received_at", Ts, nullable=False),
)

# A channel order for more than was available: the units it could not hold (flagged at once).
oversells = Table(
    "oversells",
    metadata,
    _id(),
    Column("channel_id", Id, ForeignKey("channels.id"), nullable=False),
    Column("order_ref", String(64), nullable=False),
    Column("sku_id", Id, ForeignKey("skus.id"), nullable=False),
    Column("qty", BigInteger, nullable=False),  # ordered
    Column("short", BigInteger, nullable=False),  # of those, not available
    Column("at", Ts, nullable=False),
    Index("ix_oversells_channel", "channel_id", "at"),
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
    # what the platform calls the SKU (shopify: its InventoryItem gid) and the quantity it
    # last held, as read or set by us: the compare-and-set's expected value
    Column("remote_id", Text, nullable=True),
    Column("remote_qty", BigInteger, nullable=True),
    # an admin's override for this SKU on this channel (null: the channel's own setting)
    Column("ov_safety_stock", BigInteger, nullable=True),
    Column("ov_allocation_pct", BigInteger, nullable=True),
    Column("ov_max_qty", BigInteger, nullable=True),  # never tell the channel more than this
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

# A supplier's invoice correcting the unit cost of one receipt movement (valuation replays it).
cost_revisions = Table(
    "cost_revisions",
    metadata,
    _id(),
    Column("movement_id", Id, ForeignKey("movements.id"), nullable=False),
    Column("unit_cost", Numeric(14, 4), nullable=False),
    Column("note", String(200), nullable=False, default=""),
    Column("revised_at", Ts, nullable=False),
    Index("ix_cost_revisions_movement", "movement_id"),
)

# ---- locations and movements (clerk movements API) ----------------------------------------
# The first answer to a request sent with an idempotency key, replayed when the key comes again.
idempotency_keys = Table(
    "idempotency_keys",
    metadata,
    _id(),
    Column("scope", String(32), nullable=False),  # the endpoint family, e.g. "movements"
    Column("key", String(100), nullable=False),
    Column("fingerprint", String(64), nullable=False),  # sha256 of the request body
    Column("answer", Text, nullable=False, default=""),  # the JSON answer
    Column("created_at", Ts, nullable=False),
    UniqueConstraint("scope", "key", name="uq_idempotency_keys"),
)
# the movement journal filtered by location (GET /v1/movements?loc=)
Index("ix_movements_from_loc", movements.c.from_loc_id)
Index("ix_movements_to_loc", movements.c.to_loc_id)

# ---- valuation and KPIs ---------------------------------------------------------------------
# Company settings: one row, id 1; absent = the defaults in
# server.valuation.company. Kept in the ledger so every process values stock the same way.
company = Table(
    "company",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("valuation_method", String(8), nullable=False),  # fifo | average
    Column("currency", String(3), nullable=False),
    Column("carrying_rate", Numeric(8, 4), nullable=False),  # annual fraction, 0.25 = 25 %
    Column("updated_at", Ts, nullable=False),
)

# ---- purchasing and reorder (suppliers, PO status, receipt costs, per-location rules) -------
suppliers = Table(
    "suppliers",
    metadata,
    _id(),
    Column("code", String(64), nullable=False, unique=True),
    Column("name", String(200), nullable=False, default=""),
    Column("lead_time_days", Integer, nullable=False, default=0),
    Column("currency", String(3), nullable=True),  # ISO 4217; None: the company's
    Column("created_at", Ts, nullable=False),
)
# Columns added to tables that hold data carry no FOREIGN KEY: adding one on SQLite copies the
# table, which its referencing rows refuse. The services only write ids they looked up.
# a SKU's default supplier (reorder drafts go to it)
skus.append_column(Column("supplier_id", Id, nullable=True))
# draft | open | partially_received | received | closed | cancelled; rows from before 0002 were
# receivable as soon as they were created, hence the server default "open" (inserts name it)
purchase_orders.append_column(
    Column("status", String(20), nullable=False, default="draft", server_default="open")
)
purchase_orders.append_column(Column("supplier_id", Id, nullable=True))
purchase_orders.append_column(Column("expected_on", Date, nullable=True))
purchase_orders.append_column(Column("submitted_at", Ts, nullable=True))
purchase_orders.append_column(Column("closed_at", Ts, nullable=True))
purchase_orders.append_column(
    Column("note", String(200), nullable=False, default="", server_default="")
)
Index("ix_purchase_orders_status", purchase_orders.c.status)
# the unit cost on the supplier's invoice; receipts after it are booked at it
po_lines.append_column(Column("invoiced_cost", Numeric(14, 4), nullable=True))

# A reorder rule for one SKU at one real location (and its sub-locations); the SKU-wide rule
# is skus.reorder_point / reorder_qty.
reorder_rules = Table(
    "reorder_rules",
    metadata,
    _id(),
    Column("sku_id", Id, ForeignKey("skus.id"), nullable=False),
    Column("loc_id", Id, ForeignKey("locations.id"), nullable=False),
    Column("point", Integer, nullable=False),
    Column("qty", Integer, nullable=False),
    UniqueConstraint("sku_id", "loc_id", name="uq_reorder_rules_key"),
)
# which rule raised the alert (None: the SKU-wide one), the draft PO it created, why it closed
reorder_alerts.append_column(Column("loc_id", Id, nullable=True))
reorder_alerts.append_column(Column("po_id", Id, nullable=True))
reorder_alerts.append_column(
    Column("closed_reason", String(16), nullable=False, default="", server_default="")
)
reorder_alerts.append_column(
    Column("note", String(200), nullable=False, default="", server_default="")
)

# --- reservations and safety stock (server/reservations) ---

# One line of a channel order: qty asked for one SKU. Idempotent on (order_ref, sku_id).
reservations = Table(
    "reservations",
    metadata,
    _id(),
    Column("order_ref", String(64), nullable=False),
    Column("channel", String(64), nullable=False, default="", server_default=""),
    Column("sku_id", Id, ForeignKey("skus.id"), nullable=False),
    Column("qty", BigInteger, nullable=False),  # asked
    Column("consumed", BigInteger, nullable=False, default=0),  # picked for the order
    Column("status", String(16), nullable=False, default="open"),  # open|cancelled|consumed
    Column("created_at", Ts, nullable=False),
    Column("updated_at", Ts, nullable=False),
    UniqueConstraint("order_ref", "sku_id", name="uq_reservations_order_sku"),
    Index("ix_reservations_status_sku", "status", "sku_id"),
)

# Where a reservation line holds its stock (it may split across bins): `reserved` is held now
# (balances.reserved at lot '' sums it over open lines), `consumed` was picked here for it.
reservation_holds = Table(
    "reservation_holds",
    metadata,
    _id(),
    Column("reservation_id", Id, ForeignKey("reservations.id"), nullable=False),
    Column("sku_id", Id, ForeignKey("skus.id"), nullable=False),
    Column("loc_id", Id, ForeignKey("locations.id"), nullable=False),
    Column("reserved", BigInteger, nullable=False, default=0),
    Column("consumed", BigInteger, nullable=False, default=0),
    UniqueConstraint("reservation_id", "loc_id", name="uq_reservation_holds_key"),
    Index("ix_reservation_holds_sku_loc", "sku_id", "loc_id"),
)

# Safety stock per SKU x location, on top of the SKU-wide skus.safety_stock.
safety_stocks = Table(
    "safety_stocks",
    metadata,
    Column("sku_id", Id, ForeignKey("skus.id"), primary_key=True),
    Column("loc_id", Id, ForeignKey("locations.id"), primary_key=True),
    Column("qty", BigInteger, nullable=False),
)

# ---- cycle counts (server/counts) -----------------------------------------------------------
# One count per reference: opened for a scope (POST /v1/counts, kind "scoped") or started by
# scanning an unknown count reference (kind "spot"). Its per-bin sheets are `counts` rows
# (cycle_id; rows from before 0002 are adopted at start-up), their lines `count_lines`.
cycle_counts = Table(
    "cycle_counts",
    metadata,
    _id(),
    Column("ref", String(64), nullable=False, unique=True),
    Column("kind", String(8), nullable=False),  # scoped | spot
    Column("blind", Boolean, nullable=False, default=False),
    Column("status", String(16), nullable=False),  # open | review | closed | cancelled
    Column("opened_at", Ts, nullable=False),
    Column("counted_at", Ts, nullable=True),  # T1 of the last submit
    Column("closed_at", Ts, nullable=True),  # approved (closed) or cancelled
)
# the SKUs a scoped count is limited to (none: every SKU)
cycle_count_skus = Table(
    "cycle_count_skus",
    metadata,
    Column("cycle_id", Id, ForeignKey("cycle_counts.id"), primary_key=True),
    Column("sku_id", Id, ForeignKey("skus.id"), primary_key=True),
)
# (no FOREIGN KEY: adding one makes SQLite copy `counts`, which fails under foreign_keys=ON
# while old count_lines rows reference it; the counts service keeps it right)
counts.append_column(Column("cycle_id", Id, nullable=True))
Index("ix_counts_loc", counts.c.loc_id)  # the late-movement hook: counts at a bin
Index("ix_counts_cycle", counts.c.cycle_id)
count_lines.append_column(Column("expected", BigInteger, nullable=True))  # on hand at T1
count_lines.append_column(Column("counted_at", Ts, nullable=True))  # this line's T1
count_lines.append_column(Column("reset_at", Ts, nullable=True))  # its recount began
# what each device counted on a line (their sum is the line's `counted`)
count_tallies = Table(
    "count_tallies",
    metadata,
    Column("line_id", Id, ForeignKey("count_lines.id"), primary_key=True),
    Column("dev", String(64), primary_key=True),
    Column("qty", BigInteger, nullable=False),
)
