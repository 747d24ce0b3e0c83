"""Cycle counts: count lines accumulate counted qty against an on-hand snapshot taken at the
first line; closing books variance = counted − snapshot between the bin and inventory-loss."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, select

from server.db.schema import count_lines, counts, locations, skus
from server.db.sql import insert_ignore, iso, now
from server.errors import NotFound, Refused
from server.ledger.movements import Origin, move
from server.ledger.stock import on_hand_at
from server.locations.service import INVENTORY_LOSS, Loc, virtual


def record(conn: Connection, ref: str, loc: Loc, sku_id: int, lot: str, qty: int) -> None:
    """Add qty to the count line (ref, loc, sku, lot), opening count and line when new."""
    if not ref:
        raise Refused("unknown reference", "a count needs a reference (SW:REF)")
    key = {"ref": ref, "loc_id": loc.id}
    insert_ignore(conn, counts, {**key, "status": "open", "opened_at": now()}, list(key))
    count = conn.execute(
        select(counts.c.id, counts.c.status).where(counts.c.ref == ref, counts.c.loc_id == loc.id)
    ).one()
    if count.status != "open":
        raise Refused("unknown reference", f"count {ref} at {loc.code} is closed")
    snapshot = on_hand_at(conn, sku_id, loc.id, lot or None)
    line = {"count_id": count.id, "sku_id": sku_id, "lot": lot}
    insert_ignore(conn, count_lines, {**line, "counted": 0, "snapshot": snapshot}, list(line))
    conn.execute(
        count_lines.update()
        .where(
            count_lines.c.count_id == count.id,
            count_lines.c.sku_id == sku_id,
            count_lines.c.lot == lot,
        )
        .values(counted=count_lines.c.counted + qty)
    )


def close(
    conn: Connection, ref: str, loc: Loc, origin: Origin | None = None
) -> list[dict[str, Any]]:
    """Book every line's variance and close the count; Refused if none is open."""
    count_id = conn.execute(
        select(counts.c.id).where(
            counts.c.ref == ref, counts.c.loc_id == loc.id, counts.c.status == "open"
        )
    ).scalar()
    if count_id is None:
        raise Refused("unknown reference", f"no open count {ref!r} at {loc.code}")
    loss = virtual(conn, INVENTORY_LOSS)
    booked = []
    lines = conn.execute(
        select(count_lines, skus.c.sku)
        .join(skus, skus.c.id == count_lines.c.sku_id)
        .where(count_lines.c.count_id == count_id)
        .order_by(count_lines.c.id)
    ).all()
    for line in lines:
        variance = int(line.counted) - int(line.snapshot)
        if variance:
            src, dst = (loc, loss) if variance < 0 else (loss, loc)
            move(
                conn,
                sku_id=line.sku_id,
                src=src,
                dst=dst,
                qty=abs(variance),
                kind="count-variance",
                ref=ref,
                lot=(line.lot or None) if variance < 0 else line.lot,
                origin=origin,
            )
        conn.execute(
            count_lines.update().where(count_lines.c.id == line.id).values(variance=variance)
        )
        booked.append({"sku": line.sku, "loc": loc.code, "lot": line.lot, "variance": variance})
    conn.execute(
        counts.update().where(counts.c.id == count_id).values(status="closed", closed_at=now())
    )
    return booked


def close_all(conn: Connection, ref: str) -> list[dict[str, Any]]:
    """Admin close: every open location of count `ref`."""
    rows = conn.execute(
        select(locations)
        .join(counts, counts.c.loc_id == locations.c.id)
        .where(counts.c.ref == ref, counts.c.status == "open")
        .order_by(locations.c.code)
    ).all()
    if not rows:
        raise NotFound("unknown reference", f"no open count {ref!r}")
    booked = []
    for r in rows:
        booked += close(conn, ref, Loc(r.id, r.code, r.virtual, r.covered, r.negative))
    return booked


def get(conn: Connection, ref: str) -> dict[str, Any]:
    rows = conn.execute(
        select(
            counts.c.status,
            counts.c.opened_at,
            counts.c.closed_at,
            locations.c.code,
            skus.c.sku,
            count_lines.c.lot,
            count_lines.c.counted,
            count_lines.c.snapshot,
            count_lines.c.variance,
        )
        .join(locations, locations.c.id == counts.c.loc_id)
        .join(count_lines, count_lines.c.count_id == counts.c.id)
        .join(skus, skus.c.id == count_lines.c.sku_id)
        .where(counts.c.ref == ref)
        .order_by(locations.c.code, skus.c.sku, count_lines.c.lot)
    ).all()
    if not rows:
        raise NotFound("unknown reference", f"no count {ref!r}")
    lines = [
        {
            "sku": r.sku,
            "loc": r.code,
            "lot": r.lot,
            "counted": int(r.counted),
            "snapshot": int(r.snapshot),
            "variance": int(r.counted) - int(r.snapshot),
            "status": r.status,
            "opened_at": iso(r.opened_at),
            "closed_at": iso(r.closed_at),
        }
        for r in rows
    ]
    status = "open" if any(line["status"] == "open" for line in lines) else "closed"
    return {"ref": ref, "status": status, "lines": lines}
