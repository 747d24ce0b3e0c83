"""Receiving against purchase orders, and the supplier's invoice revising what was received.

Every receipt movement (kind `receive`, from the virtual `supplier` location) carries the unit
cost it was bought at: the PO line's invoiced cost once there is one, else the line's ordered
cost; a receipt without a PO takes the SKU's unit cost. An invoice records one cost revision
per receipt movement of its line (valuation replays them) and sets the line's invoiced cost.

Receiving is refused for a draft (`purchase order draft`), a closed or cancelled PO
(`purchase order closed`), a fully received one (`purchase order received`) and a SKU without
a line on it (`not on purchase order`). More than ordered is accepted and flagged over.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection, select

from server.catalog.service import sku_id
from server.db.schema import cost_revisions, movements, po_lines, purchase_orders, skus
from server.db.sql import now
from server.errors import NotFound, Refused
from server.ledger.movements import move
from server.locations import service as locations
from server.purchasing.service import RECEIPT, RECEIVABLE, get, locked, money, settle, sku_cost

_REFUSED = {
    "draft": ("purchase order draft", "{ref} is a draft: submit it first"),
    "received": ("purchase order received", "{ref} is fully received"),
    "closed": ("purchase order closed", "{ref} is closed"),
    "cancelled": ("purchase order closed", "{ref} was cancelled"),
}


@dataclass(frozen=True, slots=True)
class ReceiptIn:
    sku: str
    qty: int
    loc: str
    lot: str | None = None
    expiry: date | None = None


def _sku_code(conn: Connection, sid: int) -> str:
    return str(conn.execute(select(skus.c.sku).where(skus.c.id == sid)).scalar_one())


def receive(conn: Connection, ref: str, sid: int, qty: int) -> Decimal:
    """Count qty of SKU `sid` received on PO `ref` (empty: no PO) and return the unit cost to
    book the receipt movement at. Refused `unknown reference` for a ref that names no PO."""
    if not ref:
        return sku_cost(conn, sid)
    po = locked(conn, ref)
    if po is None:
        raise Refused("unknown reference", f"no purchase order {ref!r}")
    if po.status not in RECEIVABLE:
        reason, detail = _REFUSED[po.status]
        raise Refused(reason, detail.format(ref=ref))
    line = conn.execute(
        select(po_lines.c.id, po_lines.c.unit_cost, po_lines.c.invoiced_cost).where(
            po_lines.c.po_id == po.id, po_lines.c.sku_id == sid
        )
    ).first()
    if line is None:
        raise Refused("not on purchase order", f"{ref} has no line for {_sku_code(conn, sid)}")
    conn.execute(
        po_lines.update()
        .where(po_lines.c.id == line.id)
        .values(qty_received=po_lines.c.qty_received + qty)
    )
    settle(conn, po.id)
    return Decimal(line.unit_cost if line.invoiced_cost is None else line.invoiced_cost)


def receipt_cost(
    conn: Connection, ref: str, sid: int, qty: int, unit_cost: Decimal | None = None
) -> Decimal:
    """For receiving paths where the reference is free text (a delivery note): counted on the
    PO when `ref` names one (refused like `receive`), and the cost to book: `unit_cost` when
    given, else the PO line's, else the SKU's."""
    found = select(purchase_orders.c.id).where(purchase_orders.c.ref == ref)
    cost = receive(conn, ref, sid, qty) if ref and conn.execute(found).first() else None
    if unit_cost is not None:
        return unit_cost
    return cost if cost is not None else sku_cost(conn, sid)


def post_receipts(conn: Connection, ref: str, lines: Sequence[ReceiptIn]) -> dict[str, Any]:
    """Book every line as a receipt against PO `ref`, all or nothing; returns the PO."""
    if conn.execute(select(purchase_orders.c.id).where(purchase_orders.c.ref == ref)).first():
        supplier = locations.virtual(conn, locations.SUPPLIER)
    else:
        raise NotFound("unknown reference", f"no purchase order {ref!r}")
    for line in lines:
        sid = sku_id(conn, line.sku)
        dst = locations.require_bin(locations.real(conn, line.loc))
        cost = receive(conn, ref, sid, line.qty)
        move(
            conn,
            sku_id=sid,
            src=supplier,
            dst=dst,
            qty=line.qty,
            kind=RECEIPT,
            ref=ref,
            lot=line.lot,
            expiry=line.expiry,
            unit_cost=cost,
        )
    return get(conn, ref)


def invoice(
    conn: Connection, ref: str, sku: str, unit_cost: Decimal, note: str = ""
) -> dict[str, Any]:
    """The supplier's invoiced unit cost for one line: a cost revision for each of the line's
    receipt movements so far, and the cost later receipts of the line are booked at."""
    po = locked(conn, ref)
    if po is None:
        raise NotFound("unknown reference", f"no purchase order {ref!r}")
    sid = sku_id(conn, sku)
    done = conn.execute(
        po_lines.update()
        .where(po_lines.c.po_id == po.id, po_lines.c.sku_id == sid)
        .values(invoiced_cost=unit_cost)
    ).rowcount
    if not done:
        raise NotFound("not on purchase order", f"{ref} has no line for {sku}")
    rows = conn.execute(
        select(movements.c.id, movements.c.qty, movements.c.unit_cost)
        .where(movements.c.kind == RECEIPT, movements.c.ref == ref, movements.c.sku_id == sid)
        .order_by(movements.c.id)
    ).all()
    before = {r.id: r.unit_cost for r in rows}
    if rows:
        earlier = conn.execute(
            select(cost_revisions.c.movement_id, cost_revisions.c.unit_cost)
            .where(cost_revisions.c.movement_id.in_(list(before)))
            .order_by(cost_revisions.c.revised_at, cost_revisions.c.id)
        )
        before |= {r.movement_id: r.unit_cost for r in earlier}
    at = now()
    revised = []
    for r in rows:
        conn.execute(
            cost_revisions.insert().values(
                movement_id=r.id, unit_cost=unit_cost, note=note, revised_at=at
            )
        )
        revised.append(
            {
                "movement_id": r.id,
                "qty": int(r.qty),
                "unit_cost_before": money(before[r.id]),
                "unit_cost": money(unit_cost),
            }
        )
    return {
        "ref": ref,
        "sku": sku,
        "invoiced_cost": money(unit_cost),
        "note": note,
        "revised": revised,
    }
