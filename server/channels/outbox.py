"""The outbox side of channels, run inside the booking transaction: mark (channel, sku) dirty
for every SKU whose stock at a channel's locations changed, and compute what to push."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from typing import Any

import orjson
from sqlalchemy import Connection, select

from server.db.schema import channel_dirty, channels, locations
from server.db.sql import now, upsert
from server.ledger.stock import totals
from server.locations.tree import Node, covered, nodes
from server.reservations.availability import held_back

ALL = "all"


def parse_locations(text: str) -> str | list[str]:
    value = orjson.loads(text)
    return ALL if value == ALL else [str(v) for v in value]


def scope_codes(
    conn: Connection, scope: str | list[str], all_nodes: dict[int, Node] | None = None
) -> list[str] | None:
    """The codes of every real location a channel's scope covers: each listed location (a
    site, warehouse, zone or bin) and everything under it (one removed since covers nothing);
    None for "all". `all_nodes`: the location tree, when the caller has it loaded already."""
    if scope == ALL:
        return None
    return covered(nodes(conn) if all_nodes is None else all_nodes, set(scope))


def mark(conn: Connection, channel_id: int, sku_ids: Collection[int]) -> None:
    stamp = now()
    for sku_id in sku_ids:
        upsert(
            conn,
            channel_dirty,
            {"channel_id": channel_id, "sku_id": sku_id, "gen": 1, "changed_at": stamp},
            ["channel_id", "sku_id"],
            {"gen": channel_dirty.c.gen + 1, "changed_at": stamp},
        )


def mark_touched(conn: Connection, touched: Collection[tuple[int, int]]) -> None:
    """Before commit: (sku_id, loc_id) pairs changed by this transaction -> dirty marks."""
    chans = conn.execute(select(channels.c.id, channels.c.locations)).all()
    if not chans:
        return
    loc_ids = {loc_id for _, loc_id in touched}
    real = dict(
        conn.execute(
            select(locations.c.id, locations.c.code).where(
                locations.c.id.in_(loc_ids), locations.c.virtual.is_(False)
            )
        ).all()
    )
    scopes = [(chan.id, parse_locations(chan.locations)) for chan in chans]
    # the location tree once for the whole booking, and only if a channel sells from a part
    all_nodes = nodes(conn) if any(scope != ALL for _, scope in scopes) else {}
    for chan_id, scope in scopes:
        codes = scope_codes(conn, scope, all_nodes)
        covered = None if codes is None else set(codes)
        sku_ids = {
            sku_id
            for sku_id, loc_id in touched
            if loc_id in real and (covered is None or real[loc_id] in covered)
        }
        if sku_ids:
            mark(conn, chan_id, sorted(sku_ids))


@dataclass(frozen=True, slots=True)
class Level:
    on_hand: int
    available: int


@dataclass(frozen=True, slots=True)
class Share:
    """How much of a SKU's available stock a channel is told: its safety stock and allocation
    percentage (a SKU's override or the channel's), capped at max_qty when set."""

    safety_stock: int = 0
    allocation_pct: int = 100
    max_qty: int | None = None


def level(conn: Connection, sku_id: int, scope: str | list[str], share: Share) -> Level:
    """available = ⌊(Σ on_hand − reserved over the channel's locations − the SKU's safety stock
    (SKU-wide and at those locations) − the channel's safety stock) × allocation_pct / 100⌋,
    at most max_qty, ≥ 0."""
    codes = scope_codes(conn, scope)
    on_hand, reserved = totals(conn, [sku_id], codes).get(sku_id, (0, 0))
    held = held_back(conn, sku_id, codes) + share.safety_stock
    available = max(0, on_hand - reserved - held) * share.allocation_pct // 100
    if share.max_qty is not None:
        available = min(available, share.max_qty)
    return Level(on_hand=on_hand, available=available)


def dirty_rows(conn: Connection) -> list[Any]:
    return list(conn.execute(select(channel_dirty).order_by(channel_dirty.c.changed_at)))
