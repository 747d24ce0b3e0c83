"""Purchase orders: create, submit, close, list and read, and the status they are in.

Status: `draft` (created; nothing can be received) → `open` (submitted) → `partially_received`
(something arrived) → `received` (every line has at least its ordered quantity: closes by
itself). `closed` is an open or partially received PO closed by hand (its incomplete lines are
flagged short); `cancelled` is a draft closed by hand or withdrawn by its reorder alert.
A line that received more than ordered is flagged over. Receiving lives in
server.purchasing.receiving.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any, Literal

from sqlalchemy import Connection, Row, func, select

from server.catalog.service import sku_id
from server.db.schema import (
    cost_revisions,
    locations,
    movements,
    po_lines,
    purchase_orders,
    skus,
    suppliers,
)
from server.db.sql import iso, now
from server.errors import Conflict, NotFound, Refused
from server.suppliers.service import expected_on, supplier_id

Status = Literal["draft", "open", "partially_received", "received", "closed", "cancelled"]
STATUSES: tuple[Status, ...] = (
    "draft",
    "open",
    "partially_received",
    "received",
    "closed",
    "cancelled",
)
RECEIVABLE: tuple[Status, ...] = ("open", "partially_received")
PENDING: tuple[Status, ...] = ("draft", "open", "partially_received")  # still to arrive
RECEIPT = "receive"  # the movement kind of a receipt (scan mode receive, receipts API)
_CENTS = Decimal("0.01")
_PLACES = Decimal("0.0001")


@dataclass(frozen=True, slots=True)
class LineIn:
    sku: str
    qty: int
    unit_cost: Decimal | None = None  # None: the SKU's unit cost


@dataclass(frozen=True, slots=True)
class PoIn:
    ref: str
    lines: tuple[LineIn, ...]
    supplier: str | None = None
    expected_on: date | None = None  # None: today + the supplier's lead time
    note: str = ""
    submit: bool = False  # create it open (submitted) rather than draft


def money(value: Decimal | None) -> str | None:
    """A stored amount as JSON text: 2 decimals, or 4 when the cents would hide them."""
    if value is None:
        return None
    value = Decimal(value)
    cents = value.quantize(_CENTS)
    return str(cents if cents == value else value.quantize(_PLACES))


def sku_cost(conn: Connection, sid: int) -> Decimal:
    return Decimal(conn.execute(select(skus.c.unit_cost).where(skus.c.id == sid)).scalar_one())


def create(conn: Connection, po: PoIn) -> dict[str, Any]:
    """A new purchase order (draft, or open with `submit`); Conflict if the ref exists."""
    if conn.execute(select(purchase_orders.c.id).where(purchase_orders.c.ref == po.ref)).first():
        raise Conflict("purchase order exists", po.ref)
    sid = supplier_id(conn, po.supplier) if po.supplier else None
    merged: dict[int, tuple[int, Decimal]] = {}
    for line in po.lines:
        sku = sku_id(conn, line.sku)
        cost = sku_cost(conn, sku) if line.unit_cost is None else line.unit_cost
        if sku in merged and merged[sku][1] != cost:
            raise Refused(
                "conflicting lines",
                f"{line.sku} is ordered at {money(merged[sku][1])} and at {money(cost)}",
            )
        merged[sku] = (merged.get(sku, (0, cost))[0] + line.qty, cost)
    insert(
        conn,
        po.ref,
        [(sku, qty, cost) for sku, (qty, cost) in merged.items()],
        sid,
        po.expected_on or expected_on(conn, sid),
        po.note,
        "open" if po.submit else "draft",
    )
    return get(conn, po.ref)


def insert(
    conn: Connection,
    ref: str,
    lines: Sequence[tuple[int, int, Decimal]],
    sid: int | None,
    expected: date | None,
    note: str = "",
    status: Status = "draft",
) -> int:
    """Write a PO and its lines (sku id, qty, unit cost) as they are; returns its id."""
    at = now()
    po_id = conn.execute(
        purchase_orders.insert()
        .values(
            ref=ref,
            created_at=at,
            status=status,
            supplier_id=sid,
            expected_on=expected,
            note=note,
            submitted_at=at if status == "open" else None,
        )
        .returning(purchase_orders.c.id)
    ).scalar_one()
    for sku, qty, cost in lines:
        conn.execute(
            po_lines.insert().values(
                po_id=po_id, sku_id=sku, qty_ordered=qty, qty_received=0, unit_cost=cost
            )
        )
    return int(po_id)


def locked(conn: Connection, ref: str) -> Row[Any] | None:
    """The PO row, locked for the rest of the transaction (receipts and closing serialize)."""
    query = select(purchase_orders).where(purchase_orders.c.ref == ref).with_for_update()
    return conn.execute(query).first()


def _found(conn: Connection, ref: str) -> Row[Any]:
    po = locked(conn, ref)
    if po is None:
        raise NotFound("unknown reference", f"no purchase order {ref!r}")
    return po


def submit(conn: Connection, ref: str) -> dict[str, Any]:
    """draft → open; Conflict `not a draft` for any other status."""
    po = _found(conn, ref)
    if po.status != "draft":
        raise Conflict("not a draft", f"{ref} is {po.status}")
    conn.execute(
        purchase_orders.update()
        .where(purchase_orders.c.id == po.id)
        .values(status="open", submitted_at=now())
    )
    return get(conn, ref)


def close(conn: Connection, ref: str, note: str = "") -> dict[str, Any]:
    """open/partially received → closed (lines not complete flagged short); draft → cancelled.
    Conflict `purchase order closed` when it is already received, closed or cancelled."""
    po = _found(conn, ref)
    if po.status not in PENDING:
        raise Conflict("purchase order closed", f"{ref} is already {po.status}")
    status: Status = "cancelled" if po.status == "draft" else "closed"
    set_status(conn, po.id, status, note)
    return get(conn, ref)


def set_status(conn: Connection, po_id: int, status: Status, note: str = "") -> None:
    values: dict[str, Any] = {"status": status}
    if status in ("received", "closed", "cancelled"):
        values["closed_at"] = now()
    if note:
        values["note"] = note
    conn.execute(purchase_orders.update().where(purchase_orders.c.id == po_id).values(**values))


def settle(conn: Connection, po_id: int) -> Status:
    """After a receipt: received when every line is complete, else partially received."""
    short = conn.execute(
        select(func.count())
        .select_from(po_lines)
        .where(po_lines.c.po_id == po_id, po_lines.c.qty_received < po_lines.c.qty_ordered)
    ).scalar_one()
    status: Status = "partially_received" if short else "received"
    set_status(conn, po_id, status)
    return status


def _line(row: Any, status: str) -> dict[str, Any]:
    ordered, received = int(row.qty_ordered), int(row.qty_received)
    over = max(received - ordered, 0)
    short = max(ordered - received, 0) if status == "closed" else 0
    return {
        "sku": row.sku,
        "ordered": ordered,
        "received": received,
        "outstanding": max(ordered - received, 0) if status in PENDING else 0,
        "over": over,
        "short": short,
        "flag": "over" if over else "short" if short else None,
        "unit_cost": money(row.unit_cost),
        "invoiced_cost": money(row.invoiced_cost),
    }


def _lines(conn: Connection, po_ids: Sequence[int]) -> dict[int, list[Any]]:
    rows = conn.execute(
        select(skus.c.sku, po_lines)
        .join(skus, skus.c.id == po_lines.c.sku_id)
        .where(po_lines.c.po_id.in_(list(po_ids)))
        .order_by(skus.c.sku)
    ).all()
    out: dict[int, list[Any]] = {}
    for r in rows:
        out.setdefault(r.po_id, []).append(r)
    return out


def _head(po: Any, lines: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "ref": po.ref,
        "status": po.status,
        "supplier": po.supplier,
        "currency": po.currency,
        "expected_on": po.expected_on.isoformat() if po.expected_on else None,
        "created_at": iso(po.created_at),
        "submitted_at": iso(po.submitted_at),
        "closed_at": iso(po.closed_at),
        "note": po.note,
        "flags": sorted({line["flag"] for line in lines if line["flag"]}),
    }


def _query() -> Any:
    return select(
        purchase_orders, suppliers.c.code.label("supplier"), suppliers.c.currency
    ).outerjoin(suppliers, suppliers.c.id == purchase_orders.c.supplier_id)


def list_all(conn: Connection, status: str | None = None) -> list[dict[str, Any]]:
    """Summaries (no receipts), oldest first; only `status` when given."""
    query = _query().order_by(purchase_orders.c.id)
    if status is not None:
        query = query.where(purchase_orders.c.status == status)
    rows = conn.execute(query).all()
    lines = _lines(conn, [r.id for r in rows])
    out = []
    for po in rows:
        docs = [_line(r, po.status) for r in lines.get(po.id, [])]
        ordered = sum(d["ordered"] for d in docs)
        received = sum(d["received"] for d in docs)
        out.append(
            _head(po, docs) | {"line_count": len(docs), "ordered": ordered, "received": received}
        )
    return out


def receipts(conn: Connection, ref: str) -> list[dict[str, Any]]:
    """The receipt movements booked against `ref`, with the last invoiced cost of each."""
    rows = conn.execute(
        select(movements, skus.c.sku, locations.c.code.label("loc"))
        .join(skus, skus.c.id == movements.c.sku_id)
        .join(locations, locations.c.id == movements.c.to_loc_id)
        .where(movements.c.kind == RECEIPT, movements.c.ref == ref)
        .order_by(movements.c.id)
    ).all()
    invoiced: dict[int, Decimal] = {}
    if rows:
        revised = conn.execute(
            select(cost_revisions.c.movement_id, cost_revisions.c.unit_cost)
            .where(cost_revisions.c.movement_id.in_([r.id for r in rows]))
            .order_by(cost_revisions.c.revised_at, cost_revisions.c.id)
        )
        invoiced = {r.movement_id: r.unit_cost for r in revised}
    return [
        {
            "movement_id": r.id,
            "sku": r.sku,
            "qty": int(r.qty),
            "loc": r.loc,
            "lot": r.lot,
            "expiry": r.expiry.isoformat() if r.expiry else None,
            "unit_cost": money(r.unit_cost),
            "invoiced_cost": money(invoiced.get(r.id)),
            "event_id": r.event_id,
            "booked_at": iso(r.booked_at),
        }
        for r in rows
    ]


def get(conn: Connection, ref: str) -> dict[str, Any]:
    """The PO with per line ordered/received/outstanding/over/short and its receipts."""
    po = conn.execute(_query().where(purchase_orders.c.ref == ref)).first()
    if po is None:
        raise NotFound("unknown reference", f"no purchase order {ref!r}")
    lines = [_line(r, po.status) for r in _lines(conn, [po.id]).get(po.id, [])]
    return _head(po, lines) | {"lines": lines, "receipts": receipts(conn, ref)}
