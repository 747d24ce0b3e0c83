"""Reading stock: balance rows, on-hand at a location, available over a set of locations."""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

from sqlalchemy import Connection, and_, func, select

from server.db.schema import balances, locations, safety_stocks, skus
from server.locations.tree import subtree


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
    loc_ids: Collection[int] | None = None,
) -> list[dict[str, Any]]:
    """Balance rows with sku, loc, lot, expiry, on_hand, reserved, safety_stock, available
    (reserved and safety stock are held per location, on its lot-less row); `loc_ids`
    keeps the rows of those locations only (a subtree: locations.tree.subtree)."""
    query = (
        select(
            skus.c.sku,
            locations.c.code,
            balances.c.lot,
            balances.c.expiry,
            balances.c.on_hand,
            balances.c.reserved,
            func.coalesce(safety_stocks.c.qty, 0).label("safety"),
        )
        .join(skus, skus.c.id == balances.c.sku_id)
        .join(locations, locations.c.id == balances.c.loc_id)
        # a location's safety stock shows on its lot-less row, next to its reserved
        .outerjoin(
            safety_stocks,
            and_(
                safety_stocks.c.sku_id == balances.c.sku_id,
                safety_stocks.c.loc_id == balances.c.loc_id,
                balances.c.lot == "",
            ),
        )
        .order_by(skus.c.sku, locations.c.code, balances.c.lot)
    )
    if sku:
        query = query.where(skus.c.sku == sku)
    if loc:
        query = query.where(locations.c.code == loc)
    if loc_ids is not None:
        query = query.where(balances.c.loc_id.in_(list(loc_ids)))
    if not include_virtual:
        query = query.where(locations.c.virtual.is_(False))
    if not include_zero:
        query = query.where(
            (balances.c.on_hand != 0) | (balances.c.reserved != 0) | (safety_stocks.c.qty > 0)
        )
    return [
        {
            "sku": r.sku,
            "loc": r.code,
            "lot": r.lot,
            "expiry": r.expiry.isoformat() if r.expiry else None,
            "on_hand": int(r.on_hand),
            "reserved": int(r.reserved),
            "safety_stock": int(r.safety),
            "available": int(r.on_hand) - int(r.reserved) - int(r.safety),
        }
        for r in conn.execute(query)
    ]


def sum_by_sku(found: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Balance rows (as `rows` gives them) summed per SKU: on_hand, reserved, available."""
    out: dict[str, dict[str, Any]] = {}
    for row in found:
        total = out.setdefault(row["sku"], {"sku": row["sku"], "on_hand": 0, "reserved": 0,
                                            "available": 0})  # fmt: skip
        for field in ("on_hand", "reserved", "available"):
            total[field] += row[field]
    return [out[sku] for sku in sorted(out)]


def stock(
    conn: Connection,
    sku: str | None = None,
    loc: str | None = None,
    include_virtual: bool = False,
    include_zero: bool = False,
    under: str | None = None,
) -> dict[str, Any]:
    """`GET /v1/stock`'s answer: balance rows; with `under`, those of the node's subtree and
    their totals per SKU (NotFound for an unknown node)."""
    if under is None:
        return {"stock": rows(conn, sku, loc, include_virtual, include_zero)}
    found = rows(conn, sku, loc, include_virtual, include_zero, loc_ids=subtree(conn, under))
    return {"stock": found, "under": under, "totals": sum_by_sku(found)}
