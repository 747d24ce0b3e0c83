"""Reservations from channel orders: reserve an order's lines (all or nothing, idempotent on
order × SKU), cancel them, read them.

A line holds its stock at one or more real locations (reservation_holds). balances.reserved on
the lot-less row of each SKU × location is the sum of what open lines hold there; it changes in
the same transaction as the holds, and every change marks the SKU × location touched so
channels are re-pushed.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, select

from server.catalog.service import sku_id as find_sku
from server.channels.outbox import parse_locations, scope_codes
from server.db.engine import TOUCHED
from server.db.schema import balances, channels, locations, reservation_holds, reservations, skus
from server.db.sql import insert_ignore, iso, now
from server.errors import Conflict, NotFound, Refused
from server.locations.service import Loc, stock_bin
from server.reservations.availability import by_location, lock, sku_safety

OPEN, CANCELLED, CONSUMED = "open", "cancelled", "consumed"


@dataclass(frozen=True, slots=True)
class LineIn:
    sku: str
    qty: int
    loc: str | None = None


def hold(conn: Connection, sku_id: int, loc_id: int, delta: int) -> None:
    """Add delta to balances.reserved of the SKU × location (its lot-less row)."""
    key = {"sku_id": sku_id, "loc_id": loc_id, "lot": ""}
    insert_ignore(conn, balances, {**key, "expiry": None, "on_hand": 0, "reserved": 0}, list(key))
    conn.execute(
        balances.update()
        .where(balances.c.sku_id == sku_id, balances.c.loc_id == loc_id, balances.c.lot == "")
        .values(reserved=balances.c.reserved + delta)
    )
    conn.info.setdefault(TOUCHED, set()).add((sku_id, loc_id))


def add_hold(
    conn: Connection,
    reservation_id: int,
    sku_id: int,
    loc_id: int,
    reserved: int = 0,
    consumed: int = 0,
) -> None:
    """Hold `reserved` more (or fewer) units for a line at a location, count `consumed` there."""
    key = {"reservation_id": reservation_id, "loc_id": loc_id}
    insert_ignore(
        conn, reservation_holds, {**key, "sku_id": sku_id, "reserved": 0, "consumed": 0}, list(key)
    )
    conn.execute(
        reservation_holds.update()
        .where(
            reservation_holds.c.reservation_id == reservation_id,
            reservation_holds.c.loc_id == loc_id,
        )
        .values(
            reserved=reservation_holds.c.reserved + reserved,
            consumed=reservation_holds.c.consumed + consumed,
        )
    )
    if reserved:
        hold(conn, sku_id, loc_id, reserved)


def channel_scope(conn: Connection, channel: str) -> list[str] | None:
    """The codes of the real locations a registered channel sells from, its listed locations
    and everything under them (None: every real location)."""
    if not channel:
        return None
    text = conn.execute(select(channels.c.locations).where(channels.c.name == channel)).scalar()
    if text is None:
        return None
    return scope_codes(conn, parse_locations(text))


def place(
    conn: Connection,
    sku_id: int,
    qty: int,
    scope: Sequence[str] | None = None,
    only: Loc | None = None,
    prefer: int | None = None,
) -> tuple[list[tuple[int, int]], int]:
    """Where up to qty of the SKU can be held: (loc_id, qty) parts, `prefer` first, then the
    locations with the most available; and what was available to draw from. Locks the SKU's
    balance rows first, so the answer holds until commit."""
    lock(conn, sku_id)
    rows = by_location(conn, [sku_id], None if only else scope)
    available = sum(at.available for at in rows) - sku_safety(conn, [sku_id]).get(sku_id, 0)
    if only is not None:
        here = sum(at.available for at in rows if at.loc_id == only.id)
        available = min(available, here)
        rows = [at for at in rows if at.loc_id == only.id]
    left = min(qty, max(0, available))
    parts = []
    for at in sorted(rows, key=lambda at: (at.loc_id != prefer, -at.available, at.loc)):
        take = min(left, at.available)
        if take > 0:
            parts.append((at.loc_id, take))
            left -= take
    return parts, available


def create(
    conn: Connection,
    order: str,
    channel: str,
    lines: Sequence[LineIn],
    partial: bool = False,
    reopen: bool = False,
) -> dict[str, Any]:
    """Reserve every line of the order or none. A line already reserved for this order (same
    SKU) is returned as it is, never reserved twice; asking a different quantity is a 409.
    With `partial` (an order a channel has already sold) a line holds what is available and
    the rest is listed under `short` ({sku, qty, short}) instead of refusing the order. With
    `reopen` a cancelled line of the order is open again and holds its stock anew (a channel
    order that was cancelled and then paid after all)."""
    skus_seen: set[str] = set()
    for line in lines:
        if line.sku in skus_seen:
            raise Refused("duplicate line", f"order {order} names {line.sku} twice")
        skus_seen.add(line.sku)
    resolved = sorted(((find_sku(conn, line.sku), line) for line in lines), key=lambda x: x[0])
    scope = channel_scope(conn, channel)
    stamp = now()
    created = False
    short: list[dict[str, Any]] = []
    for sid, line in resolved:
        values = {
            "order_ref": order,
            "channel": channel,
            "sku_id": sid,
            "qty": line.qty,
            "consumed": 0,
            "status": OPEN,
            "created_at": stamp,
            "updated_at": stamp,
        }
        # the unique key decides between two identical requests racing: the second waits
        # for the first to commit and then finds its row
        inserted = insert_ignore(conn, reservations, values, ["order_ref", "sku_id"])
        row = conn.execute(
            select(
                reservations.c.id,
                reservations.c.qty,
                reservations.c.status,
                reservations.c.consumed,
            ).where(reservations.c.order_ref == order, reservations.c.sku_id == sid)
        ).one()
        if not inserted:
            if int(row.qty) != line.qty:
                raise Conflict(
                    "reservation differs",
                    f"order {order} already reserves {row.qty} of {line.sku}, not {line.qty}",
                )
            if not (reopen and row.status == CANCELLED):
                continue
            conn.execute(
                reservations.update()
                .where(reservations.c.id == row.id)
                .values(status=OPEN, updated_at=stamp)
            )
        created = True
        want = line.qty - int(row.consumed)
        only = stock_bin(conn, line.loc) if line.loc else None
        parts, available = place(conn, sid, want, scope, only)
        held = sum(q for _, q in parts)
        if held < want and partial:
            short.append({"sku": line.sku, "qty": line.qty, "short": want - held})
        elif held < want:
            where = f" at {only.code}" if only else ""
            raise Refused(
                "insufficient available",
                f"{line.sku}: {line.qty} asked, {max(0, available)} available{where}",
            )
        for loc_id, qty in parts:
            add_hold(conn, row.id, sid, loc_id, reserved=qty)
    return get(conn, order) | {"replayed": not created} | ({"short": short} if partial else {})


def _release(conn: Connection, reservation_id: int, sku_id: int) -> None:
    held = conn.execute(
        select(reservation_holds.c.loc_id, reservation_holds.c.reserved).where(
            reservation_holds.c.reservation_id == reservation_id,
            reservation_holds.c.reserved != 0,
        )
    ).all()
    for h in held:
        hold(conn, sku_id, h.loc_id, -int(h.reserved))
    conn.execute(
        reservation_holds.update()
        .where(reservation_holds.c.reservation_id == reservation_id)
        .values(reserved=0)
    )


def cancel(conn: Connection, order: str, sku: str | None = None) -> dict[str, Any]:
    """Cancel the order's open lines (or the one of `sku`), releasing what they hold."""
    query = select(reservations).where(reservations.c.order_ref == order)
    if sku is not None:
        query = query.where(reservations.c.sku_id == find_sku(conn, sku))
    rows = conn.execute(query.with_for_update()).all()
    if not rows:
        raise NotFound("unknown reservation", f"order {order}" + (f" has no {sku}" if sku else ""))
    if sku is not None and rows[0].status == CONSUMED:
        raise Conflict("reservation consumed", f"order {order}: {sku} was picked in full")
    stamp = now()
    for r in rows:
        if r.status == OPEN:
            _release(conn, r.id, r.sku_id)
            conn.execute(
                reservations.update()
                .where(reservations.c.id == r.id)
                .values(status=CANCELLED, updated_at=stamp)
            )
    return get(conn, order)


