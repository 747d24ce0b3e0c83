"""Booking movements (double entry) and keeping balances in step, in the caller's transaction.

A movement takes qty of one SKU (and lot) from one location to another. Stock leaving a
`covered` location (every real bin, every in-transit-per-transfer) must exist: taken by a
conditional UPDATE, after FEFO allocation under row locks when no lot was named — unless the
location's negative-stock policy is `allow`: then what is missing is booked anyway, from the
named lot (or the lot-less one), and the movement is flagged `negative stock`.

Every movement keeps device, gateway and booking time, and `event_at` (ledger.clock). Modules
that must react to each movement in the same transaction (counts absorbing late movements,
reservations consumed by picks) register with `after_move`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import Connection, select

from server.db.engine import TOUCHED
from server.db.schema import balances, movements
from server.db.sql import insert_ignore, now
from server.errors import Refused
from server.ledger.clock import event_time
from server.locations.service import Loc

NEGATIVE = "negative stock"


@dataclass(frozen=True, slots=True)
class Origin:
    """Where a movement came from when a scan caused it."""

    event_id: str | None = None
    device_ts: int | None = None
    gateway_ts: int | None = None
    at: datetime | None = None  # an admin's stated time (a backdated adjustment); else clocks


@dataclass(frozen=True, slots=True)
class Allocation:
    lot: str
    expiry: date | None
    qty: int
    short: bool = False  # booked below zero under an `allow` policy


@dataclass(frozen=True, slots=True)
class Booked:
    """One movement row as written, handed to the `after_move` hooks."""

    id: int
    sku_id: int
    src: Loc
    dst: Loc
    qty: int
    lot: str
    kind: str
    ref: str
    event_at: datetime
    flags: str


_AFTER_MOVE: list[Callable[[Connection, Booked], None]] = []


def after_move(hook: Callable[[Connection, Booked], None]) -> Callable[[Connection, Booked], None]:
    """Register `hook(conn, booked)` to run after every movement row, in its transaction."""
    if hook not in _AFTER_MOVE:
        _AFTER_MOVE.append(hook)
    return hook


def _fefo_key(row: Allocation) -> tuple[bool, bool, date, str]:
    return (row.lot == "", row.expiry is None, row.expiry or date.max, row.lot)


def allocate(
    conn: Connection, sku_id: int, src: Loc, qty: int, lot: str | None
) -> list[Allocation]:
    """Lots to take qty from at src: the named lot, or FEFO (earliest expiry, lot-less last)."""
    query = (
        select(balances.c.lot, balances.c.expiry, balances.c.on_hand)
        .where(balances.c.sku_id == sku_id, balances.c.loc_id == src.id, balances.c.on_hand > 0)
        .with_for_update()
    )
    if lot is not None:
        query = query.where(balances.c.lot == lot)
    rows = [Allocation(r.lot, r.expiry, int(r.on_hand)) for r in conn.execute(query)]
    taken: list[Allocation] = []
    need = qty
    for row in sorted(rows, key=_fefo_key):
        if need == 0:
            break
        part = min(need, row.qty)
        taken.append(Allocation(row.lot, row.expiry, part))
        need -= part
    if need:
        if src.negative == "allow":
            taken.append(Allocation(lot or "", None, need, short=True))
            return taken
        have = qty - need
        what = f"lot {lot!r} " if lot else ""
        raise Refused("insufficient stock", f"{qty} asked, {have} {what}at {src.code}")
    return taken


def _add(conn: Connection, sku_id: int, loc: Loc, a: Allocation, sign: int) -> None:
    key = {"sku_id": sku_id, "loc_id": loc.id, "lot": a.lot}
    insert_ignore(
        conn, balances, {**key, "expiry": a.expiry, "on_hand": 0, "reserved": 0}, list(key)
    )
    where = [balances.c.sku_id == sku_id, balances.c.loc_id == loc.id, balances.c.lot == a.lot]
    if sign < 0 and loc.covered and not a.short:
        where.append(balances.c.on_hand >= a.qty)
    values: dict[str, object] = {"on_hand": balances.c.on_hand + sign * a.qty}
    if sign > 0 and a.expiry is not None:
        values["expiry"] = a.expiry
    done = conn.execute(balances.update().where(*where).values(**values)).rowcount
    if not done:
        raise Refused("insufficient stock", f"lot {a.lot!r} at {loc.code} ran out")
    conn.info.setdefault(TOUCHED, set()).add((sku_id, loc.id))


def move(
    conn: Connection,
    *,
    sku_id: int,
    src: Loc,
    dst: Loc,
    qty: int,
    kind: str,
    ref: str = "",
    lot: str | None = None,
    expiry: date | None = None,
    serial: str = "",
    origin: Origin | None = None,
    unit_cost: Decimal | None = None,
    reason: str = "",
) -> list[Allocation]:
    """Book qty from src to dst; several movements when FEFO splits across lots."""
    if qty <= 0:
        raise ValueError(f"qty must be positive, got {qty}")
    if src.covered:
        parts = allocate(conn, sku_id, src, qty, lot)
    else:
        parts = [Allocation(lot or "", expiry, qty)]
    origin = origin or Origin()
    booked_at = now()
    if origin.at is not None:
        when, clock = min(origin.at, booked_at), ""
    else:
        stamp = event_time(origin.device_ts, origin.gateway_ts, booked_at)
        when, clock = stamp.at, stamp.flag
    for part in parts:
        _add(conn, sku_id, src, part, -1)
        _add(conn, sku_id, dst, part, +1)
        flags = NEGATIVE if part.short else ""
        movement_id = conn.execute(
            movements.insert()
            .values(
                sku_id=sku_id,
                from_loc_id=src.id,
                to_loc_id=dst.id,
                qty=part.qty,
                lot=part.lot,
                expiry=part.expiry,
                serial=serial,
                kind=kind,
                ref=ref,
                event_id=origin.event_id,
                device_ts=origin.device_ts,
                gateway_ts=origin.gateway_ts,
                booked_at=booked_at,
                event_at=when,
                clock=clock,
                flags=flags,
                reason=reason,
                unit_cost=unit_cost,
            )
            .returning(movements.c.id)
        ).scalar_one()
        booked = Booked(movement_id, sku_id, src, dst, part.qty, part.lot, kind, ref, when, flags)
        for hook in _AFTER_MOVE:
            hook(conn, booked)
    return parts
