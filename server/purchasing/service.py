"""Purchase orders: create, read, and add receipts to a line in the booking transaction."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from sqlalchemy import Connection, select

from server.catalog.service import sku_id
from server.db.schema import po_lines, purchase_orders, skus
from server.db.sql import iso, now
from server.errors import Conflict, NotFound, Refused


def create(conn: Connection, ref: str, lines: list[tuple[str, int, Decimal]]) -> dict[str, Any]:
    if conn.execute(select(purchase_orders.c.id).where(purchase_orders.c.ref == ref)).first():
        raise Conflict("purchase order exists", ref)
    po_id = conn.execute(
        purchase_orders.insert().values(ref=ref, created_at=now()).returning(purchase_orders.c.id)
    ).scalar_one()
    merged: dict[int, tuple[int, Decimal]] = {}
    for sku, qty, unit_cost in lines:
        sid = sku_id(conn, sku)
        before = merged.get(sid, (0, unit_cost))[0]
        merged[sid] = (before + qty, unit_cost)
    for sid, (qty, unit_cost) in merged.items():
        conn.execute(
            po_lines.insert().values(
                po_id=po_id, sku_id=sid, qty_ordered=qty, qty_received=0, unit_cost=unit_cost
            )
        )
    return get(conn, ref)


def get(conn: Connection, ref: str) -> dict[str, Any]:
    po = conn.execute(select(purchase_orders).where(purchase_orders.c.ref == ref)).first()
    if po is None:
        raise NotFound("unknown reference", ref)
    rows = conn.execute(
        select(skus.c.sku, po_lines)
        .join(skus, skus.c.id == po_lines.c.sku_id)
        .where(po_lines.c.po_id == po.id)
        .order_by(skus.c.sku)
    ).all()
    lines = [
        {
            "sku": r.sku,
            "ordered": int(r.qty_ordered),
            "received": int(r.qty_received),
            "unit_cost": str(Decimal(r.unit_cost).quantize(Decimal("0.01"))),
        }
        for r in rows
    ]
    done = all(line["received"] >= line["ordered"] for line in lines)
    return {
        "ref": po.ref,
        "status": "received" if done else "open",
        "created_at": iso(po.created_at),
        "lines": lines,
    }


def receive(conn: Connection, ref: str, sku: int, qty: int) -> None:
    """Add qty to the PO line; Refused `unknown reference` / `not on purchase order`."""
    po_id = conn.execute(select(purchase_orders.c.id).where(purchase_orders.c.ref == ref)).scalar()
    if po_id is None:
        raise Refused("unknown reference", f"no purchase order {ref!r}")
    done = conn.execute(
        po_lines.update()
        .where(po_lines.c.po_id == po_id, po_lines.c.sku_id == sku)
        .values(qty_received=po_lines.c.qty_received + qty)
    ).rowcount
    if not done:
        raise Refused("not on purchase order", f"{ref} has no line for this SKU")