def _line_docs(conn: Connection, rows: Iterable[Any]) -> list[dict[str, Any]]:
    rows = list(rows)
    holds: dict[int, list[Any]] = {}
    if rows:
        query = (
            select(
                reservation_holds.c.reservation_id,
                locations.c.code,
                reservation_holds.c.reserved,
                reservation_holds.c.consumed,
            )
            .join(locations, locations.c.id == reservation_holds.c.loc_id)
            .where(reservation_holds.c.reservation_id.in_([r.id for r in rows]))
            .order_by(locations.c.code)
        )
        for h in conn.execute(query):
            if h.reserved or h.consumed:
                holds.setdefault(h.reservation_id, []).append(h)
    docs = []
    for r in rows:
        places = holds.get(r.id, [])
        reserved = sum(int(h.reserved) for h in places)
        docs.append(
            {
                "order": r.order_ref,
                "channel": r.channel or None,
                "sku": r.sku,
                "qty": int(r.qty),
                "reserved": reserved,
                "consumed": int(r.consumed),
                # asked but neither held nor picked: stock that vanished under the line
                "short": int(r.qty) - int(r.consumed) - reserved if r.status == OPEN else 0,
                "status": r.status,
                "locations": [
                    {"loc": h.code, "reserved": int(h.reserved), "consumed": int(h.consumed)}
                    for h in places
                ],
                "created_at": iso(r.created_at),
                "updated_at": iso(r.updated_at),
            }
        )
    return docs


def _rows() -> Any:
    return select(reservations, skus.c.sku).join(skus, skus.c.id == reservations.c.sku_id)


def get(conn: Connection, order: str) -> dict[str, Any]:
    rows = conn.execute(_rows().where(reservations.c.order_ref == order).order_by(skus.c.sku)).all()
    if not rows:
        raise NotFound("unknown reservation", f"order {order}")
    lines = _line_docs(conn, rows)
    statuses = {line["status"] for line in lines}
    if OPEN in statuses:
        status = OPEN
    elif statuses == {CANCELLED}:
        status = CANCELLED
    else:
        status = CONSUMED
    return {"order": order, "channel": lines[0]["channel"], "status": status, "lines": lines}


def list_lines(
    conn: Connection, status: str | None = None, sku: str | None = None, limit: int = 1000
) -> list[dict[str, Any]]:
    """Reservation lines, newest first, filtered by status and SKU."""
    query = _rows().order_by(reservations.c.id.desc()).limit(limit)
    if status is not None:
        query = query.where(reservations.c.status == status)
    if sku is not None:
        query = query.where(reservations.c.sku_id == find_sku(conn, sku))
    return _line_docs(conn, conn.execute(query))
