"""What one scan event books, per mode. Raises `Refused` with the protocol's reason; the
caller owns the transaction (a savepoint per event)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from sqlalchemy import Connection

from server.barcodes.resolve import resolve
from server.counts import service as counts
from server.errors import Refused
from server.ledger.movements import Origin, move
from server.locations import service as locations
from server.locations.service import Loc
from server.purchasing import receiving
from server.reservations import picking
from server.validation import MAX_QTY
from stockwire.wire import ScanEvent


def book(conn: Connection, ev: ScanEvent, gateway_ts: int | None = None) -> None:
    origin = Origin(event_id=ev.event_id, device_ts=ev.ts or None, gateway_ts=gateway_ts)
    loc = locations.real(conn, ev.loc)
    if ev.mode == "count-close":
        counts.close(conn, ev.ref, loc, origin)
        return
    locations.require_bin(loc)  # stock lives in bins, not in zones or warehouses
    item = resolve(conn, ev.code)
    qty = ev.qty * item.units
    if qty > MAX_QTY:
        raise Refused("bad event", f"{ev.qty} × {item.units} units = {qty}, above {MAX_QTY}")
    lot = item.lot or None

    def go(
        src: Loc,
        dst: Loc,
        lot: str | None,
        expiry: date | None = None,
        reason: str = "",
        unit_cost: Decimal | None = None,
    ) -> None:
        move(
            conn,
            sku_id=item.sku_id,
            src=src,
            dst=dst,
            qty=qty,
            kind=ev.mode,
            ref=ev.ref,
            lot=lot,
            expiry=expiry,
            serial=item.serial,
            origin=origin,
            reason=reason,
            unit_cost=unit_cost,
        )

    if ev.mode == "receive":
        cost = receiving.receive(conn, ev.ref, item.sku_id, qty)  # the PO line's or the SKU's
        supplier = locations.virtual(conn, locations.SUPPLIER)
        go(supplier, loc, item.lot, item.expiry, unit_cost=cost)
    elif ev.mode == "pick":
        customer = locations.virtual(conn, locations.CUSTOMER)
        picking.check_pick(conn, item.sku_id, loc, qty, ev.ref)  # not stock reserved for others
        go(loc, customer, lot)
    elif ev.mode == "return":
        customer = locations.virtual(conn, locations.CUSTOMER)
        if ev.ref.upper() in ("DAMAGED", "QUARANTINE"):  # not resellable: held apart
            quarantine = locations.virtual(conn, locations.QUARANTINE)
            go(customer, quarantine, item.lot, item.expiry, ev.ref.lower())
        else:
            go(customer, loc, item.lot, item.expiry)
    elif ev.mode == "transfer-out":
        if not ev.ref:
            raise Refused("unknown reference", "a transfer needs a reference (SW:REF)")
        transit = locations.transit(conn, ev.ref, create=True)
        assert transit is not None
        go(loc, transit, lot)
    elif ev.mode == "transfer-in":
        transit = locations.transit(conn, ev.ref, create=False) if ev.ref else None
        if transit is None:
            raise Refused("no open transfer", f"nothing in transit under {ev.ref!r}")
        try:
            go(transit, loc, lot)
        except Refused as exc:
            raise Refused("no open transfer", exc.detail) from exc
    elif ev.mode == "count":
        counts.record(conn, ev.ref, loc, item.sku_id, item.lot, qty, ev.dev, origin)
    else:
        raise Refused("bad event", f"mode {ev.mode!r}")
