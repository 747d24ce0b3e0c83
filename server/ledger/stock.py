"""Reading stock: balance rows, on-hand at a location, available over a set of locations."""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

from sqlalchemy import Connection, func, select

from server.db.schema import balances, locations, skus


def on_hand_at(conn: Connection, sku_id: int, loc_id: int, lot: str | None = None) -> int:
    query = select(func.coalesce(func.sum(balances.c.on_hand), 0)).where(
        balances.c.sku_id == sku_id, balances.c.loc_id == loc_id
    )
    if lot is not None:
        query = query.where(balances.c.lot == lot)
    return int(conn.execute(query).scalar_one())


def totals(
    conn: Connection,
    sku_ids: Collection[int] | None = None,
    loc_codes: Collection[str] | None = None,
) -> dict[int, tuple[int, int]]:
    """(on_hand, reserved) per SKU over real locations (or only those in loc_codes)."""
    query = (
        select(
            balances.c.sku_id,
            func.sum(balances.c.on_hand).label("on_hand"),
            func.sum(balances.c.reserved).label("reserved"),
        )
        .join(locations, locations.c.id == balances.c.loc_id)
        .where(locations.c.virtual.is_(False))
        .group_by(balances.c.sku_id)
    )
    if sku_ids is not None:
        query = query.where(balances.c.sku_id.in_(list(sku_ids)))
    if loc_codes is not None:
        query = query.where(locations.c.code.in_(list(loc_codes)))
    return {r.sku_id: (int(r.on_hand), int(r.reserved)) for r in conn.execute(query)}


def rows(
    conn: Connection,
    sku: str | None = None,
    loc: str | None = None,
    include_virtual: bool = False,
    include_zero: bool = False,
) -> list[dict[str, Any]]:
    """Balance rows with sku, loc, lot, expiry, on_hand, reserved, available."""
    query = (
        select(
            skus.c.sku,
            locations.c.code,
            balances.c.lot,
            balances.c.expiry,
            balances.c.on_hand,
            balances.c.reserved,
        )
        .join(skus, skus.c.id == balances.c.sku_id)
        .join(locations, locations.c.id == balances.c.loc_id)
        .order_by(skus.c.sku, locations.c.code, balances.c.lot)
    )
    if sku:
        query = query.where(skus.c.sku == sku)
    if loc:
        query = query.where(locations.c.code == loc)
    if not include_virtual:
        query = query.where(locations.c.virtual.is_(False))
    if not include_zero:
        query = query.where((balances.c.on_hand != 0) | (balances.c.reserved != 0))
    return [
        {
            "sku": r.sku,
            "loc": r.code,
            "lot": r.lot,
            "expiry": r.expiry.isoformat() if r.expiry else None,
            "on_hand": int(r.on_hand),
            "reserved": int(r.reserved),
            "available": int(r.on_hand) - int(r.reserved),
        }
        for r in conn.execute(query)
    ]
