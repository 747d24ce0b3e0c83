"""Safety stock and availability: available = on hand − reserved − safety stock.

Per SKU × real location: on hand summed over lots, reserved (balances.reserved, held on the
lot-less row) and the location's safety stock (table safety_stocks). A SKU's total is the sum
over its locations minus the SKU-wide safety stock (skus.safety_stock). These figures may be
negative (more promised or held back than there is); what a channel is told never is.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, func, select

from server.catalog.service import sku_id as find_sku
from server.db.engine import TOUCHED
from server.db.schema import balances, locations, safety_stocks, skus
from server.db.sql import insert_ignore
from server.locations.service import stock_bin


@dataclass(frozen=True, slots=True)
class At:
    """One SKU at one real location."""

    sku_id: int
    loc_id: int
    loc: str
    on_hand: int = 0
    reserved: int = 0
    safety_stock: int = 0

    @property
    def available(self) -> int:
        return self.on_hand - self.reserved - self.safety_stock

    def doc(self) -> dict[str, Any]:
        return {
            "loc": self.loc,
            "on_hand": self.on_hand,
            "reserved": self.reserved,
            "safety_stock": self.safety_stock,
            "available": self.available,
        }


def _real_ids() -> Any:
    return select(locations.c.id).where(locations.c.virtual.is_(False))


def lock(conn: Connection, sku_id: int, loc_ids: Collection[int] | None = None) -> None:
    """Row locks on the SKU's balance rows at real locations (or at loc_ids), in id order, so a
    concurrent pick or reservation of the same stock waits (PostgreSQL; on SQLite the writer is
    alone already)."""
    query = (
        select(balances.c.id)
        .where(balances.c.sku_id == sku_id, balances.c.loc_id.in_(_real_ids()))
        .order_by(balances.c.id)
        .with_for_update()
    )
    if loc_ids is not None:
        query = query.where(balances.c.loc_id.in_(list(loc_ids)))
    conn.execute(query).all()


def by_location(
    conn: Connection,
    sku_ids: Collection[int] | None = None,
    loc_codes: Collection[str] | None = None,
) -> list[At]:
    """Figures per SKU × real location that has stock, reservations or safety stock."""
    b = balances.c
    query = (
        select(
            b.sku_id,
            b.loc_id,
            locations.c.code,
            func.sum(b.on_hand).label("on_hand"),
            func.sum(b.reserved).label("reserved"),
        )
        .join(locations, locations.c.id == b.loc_id)
        .where(locations.c.virtual.is_(False))
        .group_by(b.sku_id, b.loc_id, locations.c.code)
    )
    safety = (
        select(
            safety_stocks.c.sku_id, safety_stocks.c.loc_id, locations.c.code, safety_stocks.c.qty
        )
        .join(locations, locations.c.id == safety_stocks.c.loc_id)
        .where(locations.c.virtual.is_(False))
    )
    if sku_ids is not None:
        query = query.where(b.sku_id.in_(list(sku_ids)))
        safety = safety.where(safety_stocks.c.sku_id.in_(list(sku_ids)))
    if loc_codes is not None:
        query = query.where(locations.c.code.in_(list(loc_codes)))
        safety = safety.where(locations.c.code.in_(list(loc_codes)))
    found: dict[tuple[int, int], At] = {}
    for r in conn.execute(query):
        found[(r.sku_id, r.loc_id)] = At(
            r.sku_id, r.loc_id, r.code, int(r.on_hand), int(r.reserved)
        )
    for s in conn.execute(safety):
        at = found.get((s.sku_id, s.loc_id)) or At(s.sku_id, s.loc_id, s.code)
        found[(s.sku_id, s.loc_id)] = At(
            at.sku_id, at.loc_id, at.loc, at.on_hand, at.reserved, int(s.qty)
        )
    return sorted(
        (at for at in found.values() if at.on_hand or at.reserved or at.safety_stock),
        key=lambda at: (at.sku_id, at.loc),
    )


def sku_safety(conn: Connection, sku_ids: Collection[int]) -> dict[int, int]:
    query = select(skus.c.id, skus.c.safety_stock).where(skus.c.id.in_(list(sku_ids)))
    return {r.id: int(r.safety_stock or 0) for r in conn.execute(query)}


def held_back(conn: Connection, sku_id: int, loc_codes: Collection[str] | None = None) -> int:
    """Safety stock a channel over loc_codes (None: every real location) must not offer: the
    SKU-wide figure plus that of each location in scope."""
    query = (
        select(func.coalesce(func.sum(safety_stocks.c.qty), 0))
        .join(locations, locations.c.id == safety_stocks.c.loc_id)
        .where(safety_stocks.c.sku_id == sku_id, locations.c.virtual.is_(False))
    )
    if loc_codes is not None:
        query = query.where(locations.c.code.in_(list(loc_codes)))
    per_location = int(conn.execute(query).scalar_one())
    return sku_safety(conn, [sku_id]).get(sku_id, 0) + per_location


def total(conn: Connection, sku_id: int, loc_codes: Collection[str] | None = None) -> int:
    """The SKU's available over loc_codes (None: every real location), may be negative."""
    rows = by_location(conn, [sku_id], loc_codes)
    return sum(at.available for at in rows) - sku_safety(conn, [sku_id]).get(sku_id, 0)


