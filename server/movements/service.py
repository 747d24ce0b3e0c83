"""Movements a clerk enters by hand: receive, pick, return, transfer (direct or through
in-transit), transfer-in and adjustment, each booked through `ledger.movements.move`, and the
idempotency keys that make a retried request answer the first time's movements instead of
booking again.

What each kind books (every location named must be a bin, except `quarantine` where said):
- receive: supplier → loc; a ref names a purchase order the receipt counts against (as a
  scanned receipt's does); the unit cost is the one given, else the PO line's, else the SKU's;
- pick: loc → customer (ref = the order: its reservation is consumed; stock reserved for
  other orders is not taken);
- return: customer → loc when `resellable`, customer → quarantine when `damaged` or
  `quarantine` (no loc then); the condition is kept as the movement's reason;
- transfer: from → to (kind `transfer`; from may be `quarantine`: inspected goods released
  to a bin), or with `via_transit` from → in-transit/<ref>
  (kind `transfer-out`, as a scanner's transfer-out books);
- transfer-in: in-transit/<ref> → to;
- adjustment: qty < 0 loc → inventory-loss, qty > 0 inventory-loss → loc, with a reason:
  damaged, expired, theft, lost take stock away; found adds; correction goes either way. A
  negative one may name `quarantine` as loc: quarantined goods written off.
An `at` in the past backdates the event time (it is not flagged); one more than five minutes
ahead of the ledger's clock is refused, a smaller lead is taken as now.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import orjson
from sqlalchemy import Connection, select

from server.catalog.service import sku_id
from server.db.schema import idempotency_keys
from server.db.sql import insert_ignore, iso, now
from server.errors import Conflict, Refused
from server.ledger.clock import MAX_SKEW_MS
from server.ledger.movements import Booked, Origin, after_move, move
from server.locations import service as locations
from server.locations.service import Loc
from server.movements import journal
from server.purchasing import receiving
from server.reservations import picking

SCOPE = "movements"
CONDITIONS = ("resellable", "damaged", "quarantine")
TAKE_AWAY = ("damaged", "expired", "theft", "lost")
ADD = ("found",)
EITHER = ("correction",)
REASONS = TAKE_AWAY + ADD + EITHER
_BOOKED = "sw_manual_booked"  # conn.info key: ids of the movements this request booked


@dataclass(frozen=True, slots=True)
class Manual:
    """One clerk's request, as the route parsed it."""

    kind: str  # receive | pick | return | transfer | transfer-in | adjustment
    sku: str
    qty: int  # signed for an adjustment, else positive
    loc: str | None = None  # receive, pick, return, adjustment
    src: str | None = None  # transfer: from
    dst: str | None = None  # transfer, transfer-in: to
    ref: str = ""
    condition: str = ""  # return
    via_transit: bool = False  # transfer
    reason: str = ""  # adjustment
    unit_cost: Decimal | None = None  # receive
    lot: str | None = None
    expiry: date | None = None
    at: datetime | None = None


@after_move
def _collect(conn: Connection, booked: Booked) -> None:
    ids = conn.info.get(_BOOKED)
    if ids is not None:
        ids.append(booked.id)


def _bad(detail: str) -> Refused:
    return Refused("bad movement", detail)


def _at(at: datetime | None) -> datetime | None:
    if at is None:
        return None
    at = at.replace(tzinfo=UTC) if at.tzinfo is None else at.astimezone(UTC)
    clock = now()
    if at > clock + timedelta(milliseconds=MAX_SKEW_MS):
        raise Refused(
            "bad time",
            f"at {iso(at)} is in the future (the ledger's time is "
            f"{iso(clock)}): give when it happened",
        )
    return min(at, clock)


def book(conn: Connection, m: Manual) -> list[dict[str, Any]]:
    """Book the request; the movement rows written, as the journal shows them."""
    booking = _Booking(conn, m, sku_id(conn, m.sku), Origin(at=_at(m.at)))
    ids: list[int] = []
    conn.info[_BOOKED] = ids
    try:
        booking.run()
    finally:
        conn.info.pop(_BOOKED, None)
    return journal.by_ids(conn, ids)


