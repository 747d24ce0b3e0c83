"""Where movements meet reservations, in the booking transaction (an `after_move` hook).

- A pick (stock from a real location to the customer) whose ref is an order with an open
  reservation for the SKU consumes it: first what the order holds at the picked location, then
  what it holds elsewhere (the order got its goods, that stock is free again).
- Stock leaving a real location whose negative-stock policy is `refuse` may not take what is
  reserved for somebody else: on hand there must stay ≥ reserved. A pick, a transfer out or a
  return to the supplier that would break this is refused ("insufficient stock").
- Stock that vanished or moved within the warehouse (count variance, stocktake, loss,
  quarantine, bin to bin) is physical truth and is booked: the reservations it took are held
  again where stock is available (the destination bin first), what cannot be is left short on
  the line (newest reservations lose first).
"""

from __future__ import annotations

from sqlalchemy import Connection, func, select

from server.db.schema import balances, reservation_holds, reservations
from server.db.sql import now
from server.errors import Refused
from server.ledger.movements import Booked, after_move
from server.locations.service import CUSTOMER, IN_TRANSIT, SUPPLIER, Loc
from server.reservations.service import CONSUMED, OPEN, add_hold, channel_scope, place


def _guarded(loc: Loc) -> bool:
    return not loc.virtual and loc.covered and loc.negative != "allow"


def _ships(dst: Loc) -> bool:
    """Stock leaving the warehouse's bins for good: refused rather than taken from an order."""
    return dst.code in (CUSTOMER, SUPPLIER, IN_TRANSIT) or dst.code.startswith(f"{IN_TRANSIT}/")


def _at(conn: Connection, sku_id: int, loc_id: int) -> tuple[int, int]:
    b = balances.c
    row = conn.execute(
        select(func.coalesce(func.sum(b.on_hand), 0), func.coalesce(func.sum(b.reserved), 0)).where(
            b.sku_id == sku_id, b.loc_id == loc_id
        )
    ).one()
    return int(row[0]), int(row[1])


def _open_line(conn: Connection, order: str, sku_id: int) -> tuple[int, int, int] | None:
    """(id, qty, consumed) of the order's open line for the SKU, locked."""
    row = conn.execute(
        select(reservations.c.id, reservations.c.qty, reservations.c.consumed)
        .where(
            reservations.c.order_ref == order,
            reservations.c.sku_id == sku_id,
            reservations.c.status == OPEN,
        )
        .with_for_update()
    ).first()
    return (int(row.id), int(row.qty), int(row.consumed)) if row else None


def _held(conn: Connection, reservation_id: int, loc_id: int) -> int:
    held = conn.execute(
        select(reservation_holds.c.reserved).where(
            reservation_holds.c.reservation_id == reservation_id,
            reservation_holds.c.loc_id == loc_id,
        )
    ).scalar()
    return int(held or 0)


def _refusal(qty: int, on_hand: int, others: int, src: Loc) -> Refused:
    return Refused(
        "insufficient stock",
        f"{qty} asked, {on_hand} on hand at {src.code} of which {others} reserved for other orders",
    )


def check_pick(conn: Connection, sku_id: int, src: Loc, qty: int, order: str = "") -> None:
    """Before a pick of qty at src (for `order`, if it has an open reservation line for the
    SKU): refuse it, with the whole quantity asked, if it needs stock reserved for other
    orders. Too little on hand at all is left to the movement's own refusal. It takes no
    locks: the after-move check decides under the movement's row locks (a reservation locks
    the same balance rows first)."""
    if not _guarded(src):
        return
    on_hand, reserved = _at(conn, sku_id, src.id)
    line = _open_line(conn, order, sku_id) if order else None
    own = _held(conn, line[0], src.id) if line else 0
    if on_hand >= qty > on_hand - reserved + own:
        raise _refusal(qty, on_hand, reserved - own, src)


def consume(conn: Connection, order: str, sku_id: int, src: Loc, qty: int) -> None:
    """qty of the SKU picked at src for `order`: its open line's holds go down (src first)."""
    line = _open_line(conn, order, sku_id)
    if line is None:
        return
    reservation_id, asked, consumed = line
    need = min(qty, asked - consumed)
    if need <= 0:
        return
    holds = conn.execute(
        select(reservation_holds.c.loc_id, reservation_holds.c.reserved).where(
            reservation_holds.c.reservation_id == reservation_id,
            reservation_holds.c.reserved > 0,
        )
    ).all()
    left = need
    for h in sorted(holds, key=lambda h: (h.loc_id != src.id, -int(h.reserved), h.loc_id)):
        take = min(left, int(h.reserved))
        if take:
            add_hold(conn, reservation_id, sku_id, h.loc_id, reserved=-take)
            left -= take
    add_hold(conn, reservation_id, sku_id, src.id, consumed=need)
    done = consumed + need >= asked
    conn.execute(
        reservations.update()
        .where(reservations.c.id == reservation_id)
        .values(
            consumed=reservations.c.consumed + need,
            status=CONSUMED if done else OPEN,
            updated_at=now(),
        )
    )


def _rehold(conn: Connection, sku_id: int, src: Loc, excess: int, dst: Loc) -> None:
    """src lost `excess` reserved units of stock: cut them from its holds (newest reservation
    first) and hold them again where stock is available."""
    holds = conn.execute(
        select(
            reservation_holds.c.reservation_id, reservation_holds.c.reserved, reservations.c.channel
        )
        .join(reservations, reservations.c.id == reservation_holds.c.reservation_id)
        .where(
            reservation_holds.c.sku_id == sku_id,
            reservation_holds.c.loc_id == src.id,
            reservation_holds.c.reserved > 0,
            reservations.c.status == OPEN,
        )
        .order_by(reservations.c.created_at.desc(), reservations.c.id.desc())
    ).all()
    cuts = []
    for h in holds:
        cut = min(excess, int(h.reserved))
        add_hold(conn, h.reservation_id, sku_id, src.id, reserved=-cut)
        cuts.append((h.reservation_id, cut, h.channel))
        excess -= cut
        if not excess:
            break
    prefer = None if dst.virtual else dst.id
    stamp = now()
    for reservation_id, cut, channel in cuts:
        parts, _ = place(conn, sku_id, cut, channel_scope(conn, channel), prefer=prefer)
        for loc_id, qty in parts:
            add_hold(conn, reservation_id, sku_id, loc_id, reserved=qty)
        update = reservations.update().where(reservations.c.id == reservation_id)
        conn.execute(update.values(updated_at=stamp))


@after_move
def _after_move(conn: Connection, booked: Booked) -> None:
    src = booked.src
    if src.virtual:
        return
    if booked.dst.code == CUSTOMER and booked.ref:
        consume(conn, booked.ref, booked.sku_id, src, booked.qty)
    if not _guarded(src):
        return
    on_hand, reserved = _at(conn, booked.sku_id, src.id)
    if on_hand >= reserved:
        return
    if _ships(booked.dst):
        raise _refusal(booked.qty, on_hand + booked.qty, reserved, src)
    _rehold(conn, booked.sku_id, src, reserved - on_hand, booked.dst)