def availability(conn: Connection, sku: str | None = None) -> list[dict[str, Any]]:
    """Per SKU: totals and the per-location breakdown (one SKU, or every SKU in the catalog)."""
    query = select(skus.c.id, skus.c.sku, skus.c.safety_stock).order_by(skus.c.sku)
    if sku is not None:
        query = query.where(skus.c.id == find_sku(conn, sku))
    catalog = conn.execute(query).all()
    per: dict[int, list[At]] = {}
    for at in by_location(conn, [r.id for r in catalog] if sku is not None else None):
        per.setdefault(at.sku_id, []).append(at)
    out = []
    for r in catalog:
        rows = per.get(r.id, [])
        sku_level = int(r.safety_stock or 0)
        on_hand = sum(at.on_hand for at in rows)
        reserved = sum(at.reserved for at in rows)
        safety = sku_level + sum(at.safety_stock for at in rows)
        out.append(
            {
                "sku": r.sku,
                "on_hand": on_hand,
                "reserved": reserved,
                "safety_stock": safety,
                "sku_safety_stock": sku_level,
                "available": on_hand - reserved - safety,
                "locations": [at.doc() for at in rows],
            }
        )
    return out


def set_safety_stock(conn: Connection, sku: str, qty: int, loc: str | None) -> dict[str, Any]:
    """Set the SKU-wide safety stock (no loc) or that of one real location (0 removes it);
    every channel showing the SKU is re-pushed."""
    sid = find_sku(conn, sku)
    touched = conn.info.setdefault(TOUCHED, set())
    if loc is None:
        conn.execute(skus.update().where(skus.c.id == sid).values(safety_stock=qty))
        # a channel's level only changes where the SKU has stock
        held = select(balances.c.loc_id).where(
            balances.c.sku_id == sid, balances.c.loc_id.in_(_real_ids())
        )
        touched.update((sid, loc_id) for loc_id in conn.execute(held.distinct()).scalars())
    else:
        place = stock_bin(conn, loc)
        key = {"sku_id": sid, "loc_id": place.id}
        where = (safety_stocks.c.sku_id == sid, safety_stocks.c.loc_id == place.id)
        conn.execute(safety_stocks.delete().where(*where))
        if qty:
            conn.execute(safety_stocks.insert().values(**key, qty=qty))
            # the lot-less balance row carries the location's reserved and safety stock
            row = {**key, "lot": "", "expiry": None, "on_hand": 0, "reserved": 0}
            insert_ignore(conn, balances, row, ["sku_id", "loc_id", "lot"])
        touched.add((sid, place.id))
    return safety_stock_of(conn, sku)


def safety_stock_of(conn: Connection, sku: str) -> dict[str, Any]:
    sid = find_sku(conn, sku)
    rows = conn.execute(
        select(locations.c.code, safety_stocks.c.qty)
        .join(locations, locations.c.id == safety_stocks.c.loc_id)
        .where(safety_stocks.c.sku_id == sid)
        .order_by(locations.c.code)
    ).all()
    return {
        "sku": sku,
        "safety_stock": sku_safety(conn, [sid]).get(sid, 0),
        "locations": {r.code: int(r.qty) for r in rows},
    }