@dataclass(frozen=True, slots=True)
class _Booking:
    conn: Connection
    m: Manual
    sku_id: int
    origin: Origin

    def go(
        self,
        src: Loc,
        dst: Loc,
        qty: int,
        *,
        kind: str = "",
        reason: str = "",
        expiry: date | None = None,
        unit_cost: Decimal | None = None,
    ) -> None:
        move(
            self.conn,
            sku_id=self.sku_id,
            src=src,
            dst=dst,
            qty=qty,
            kind=kind or self.m.kind,
            ref=self.m.ref,
            lot=self.m.lot,
            expiry=expiry,
            origin=self.origin,
            unit_cost=unit_cost,
            reason=reason,
        )

    def bin(self, code: str | None, field: str) -> Loc:
        if code is None:
            raise _bad(f"a {self.m.kind} needs `{field}`: the bin")
        return locations.stock_bin(self.conn, code)

    def virtual(self, code: str) -> Loc:
        return locations.virtual(self.conn, code)

    def source(self, code: str | None, field: str) -> Loc:
        """A bin stock leaves, or `quarantine`: inspected goods are released to a bin or
        written off from there, and never below what it holds."""
        if code == locations.QUARANTINE:
            return replace(self.virtual(code), covered=True, negative="refuse")
        return self.bin(code, field)

    def run(self) -> None:
        m = self.m
        if m.expiry is not None and m.kind in ("pick", "transfer", "transfer-in"):
            raise _bad(f"a {m.kind} takes stock as it is: expiry is given when stock comes in")
        if m.kind == "receive":
            supplier, loc = self.virtual(locations.SUPPLIER), self.bin(m.loc, "loc")
            cost = receiving.receive(self.conn, m.ref, self.sku_id, m.qty)
            unit_cost = cost if m.unit_cost is None else m.unit_cost
            self.go(supplier, loc, m.qty, expiry=m.expiry, unit_cost=unit_cost)
        elif m.kind == "pick":
            loc = self.bin(m.loc, "loc")
            picking.check_pick(self.conn, self.sku_id, loc, m.qty, m.ref)
            self.go(loc, self.virtual(locations.CUSTOMER), m.qty)
        elif m.kind == "return":
            self.give_back()
        elif m.kind == "transfer":
            self.transfer()
        elif m.kind == "transfer-in":
            self.transfer_in()
        elif m.kind == "adjustment":
            self.adjust()
        else:
            raise _bad(f"kind {m.kind!r}")

    def give_back(self) -> None:
        m = self.m
        if m.condition not in CONDITIONS:
            raise _bad(f"condition {m.condition!r}: one of {', '.join(CONDITIONS)}")
        customer = self.virtual(locations.CUSTOMER)
        if m.condition == "resellable":
            dst = self.bin(m.loc, "loc")
        elif m.loc is not None:
            raise _bad(f"a {m.condition} return goes to quarantine: leave out loc ({m.loc})")
        else:
            dst = self.virtual(locations.QUARANTINE)
        self.go(customer, dst, m.qty, reason=m.condition, expiry=m.expiry)

    def transfer(self) -> None:
        m = self.m
        src = self.source(m.src, "from")
        if m.via_transit:
            if not m.ref:
                raise _bad("a transfer via transit needs a ref: the transfer's reference")
            if m.dst is not None:
                raise _bad(
                    f"a transfer via transit books to in-transit/{m.ref}; name the "
                    f"destination ({m.dst}) on its transfer-in"
                )
            transit = locations.transit(self.conn, m.ref, create=True)
            assert transit is not None
            self.go(src, transit, m.qty, kind="transfer-out")
            return
        dst = self.bin(m.dst, "to")
        if dst.id == src.id:
            raise _bad(f"from and to are both {src.code}")
        self.go(src, dst, m.qty)

    def transfer_in(self) -> None:
        m = self.m
        transit = locations.transit(self.conn, m.ref, create=False) if m.ref else None
        if transit is None:
            raise Refused("no open transfer", f"nothing in transit under {m.ref!r}")
        dst = self.bin(m.dst, "to")
        try:
            self.go(transit, dst, m.qty)
        except Refused as exc:
            raise Refused("no open transfer", exc.detail) from exc

    def adjust(self) -> None:
        m = self.m
        if m.reason not in REASONS:
            raise _bad(f"reason {m.reason!r}: one of {', '.join(REASONS)}")
        if m.qty == 0:
            raise _bad("an adjustment of 0 changes nothing")
        if m.qty > 0 and m.reason in TAKE_AWAY:
            raise _bad(f"{m.reason} stock leaves the bin: qty must be negative, got {m.qty}")
        if m.qty < 0 and m.reason in ADD:
            raise _bad(f"{m.reason} stock comes into the bin: qty must be positive, got {m.qty}")
        if m.qty < 0 and m.expiry is not None:
            raise _bad("expiry is given for stock that comes in (qty > 0)")
        loss = self.virtual(locations.INVENTORY_LOSS)
        loc = self.source(m.loc, "loc") if m.qty < 0 else self.bin(m.loc, "loc")
        if m.qty < 0:
            self.go(loc, loss, -m.qty, reason=m.reason)
        else:
            self.go(loss, loc, m.qty, reason=m.reason, expiry=m.expiry)


def _claim(conn: Connection, key: str, fingerprint: str) -> dict[str, Any] | None:
    """None when this request holds the key now; the first answer when it was used before.
    A concurrent twin waits on the key's row (PostgreSQL) or the write lock (SQLite)."""
    values = {
        "scope": SCOPE,
        "key": key,
        "fingerprint": fingerprint,
        "answer": "",
        "created_at": now(),
    }
    if insert_ignore(conn, idempotency_keys, values, ["scope", "key"]):
        return None
    k = idempotency_keys.c
    row = conn.execute(select(k.fingerprint, k.answer).where(k.scope == SCOPE, k.key == key)).one()
    if row.fingerprint != fingerprint:
        raise Conflict(
            "idempotency key reused",
            f"key {key!r} was sent before with a different movement: use a new key",
        )
    first: dict[str, Any] = orjson.loads(row.answer)
    return first


def post(
    conn: Connection, m: Manual, key: str | None, fingerprint: str
) -> tuple[dict[str, Any], bool]:
    """(answer, replayed): book the request once per idempotency key. A refused request
    stores nothing, so the same key may be sent again once the cause is fixed."""
    if key is not None and (first := _claim(conn, key, fingerprint)) is not None:
        return first, True
    answer = {"movements": book(conn, m), "idempotency_key": key}
    if key is not None:
        k = idempotency_keys.c
        conn.execute(
            idempotency_keys.update()
            .where(k.scope == SCOPE, k.key == key)
            .values(answer=orjson.dumps(answer).decode())
        )
    return answer, False
