"""Stocktakes: set a bin's on-hand to a counted figure (opening balances), booked as
movements between `count-adjustment` and the bin."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, select

from server.catalog.service import sku_id
from server.db.schema import stocktakes
from server.db.sql import now
from server.errors import Conflict, Refused
from server.ledger.movements import move
from server.ledger.stock import on_hand_at
from server.locations.service import COUNT_ADJUSTMENT, stock_bin, virtual


def apply(conn: Connection, ref: str, lines: list[tuple[str, str, int]]) -> dict[str, Any]:
    seen: dict[tuple[str, str], int] = {}
    for number, (sku, code, _qty) in enumerate(lines, 1):
        if (first := seen.setdefault((sku, code), number)) != number:
            raise Refused("duplicate line", f"{sku} at {code} is on line {first} and {number}")
    if conn.execute(select(stocktakes.c.id).where(stocktakes.c.ref == ref)).first():
        raise Conflict("stocktake exists", ref)
    conn.execute(stocktakes.insert().values(ref=ref, created_at=now()))
    adjust = virtual(conn, COUNT_ADJUSTMENT)
    out = []
    for sku, code, qty in lines:
        sid, loc = sku_id(conn, sku), stock_bin(conn, code)
        before = on_hand_at(conn, sid, loc.id)
        delta = qty - before
        if delta > 0:
            move(conn, sku_id=sid, src=adjust, dst=loc, qty=delta, kind="stocktake", ref=ref)
        elif delta < 0:
            move(conn, sku_id=sid, src=loc, dst=adjust, qty=-delta, kind="stocktake", ref=ref)
        out.append({"sku": sku, "loc": code, "qty": qty, "before": before, "delta": delta})
    return {"ref": ref, "lines": out}
